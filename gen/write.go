package gen

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The generator owns every directory directly under the output directory
// except testdata: it removes them before writing, so a market deleted from
// the schema disappears with its package.

// Generate loads, validates and emits the schema, returning the files.
func Generate(schemaPath, importBase string) (map[string][]byte, error) {
	s, err := LoadFile(schemaPath)
	if err != nil {
		return nil, err
	}
	m, err := NewModel(s)
	if err != nil {
		return nil, err
	}
	return Emit(m, importBase)
}

// Write replaces the generated packages under dir with files.
func Write(dir string, files map[string][]byte) error {
	owned, err := ownedDirs(dir)
	if err != nil {
		return err
	}
	for _, d := range owned {
		if err := os.RemoveAll(filepath.Join(dir, d)); err != nil {
			return err
		}
	}
	for _, name := range sortedKeys(files) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Verify compares files with what is on disk under dir and returns one line
// per stale, missing or extra file.
func Verify(dir string, files map[string][]byte) ([]string, error) {
	var problems []string
	onDisk := map[string]bool{}
	owned, err := ownedDirs(dir)
	if err != nil {
		return nil, err
	}
	for _, d := range owned {
		err := filepath.WalkDir(filepath.Join(dir, d), func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			onDisk[filepath.ToSlash(rel)] = true
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for _, name := range sortedKeys(files) {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		switch {
		case err != nil:
			problems = append(problems, name+": missing")
		case !bytes.Equal(got, files[name]):
			problems = append(problems, name+": stale")
		}
		delete(onDisk, name)
	}
	for _, name := range sortedKeys(onDisk) {
		problems = append(problems, name+": not generated from the schema")
	}
	return problems, nil
}

func ownedDirs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "testdata" && !strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// StaleError is returned by the command when generated code is out of date.
func StaleError(problems []string) error {
	return fmt.Errorf("generated code is out of date; run `make generate` and commit the result:\n  %s", strings.Join(problems, "\n  "))
}
