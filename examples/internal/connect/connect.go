// Package connect gives the examples their common flags: by default they run
// against marketwire's embedded exchange simulator; -live uses the market's
// real production endpoint and -endpoint any other base URL.
package connect

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/synth"
)

var (
	live     = flag.Bool("live", false, "connect to the real exchange instead of the embedded simulator")
	endpoint = flag.String("endpoint", "", "base URL to connect to (overrides -live), e.g. ws://127.0.0.1:9001")
	runFor   = flag.Duration("for", 10*time.Second, "how long to run; 0 runs until interrupted")
)

// Main parses the flags (register an example's own flags before calling
// it), connects to the market and calls run, then waits until -for has
// passed or the program is interrupted, and closes everything.
func Main(market string, run func(ctx context.Context, c *runtime.Conn) error) {
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *runFor > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *runFor)
		defer cancel()
	}
	c, closeAll, err := dial(ctx, market)
	if err != nil {
		log.Fatal(err)
	}
	defer closeAll()
	if err := run(ctx, c); err != nil && ctx.Err() == nil {
		log.Fatal(err) // deferred closes are skipped; the process ends anyway
	}
	<-ctx.Done()
}

// dial connects to the market and returns the connection and a function that
// closes it (and the simulator, when one was started).
func dial(ctx context.Context, market string) (*runtime.Conn, func(), error) {
	m, ok := markets.All[market]
	if !ok {
		return nil, nil, fmt.Errorf("unknown market %q", market)
	}
	opts := []runtime.Option{runtime.OnEvent(func(e runtime.Event) { log.Println("marketwire:", e) })}
	stopSim := func() {}
	switch {
	case *endpoint != "":
		opts = append(opts, runtime.WithURL(*endpoint))
	case *live:
		log.Printf("connecting to %s", m.Info.Endpoints[0].URL)
	default:
		srv, err := synth.Server(market, uint64(time.Now().UnixNano()), sim.WithPublishInterval(100*time.Millisecond))
		if err != nil {
			return nil, nil, err
		}
		if err := srv.Start(); err != nil {
			return nil, nil, err
		}
		log.Printf("embedded %s simulator at %s (use -live for the real exchange)", market, srv.URL())
		opts = append(opts, runtime.WithURL(srv.URL()))
		stopSim = srv.Close
	}
	c, err := runtime.Dial(ctx, m.Info, opts...)
	if err != nil {
		stopSim()
		return nil, nil, err
	}
	return c, func() { c.Close(); stopSim() }, nil
}
