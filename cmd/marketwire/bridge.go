package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/marketwire/marketwire/natsbridge"
	"github.com/marketwire/marketwire/runtime"
)

// natsFlags are the flags that say which NATS servers and JetStream stream
// bridge and tail -nats use.
type natsFlags struct {
	urls     string
	stream   string
	replicas int
}

func (n *natsFlags) flags(fs *flag.FlagSet, what string) {
	fs.StringVar(&n.urls, "nats", n.urls, what)
	fs.StringVar(&n.stream, "stream", natsbridge.DefaultStream, "the JetStream stream")
}

// connect connects to the NATS servers, reconnecting for ever.
func (n *natsFlags) connect(name string, log *eventLog) (*nats.Conn, error) {
	nc, err := nats.Connect(n.urls,
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.printf("# nats: disconnected: %v", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.printf("# nats: reconnected to %s", nc.ConnectedUrlRedacted()) }),
	)
	if err != nil {
		return nil, fmt.Errorf("nats %s: %w", n.urls, err)
	}
	return nc, nil
}

// bridgeCmd publishes streams to NATS JetStream.
func bridgeCmd(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := flag.NewFlagSet("bridge", flag.ContinueOnError)
	var src source
	src.flags(fs)
	nf := natsFlags{urls: nats.DefaultURL}
	nf.flags(fs, "NATS server URLs, separated by commas (any servers of one cluster)")
	fs.IntVar(&nf.replicas, "replicas", 1, "replicas of the JetStream stream, when the bridge creates it")
	runFor := fs.Duration("for", 0, "stop after this long (0: until interrupted)")
	every := fs.Duration("status", 10*time.Second, "print counters this often (0: only at the end)")
	names, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if nf.replicas < 1 || nf.replicas > 5 {
		return bad("-replicas %d: want 1 to 5", nf.replicas)
	}
	if err := src.parse(names); err != nil {
		return err
	}
	if *runFor > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *runFor)
		defer cancel()
	}
	log := &eventLog{w: stderr}
	nc, err := nf.connect("marketwire bridge", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	cfg := natsbridge.StreamConfig(nf.stream)
	cfg.Replicas = nf.replicas
	b, err := natsbridge.NewBridge(ctx, nc, natsbridge.WithStreamConfig(cfg), natsbridge.OnError(func(err error) {
		log.printf("# %v", err)
	}))
	if err != nil {
		return err
	}
	c, closeConn, err := src.dial(ctx, log)
	if err != nil {
		b.Close()
		return err
	}
	var streams []runtime.Stream
	for _, p := range src.streams {
		streams = append(streams, runtimeStream(p))
	}
	subs, err := b.Add(ctx, c, streams)
	if err != nil && ctx.Err() == nil {
		b.Close()
		closeConn()
		return err
	}
	log.printf("# bridging %d streams of %s from %s to %s, JetStream stream %s, subjects %s",
		len(streams), src.market, src.where(), nc.ConnectedUrlRedacted(), nf.stream, natsbridge.Subject(src.market, "*"))
	status := func(verb string) {
		st := b.Stats()
		var dropped uint64
		for _, s := range subs {
			if s != nil {
				dropped += s.Dropped()
			}
		}
		log.printf("%s %d messages (%d already stored by another bridge), %d publish retries, %d dropped, %d unpublished, last sequence %d",
			verb, st.Published, st.Duplicates, st.Retries, dropped, st.Unpublished, st.LastSeq)
	}
	var tick <-chan time.Time
	if *every > 0 {
		t := time.NewTicker(*every)
		defer t.Stop()
		tick = t.C
	}
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick:
			status("published")
		}
	}
	b.Close()
	closeConn()
	status("published")
	return nil
}

// natsTail is tail's source when -nats is given: the streams read back
// from JetStream, as bridges published them.
func natsTail(nf *natsFlags, start string, src *source, log *eventLog) (runtime.Source, func(), error) {
	from, err := startOption(start)
	if err != nil {
		return nil, nil, err
	}
	nc, err := nf.connect("marketwire tail", log)
	if err != nil {
		return nil, nil, err
	}
	s, err := natsbridge.NewSource(nc, src.cat.m.Info, from, natsbridge.WithStream(nf.stream), natsbridge.WithFeedOptions(runtime.OnEvent(log.event)))
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return s, func() { s.Close(); nc.Close() }, nil
}

// startOption parses tail's -start: new, all, an RFC 3339 time or a
// JetStream stream sequence.
func startOption(s string) (natsbridge.Option, error) {
	switch s {
	case "", "new":
		return natsbridge.StartNew(), nil
	case "all":
		return natsbridge.StartAll(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return natsbridge.StartAt(t), nil
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil && n > 0 {
		return natsbridge.StartSequence(n), nil
	}
	return nil, bad("-start %q: want new, all, an RFC 3339 time or a stream sequence (from 1)", s)
}
