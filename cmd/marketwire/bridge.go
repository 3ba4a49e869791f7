package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/marketwire/marketwire/natsbridge"
	"github.com/marketwire/marketwire/orderbook"
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
	booksFlag := fs.String("books", "", "symbols, separated by commas, whose local order books the bridge keeps (REST snapshot and diff stream, which it also bridges) and publishes snapshots of, for natsbridge.OpenBook")
	bookEvery := fs.Duration("book-every", 5*time.Second, "with -books: publish each book's snapshot this often")
	names, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if nf.replicas < 1 || nf.replicas > 5 {
		return bad("-replicas %d: want 1 to 5", nf.replicas)
	}
	var symbols []string
	if *booksFlag != "" {
		for _, sym := range strings.Split(*booksFlag, ",") {
			if sym = strings.TrimSpace(sym); sym != "" {
				symbols = append(symbols, sym)
			}
		}
		if len(symbols) == 0 {
			return bad("-books %q: no symbol", *booksFlag)
		}
		if *bookEvery <= 0 {
			return bad("-book-every %v: want a positive duration", *bookEvery)
		}
		src.noStreams = true
	}
	if err := src.parse(names); err != nil {
		return err
	}
	spec := src.cat.m.OrderBook
	if len(symbols) > 0 && (spec == nil || spec.DiffStream == nil) {
		return bad("-books: market %s has no diff-stream order book (a REST snapshot and a diff stream)", src.market)
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
	for _, sym := range symbols {
		st, err := spec.DiffStream(sym)
		if err != nil {
			b.Close()
			closeConn()
			return badInput{fmt.Errorf("-books: %w", err)}
		}
		if !slices.ContainsFunc(streams, func(s runtime.Stream) bool { return s.Name == st.Name }) {
			streams = append(streams, st)
		}
	}
	subs, err := b.Add(ctx, c, streams)
	if err != nil && ctx.Err() == nil {
		b.Close()
		closeConn()
		return err
	}
	books, pub, bookConn, err := publishBooks(ctx, nc, spec, symbols, *bookEvery, &src, nf.stream, log)
	if err != nil && ctx.Err() == nil {
		b.Close()
		closeConn()
		return err
	}
	closeBooks := func() {
		if pub != nil {
			pub.Close()
		}
		for _, bk := range books {
			bk.Close()
		}
		if bookConn != nil {
			bookConn.Close()
		}
	}
	how := "in fast batches"
	if !b.Batches() {
		how = "one message at a time (the JetStream stream does not allow batch publishing)"
	}
	log.printf("# bridging %d streams of %s from %s to %s, JetStream stream %s, subjects %s, %s",
		len(streams), src.market, src.where(), nc.ConnectedUrlRedacted(), nf.stream, natsbridge.Subject(src.market, "*"), how)
	status := func(verb string) {
		st := b.Stats()
		var dropped uint64
		for _, s := range subs {
			if s != nil {
				dropped += s.Dropped()
			}
		}
		log.printf("%s %d messages in fast batches and %d one at a time (%d already stored by another bridge), %d publish retries, %d dropped, %d unpublished, last sequence %d",
			verb, st.Batched, st.Published, st.Duplicates, st.Retries, dropped, st.Unpublished, st.LastSeq)
		if pub != nil {
			ps := pub.Stats()
			log.printf("%s %d book snapshots (%d already stored by another bridge), %d failed, %d skipped while not synced",
				verb, ps.Published, ps.Duplicates, ps.Failed, ps.NotSynced)
		}
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
	closeBooks()
	b.Close()
	closeConn()
	status("published")
	return nil
}

// publishBooks opens the local order books of symbols on a connection of
// their own (on the Bridge's, a book would receive the Bridge's values of
// the diff stream it shares), their snapshots from the market's REST host
// (the simulator's without -live or -endpoint), and publishes their
// snapshots every period on natsbridge.BookSubject. With no symbols it
// does nothing.
func publishBooks(ctx context.Context, nc *nats.Conn, spec *orderbook.Spec, symbols []string, every time.Duration, src *source, stream string, log *eventLog) ([]*orderbook.Book, *natsbridge.BookPublisher, *runtime.Conn, error) {
	if len(symbols) == 0 {
		return nil, nil, nil, nil
	}
	c, err := src.redial(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	opts := []orderbook.Option{orderbook.OnEvent(func(e orderbook.Event) { log.printf("# %s book %s", e.Time.Format("15:04:05.000"), e) })}
	switch {
	case src.rest != "":
		opts = append(opts, orderbook.WithREST(src.rest))
	case src.env != "":
		opts = append(opts, orderbook.WithEnvironment(src.env))
	}
	var books []*orderbook.Book
	closeAll := func() {
		for _, bk := range books {
			bk.Close()
		}
		c.Close()
	}
	for _, sym := range symbols {
		bk, err := orderbook.Open(ctx, c, spec, sym, opts...)
		if err != nil {
			closeAll()
			return nil, nil, nil, fmt.Errorf("-books %s: %w", sym, err)
		}
		books = append(books, bk)
	}
	pub, err := natsbridge.NewBookPublisher(ctx, nc, every, natsbridge.WithStream(stream), natsbridge.OnError(func(err error) { log.printf("# %v", err) }))
	if err == nil {
		err = pub.Add(books...)
	}
	if err != nil {
		if pub != nil {
			pub.Close()
		}
		closeAll()
		return nil, nil, nil, err
	}
	var subjects []string
	for _, sym := range symbols {
		subjects = append(subjects, natsbridge.BookSubject(src.market, sym))
	}
	log.printf("# publishing book snapshots every %v on %s", every, strings.Join(subjects, ", "))
	return books, pub, c, nil
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
