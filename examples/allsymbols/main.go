// Command allsymbols subscribes to the aggregate trades and book tickers of
// every spot symbol at once, thousands of streams, and prints one summary
// line a second: streams, connections, messages per second, drops. The
// runtime spreads the streams over as many connections as the exchange's
// 1,024 streams per connection require and batches the subscribes within
// its 5 messages per second.
//
// The embedded simulator serves any symbol, so by default the example makes
// up -n of them (AAAUSDT, AABUSDT, …), about as many as Binance spot lists.
// With -live (or -endpoint) give the symbols: -symbols BTCUSDT,ETHUSDT or
// -symbols-file with one symbol a line (blank lines and lines starting
// with # are skipped).
//
//	go run ./examples/allsymbols -for 10s
//	go run ./examples/allsymbols -live -symbols-file symbols.txt
//
// Like every example it runs until interrupted (Ctrl-C or SIGTERM), or for
// the duration -for gives.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/marketwire/marketwire/examples/internal/connect"
	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/runtime"
)

var (
	count       = flag.Int("n", 1500, "against the simulator, how many made-up symbols to subscribe (at most 17,576)")
	symbolsFlag = flag.String("symbols", "", "comma-separated symbols (required with -live or -endpoint, unless -symbols-file)")
	symbolsFile = flag.String("symbols-file", "", "file of symbols, one a line")
)

func main() {
	connect.Main("spot", func(ctx context.Context, c *runtime.Conn) error {
		syms, err := symbols()
		if err != nil {
			return err
		}
		return run(ctx, c, syms, os.Stdout)
	})
}

// symbols returns the symbols the flags name, or -n made-up ones against
// the simulator.
func symbols() ([]string, error) {
	var out []string
	for _, s := range strings.Split(*symbolsFlag, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	if *symbolsFile != "" {
		f, err := os.Open(*symbolsFile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if s := strings.TrimSpace(sc.Text()); s != "" && !strings.HasPrefix(s, "#") {
				out = append(out, s)
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", *symbolsFile, err)
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	if flagSet("live") || flagSet("endpoint") {
		return nil, errors.New("with -live or -endpoint, give the symbols with -symbols or -symbols-file")
	}
	if *count < 1 || *count > 26*26*26 {
		return nil, fmt.Errorf("-n %d: want 1 to %d", *count, 26*26*26)
	}
	return madeUp(*count), nil
}

// flagSet reports whether the command line set flag name.
func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// madeUp returns n symbols: AAAUSDT, AABUSDT, …
func madeUp(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = string([]byte{'A' + byte(i/676%26), 'A' + byte(i/26%26), 'A' + byte(i%26)}) + "USDT"
	}
	return out
}

// run subscribes the aggTrade and bookTicker streams of syms and writes a
// summary line to out every second until ctx ends.
func run(ctx context.Context, c *runtime.Conn, syms []string, out io.Writer) error {
	ps := make([]spot.StreamParams, 0, 2*len(syms))
	for _, s := range syms {
		ps = append(ps, spot.AggTradeParams{Symbol: s}, spot.BookTickerParams{Symbol: s})
	}
	for _, p := range ps {
		if err := p.Validate(); err != nil {
			return err
		}
	}
	var trades, tickers atomic.Uint64
	handle := func(p spot.Payload) {
		switch p.(type) {
		case *spot.AggTradeEvent:
			trades.Add(1)
		case *spot.BookTickerEvent:
			tickers.Add(1)
		}
	}

	// The summary runs while SubscribeAll waits for the confirmations.
	var subs atomic.Pointer[[]*runtime.Subscription]
	done := make(chan struct{})
	go func() {
		defer close(done)
		summarize(ctx, c, &subs, &trades, &tickers, out)
	}()
	defer func() { <-done }()

	start := time.Now()
	all, err := spot.SubscribeAll(ctx, c, ps, handle)
	if ctx.Err() != nil {
		return nil // stopped while subscribing
	}
	refused := 0
	for _, s := range all {
		if s == nil {
			refused++
		}
	}
	subs.Store(&all)
	log.Printf("%d of %d streams confirmed in %v", len(ps)-refused, len(ps), time.Since(start).Round(time.Millisecond))
	if err != nil {
		// Refused streams are not fatal: the others flow. Show why, briefly.
		msg := err.Error()
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i] + " …"
		}
		log.Printf("%d refused: %s", refused, msg)
	}
	<-ctx.Done()
	return nil
}

// summarize writes one line a second: the streams the connections carry,
// the connections with their streams and control messages sent in the last
// second, messages per second by kind, and the events dropped so far.
func summarize(ctx context.Context, c *runtime.Conn, subs *atomic.Pointer[[]*runtime.Subscription], trades, tickers *atomic.Uint64, out io.Writer) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last, lastT, lastB := time.Now(), trades.Load(), tickers.Load()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			st := c.Stats()
			streams, sent := 0, 0
			per := make([]string, len(st.Connections))
			for i, cs := range st.Connections {
				streams += cs.Streams
				sent += cs.SentLastSecond
				per[i] = fmt.Sprint(cs.Streams)
			}
			var dropped uint64
			if p := subs.Load(); p != nil {
				for _, s := range *p {
					if s != nil {
						dropped += s.Dropped()
					}
				}
			}
			t, b := trades.Load(), tickers.Load()
			secs := now.Sub(last).Seconds()
			fmt.Fprintf(out, "%s  streams %d  connections %d (%s)  msg/s %.0f (aggTrade %.0f, bookTicker %.0f)  dropped %d  control msgs/s %d\n",
				now.Format("15:04:05"), streams, len(st.Connections), strings.Join(per, "+"),
				float64(t-lastT+b-lastB)/secs, float64(t-lastT)/secs, float64(b-lastB)/secs, dropped, sent)
			last, lastT, lastB = now, t, b
		}
	}
}
