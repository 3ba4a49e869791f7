// Command mwgen generates the marketwire bindings from the schema.
//
//	mwgen -schema schema/streams.yaml -out generated           # regenerate
//	mwgen -schema schema/streams.yaml -out generated -verify   # fail if stale
//	mwgen -schema schema/streams.yaml -check                   # validate only
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/marketwire/marketwire/gen"
)

func main() {
	schema := flag.String("schema", "schema/streams.yaml", "schema file")
	out := flag.String("out", "generated", "output directory")
	module := flag.String("import", "github.com/marketwire/marketwire/generated", "import path of the output directory")
	check := flag.Bool("check", false, "only load and validate the schema")
	verify := flag.Bool("verify", false, "compare the output with the files on disk instead of writing")
	flag.Parse()
	if err := run(*schema, *out, *module, *check, *verify); err != nil {
		fmt.Fprintln(os.Stderr, "mwgen:", err)
		os.Exit(1)
	}
}

func run(schema, out, module string, check, verify bool) error {
	files, err := gen.Generate(schema, module)
	if err != nil || check {
		return err
	}
	if verify {
		problems, err := gen.Verify(out, files)
		if err != nil {
			return err
		}
		if len(problems) > 0 {
			return gen.StaleError(problems)
		}
		return nil
	}
	return gen.Write(out, files)
}
