package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/marketwire/marketwire/record"
	"github.com/marketwire/marketwire/runtime"
)

// recordCmd records the raw frames of streams to a file.
func recordCmd(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	var src source
	src.flags(fs)
	out := fs.String("o", "", "the recording to write (required); with rotation NAME-0001.EXT, NAME-0002.EXT, ...")
	var rotSize byteSize
	fs.Var(&rotSize, "rotate-size", "start a new file once this many bytes are written, such as 100M (0: never)")
	rotEvery := fs.Duration("rotate-every", 0, "start a new file after this long (0: never)")
	limit := fs.Int("n", 0, "stop after this many frames (0: no limit)")
	runFor := fs.Duration("for", 0, "stop after this long (0: until interrupted)")
	checkDrift := fs.Bool("drift", true, "decode every frame with its stream's decoder too, and print the drift report after the summary: keys and event kinds the schema does not know, required keys missing")
	names, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if *out == "" {
		return bad("-o FILE is required")
	}
	if *rotEvery < 0 {
		return bad("-rotate-every %v is negative", *rotEvery)
	}
	if err := src.parse(names); err != nil {
		return err
	}
	files := &rotator{
		base:   *out,
		rotate: rotSize > 0 || *rotEvery > 0,
		size:   int64(rotSize),
		every:  *rotEvery,
		header: record.Header{Market: src.market, Streams: src.names(), Source: src.where()},
	}
	if err := files.next(); err != nil {
		return badInput{err}
	}
	if *runFor > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *runFor)
		defer cancel()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	log := &eventLog{w: stderr}
	c, closeConn, err := src.dial(ctx, log)
	if err != nil {
		files.close()
		return err
	}
	var frames atomic.Int64
	var subs []*runtime.Subscription
	for _, p := range src.streams {
		st := runtimeStream(p)
		typed, dialect := st, &src.cat.m.Info.Dialect
		name := st.Name
		st.Whole, st.Seq, st.NewDecoder = true, nil, nil // the frame as received, envelope included
		st.Decode = func(b []byte) (any, error) {
			f := record.Frame{Time: time.Now(), Stream: name, Data: bytes.Clone(b)}
			if *checkDrift {
				// Decoded only to count drift; a frame that does not
				// decode is recorded all the same.
				if in, err := record.Payload(dialect, typed, b); err == nil {
					typed.Decode(in)
				}
			}
			return f, nil
		}
		sub, err := c.Subscribe(ctx, st, func(v any) {
			k := frames.Add(1)
			if *limit > 0 && k > int64(*limit) {
				return
			}
			if err := files.write(v.(record.Frame)); err != nil {
				log.printf("marketwire record: %v", err)
				cancel()
			}
			if *limit > 0 && k == int64(*limit) {
				cancel()
			}
		}, runtime.WithOverflow(runtime.Block))
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			closeConn()
			files.close()
			return err
		}
		subs = append(subs, sub)
	}

	start := time.Now()
	tty := isTerminal(stderr)
	last, lastAt := int64(0), start // for the rate
	status := func(final bool) string {
		st := files.stats()
		el := time.Since(start)
		var dropped uint64
		for _, s := range subs {
			dropped += s.Dropped()
		}
		verb, rate := "recording", ""
		if final {
			verb = "recorded"
		} else if d := time.Since(lastAt); d > 0 {
			rate = fmt.Sprintf(", %.0f msg/s", float64(st.Frames-last)/d.Seconds())
			last, lastAt = st.Frames, time.Now()
		}
		return fmt.Sprintf("%s %d streams: %d messages, %s of frames, %s written to %s%s, %d dropped, %d reconnects, %s",
			verb, len(src.streams), st.Frames, size(st.Bytes), size(st.Written), files.names(), rate, dropped, log.reconnected(), el.Round(100*time.Millisecond))
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var werr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
			if werr = files.flush(); werr != nil {
				break loop
			}
			if tty {
				log.setStatus(status(false))
			}
		}
	}
	closeConn() // no handler runs after this
	if err := files.close(); werr == nil {
		werr = err
	}
	log.printf("%s", status(true))
	if *checkDrift {
		printDrift(log, false) // nothing when there is no drift
	}
	return werr
}

// where says where s connects, for the header.
func (s *source) where() string {
	switch {
	case s.endpoint != "":
		return s.endpoint
	case s.live:
		return s.cat.m.Info.Endpoints[0].Name
	}
	return "simulator"
}

// rotator writes frames to the current file and starts new ones by size
// or age.
type rotator struct {
	base   string
	rotate bool
	size   int64
	every  time.Duration
	header record.Header

	mu      sync.Mutex
	file    *os.File
	w       *record.Writer
	opened  time.Time
	n       int      // files opened
	written []string // their names
	done    record.Stats
}

// name returns the name of file i (from 1).
func (r *rotator) name(i int) string {
	if !r.rotate {
		return r.base
	}
	ext := filepath.Ext(r.base)
	return fmt.Sprintf("%s-%04d%s", strings.TrimSuffix(r.base, ext), i, ext)
}

// next closes the current file, if any, and starts the next one.
func (r *rotator) next() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.closeLocked(); err != nil {
		return err
	}
	name := r.name(r.n + 1)
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	h := r.header
	h.Created = time.Now().UTC()
	w, err := record.NewWriter(f, h)
	if err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", name, err)
	}
	r.file, r.w, r.opened = f, w, time.Now()
	r.n++
	r.written = append(r.written, name)
	return nil
}

func (r *rotator) write(f record.Frame) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.w == nil {
		return nil
	}
	return r.w.Write(f)
}

// flush writes a block of the frames gathered and starts a new file when
// the current one is big or old enough.
func (r *rotator) flush() error {
	r.mu.Lock()
	w := r.w
	r.mu.Unlock()
	if w == nil {
		return nil
	}
	if err := w.Flush(); err != nil {
		return err
	}
	st := w.Stats()
	if r.size > 0 && st.Written >= r.size || r.every > 0 && time.Since(r.opened) >= r.every {
		return r.next()
	}
	return nil
}

func (r *rotator) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closeLocked()
}

func (r *rotator) closeLocked() error {
	if r.w == nil {
		return nil
	}
	err := r.w.Close()
	st := r.w.Stats()
	r.done.Frames += st.Frames
	r.done.Bytes += st.Bytes
	r.done.Written += st.Written
	if serr := r.file.Sync(); err == nil {
		err = serr
	}
	if cerr := r.file.Close(); err == nil {
		err = cerr
	}
	r.w, r.file = nil, nil
	return err
}

// stats returns the totals over every file.
func (r *rotator) stats() record.Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.done
	if r.w != nil {
		cur := r.w.Stats()
		st.Frames += cur.Frames
		st.Bytes += cur.Bytes
		st.Written += cur.Written
	}
	return st
}

// names describes the files written.
func (r *rotator) names() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.written) == 1 {
		return r.written[0]
	}
	return fmt.Sprintf("%d files %s ... %s", len(r.written), r.written[0], r.written[len(r.written)-1])
}

// byteSize is a flag of a number of bytes, with an optional suffix K, M or
// G (powers of 1024).
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	mult := int64(1)
	t := strings.TrimSuffix(strings.ToUpper(s), "B")
	if t != "" {
		switch t[len(t)-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		}
		if mult > 1 {
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a size such as 100M", s)
	}
	*b = byteSize(n * mult)
	return nil
}

// size formats a byte count.
func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
