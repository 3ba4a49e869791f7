// Command natsdemo shows marketwire's streams going through NATS JetStream,
// offline: an embedded NATS server with JetStream, the embedded spot
// simulator, two bridges publishing the same aggregate-trade streams (each
// with its own connection to the simulator) and a consumer that reads them
// back through the generated SubscribeAggTrade helper and prints typed
// trades. JetStream stores each trade once although both bridges publish
// it; halfway through, the first bridge stops and nothing is lost.
//
//	go run ./examples/natsdemo -for 5s     # or: make demo-nats
//
// The same programs against a real cluster: see the README's "Beyond one
// machine" section (marketwire bridge and marketwire tail -nats).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/natsbridge"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/synth"
)

func main() {
	runFor := flag.Duration("for", 0, "stop after this long (0: until interrupted)")
	symbols := flag.String("symbols", "BTCUSDT,ETHUSDT", "comma-separated symbols")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *runFor > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *runFor)
		defer cancel()
	}
	if err := run(ctx, strings.Split(*symbols, ","), os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "natsdemo:", err)
		os.Exit(1)
	}
}

// run runs the demo until ctx ends.
func run(ctx context.Context, symbols []string, out, logw io.Writer) error {
	dir, err := os.MkdirTemp("", "natsdemo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		return err
	}
	go ns.Start()
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	if !ns.ReadyForConnections(10 * time.Second) {
		return fmt.Errorf("the embedded NATS server did not start")
	}
	fmt.Fprintf(logw, "# NATS server with JetStream at %s\n", ns.ClientURL())

	exch, err := synth.Server("spot", uint64(time.Now().UnixNano()), sim.WithPublishInterval(100*time.Millisecond))
	if err != nil {
		return err
	}
	if err := exch.Start(); err != nil {
		return err
	}
	defer exch.Close()

	var streams []runtime.Stream
	for _, s := range symbols {
		streams = append(streams, spot.AggTradeParams{Symbol: s}.Stream())
	}

	// Two bridges, each with its own NATS and exchange connections, as two
	// collector hosts would have.
	type bridge struct {
		nc *nats.Conn
		c  *runtime.Conn
		b  *natsbridge.Bridge
	}
	var bridges []*bridge
	defer func() {
		for _, b := range bridges {
			b.b.Close()
			b.c.Close()
			b.nc.Close()
		}
	}()
	for range 2 {
		nc, err := nats.Connect(ns.ClientURL())
		if err != nil {
			return err
		}
		c, err := runtime.Dial(ctx, &spot.Market, runtime.WithURL(exch.URL()))
		if err != nil {
			nc.Close()
			return err
		}
		b, err := natsbridge.NewBridge(ctx, nc)
		if err == nil {
			_, err = b.Add(ctx, c, streams)
		}
		if b != nil {
			bridges = append(bridges, &bridge{nc, c, b})
		}
		if err != nil {
			c.Close()
			nc.Close()
			return err
		}
	}
	fmt.Fprintf(logw, "# two bridges publish %d streams to JetStream stream %s, subjects %s\n", len(streams), natsbridge.DefaultStream, natsbridge.SubjectPrefix+".spot.<stream>")

	// The consumer: the generated helper, on a Source instead of a Conn.
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		return err
	}
	defer nc.Close()
	src, err := natsbridge.NewSource(nc, &spot.Market, natsbridge.StartAll(), natsbridge.WithFeedOptions(runtime.OnEvent(func(e runtime.Event) {
		fmt.Fprintln(logw, "# consumer:", e)
	})))
	if err != nil {
		return err
	}
	defer src.Close()
	var mu sync.Mutex
	n := 0
	for _, s := range symbols {
		_, err := spot.SubscribeAggTrade(ctx, src, spot.AggTradeParams{Symbol: s}, func(ev *spot.AggTradeEvent) {
			mu.Lock()
			defer mu.Unlock()
			n++
			side := "buy "
			if ev.IsBuyerMaker {
				side = "sell"
			}
			fmt.Fprintf(out, "%s  %-8s #%-6d %s %14s x %s\n", ev.TradeTime.Time().Format("15:04:05.000"), ev.Symbol, ev.AggTradeID, side, ev.Price, ev.Quantity)
		})
		if err != nil {
			return err
		}
	}

	// Halfway (or after two seconds without -for), stop the first bridge.
	half := 2 * time.Second
	if d, ok := ctx.Deadline(); ok {
		half = time.Until(d) / 2
	}
	select {
	case <-ctx.Done():
	case <-time.After(half):
		bridges[0].b.Close()
		fmt.Fprintf(logw, "# bridge 1 stopped after publishing %d trades; bridge 2 goes on\n", handled(bridges[0].b.Stats()))
		<-ctx.Done()
	}
	mu.Lock()
	defer mu.Unlock()
	var sent uint64
	for _, b := range bridges {
		sent += handled(b.b.Stats())
	}
	stored := uint64(0)
	if js, err := jetstream.New(nc); err == nil {
		if st, err := js.Stream(context.Background(), natsbridge.DefaultStream); err == nil {
			if info, err := st.Info(context.Background()); err == nil {
				stored = info.State.Msgs
			}
		}
	}
	fmt.Fprintf(logw, "# the consumer printed %d trades; the bridges published %d between them and JetStream holds %d, one of each; consumer gaps: %d\n", n, sent, stored, src.Stats().Gaps)
	return nil
}

// handled is the number of trades a bridge published, whether JetStream
// stored them or had them already from the other bridge.
func handled(st natsbridge.BridgeStats) uint64 {
	return st.Published + st.Duplicates + st.Batched + st.Skipped
}
