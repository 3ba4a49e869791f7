// Package connect gives the examples their common flags: by default they run
// against marketwire's embedded exchange simulator; -live uses the market's
// real production endpoint and -endpoint any other base URL.
package connect

import (
	"context"
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/synth"
)

// Options are the examples' common flags.
type Options struct {
	Live     bool
	Endpoint string
	For      time.Duration
}

// Flags registers -live, -endpoint and -for on the default flag set.
func Flags() *Options {
	o := &Options{}
	flag.BoolVar(&o.Live, "live", false, "connect to the real exchange instead of the embedded simulator")
	flag.StringVar(&o.Endpoint, "endpoint", "", "base URL to connect to (overrides -live), e.g. ws://127.0.0.1:9001")
	flag.DurationVar(&o.For, "for", 10*time.Second, "how long to run; 0 runs until interrupted")
	return o
}

// Dial connects to the market and returns the connection and a function that
// closes it (and the simulator, when one was started).
func (o *Options) Dial(ctx context.Context, market string) (*runtime.Conn, func(), error) {
	m, ok := markets.All[market]
	if !ok {
		return nil, nil, fmt.Errorf("unknown market %q", market)
	}
	opts := []runtime.Option{runtime.OnEvent(func(e runtime.Event) { log.Println("marketwire:", e) })}
	stopSim := func() {}
	switch {
	case o.Endpoint != "":
		opts = append(opts, runtime.WithURL(o.Endpoint))
	case o.Live:
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

// Context returns a context that ends after -for or on interrupt.
func (o *Options) Context(parent context.Context) (context.Context, context.CancelFunc) {
	if o.For > 0 {
		return context.WithTimeout(parent, o.For)
	}
	return context.WithCancel(parent)
}
