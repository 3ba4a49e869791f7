package main

import (
	"context"
	"flag"
	"io"
	"sync"
	"time"

	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/runtime"
)

// tailCmd prints the typed events of streams, one line each.
func tailCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tail", flag.ContinueOnError)
	var src source
	src.flags(fs)
	asJSON := fs.Bool("json", false, "print JSON lines {\"stream\":...,\"data\":...}, re-encoded by the generated encoders")
	limit := fs.Int("n", 0, "stop after this many events (0: no limit)")
	runFor := fs.Duration("for", 0, "stop after this long (0: until interrupted)")
	showDrift := fs.Bool("drift", false, "print the drift report on stderr at the end and every minute: keys and event kinds the schema does not know, required keys missing")
	var nf natsFlags
	nf.flags(fs, "read the streams from NATS JetStream, as marketwire bridge publishes them, through these server URLs (separated by commas) instead of from the exchange")
	start := fs.String("start", "new", "with -nats: where each stream starts: new, all, an RFC 3339 time or a JetStream stream sequence")
	names, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if err := src.parse(names); err != nil {
		return err
	}
	if *runFor > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *runFor)
		defer cancel()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	log := &eventLog{w: stderr}
	var c runtime.Source
	var closeAll func()
	if nf.urls != "" {
		c, closeAll, err = natsTail(&nf, *start, &src, log)
	} else {
		c, closeAll, err = src.dial(ctx, log)
	}
	if err != nil {
		return err
	}
	stopDrift := func() {}
	if *showDrift {
		stopDrift = watchDrift(ctx, log)
	}
	defer func() {
		closeAll() // no decoding after this
		if *showDrift {
			stopDrift()
			printDrift(log, true)
		}
	}()

	var mu sync.Mutex // one line at a time, and the count
	var buf []byte
	n := 0
	var werr error
	for _, p := range src.streams {
		name := p.StreamName()
		_, err := c.Subscribe(ctx, runtimeStream(p), func(v any) {
			pl, ok := v.(markets.Payload)
			if !ok {
				return
			}
			now := time.Now()
			mu.Lock()
			defer mu.Unlock()
			if *limit > 0 && n >= *limit || werr != nil {
				return
			}
			n++
			if *asJSON {
				buf = appendJSONLine(buf[:0], name, pl)
			} else {
				buf = appendLine(buf[:0], now, name, pl)
			}
			if _, werr = stdout.Write(buf); werr != nil || *limit > 0 && n >= *limit {
				cancel()
			}
		}, runtime.WithOverflow(runtime.Block))
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return err
		}
	}
	<-ctx.Done()
	mu.Lock()
	defer mu.Unlock()
	return werr
}

// appendJSONLine appends {"stream":name,"data":<payload>} and a newline.
func appendJSONLine(b []byte, stream string, p markets.Payload) []byte {
	b = append(b, `{"stream":`...)
	b = appendQuoted(b, stream)
	b = append(b, `,"data":`...)
	b = p.AppendJSON(b)
	return append(b, "}\n"...)
}
