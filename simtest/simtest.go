// Package simtest runs marketwire's exchange simulators for your own tests:
// one call starts a simulator of a market on a loopback port, and Dial
// connects a runtime.Conn to it, so that a program's subscriptions, handlers
// and error handling are tested offline, without keys, and with faults on
// demand.
//
//	func TestMyStrategy(t *testing.T) {
//		s := simtest.Start(t, &spot.Market)
//		c := s.Dial(t)
//		trades := make(chan *spot.AggTradeEvent, 100)
//		_, err := spot.SubscribeAggTrade(context.Background(), c, spot.AggTradeParams{Symbol: "BTCUSDT"},
//			func(ev *spot.AggTradeEvent) {
//				select {
//				case trades <- ev:
//				default: // a handler must not block: Close waits for it
//				}
//			})
//		...
//		s.Server.DropConnections() // the runtime reconnects and resubscribes
//	}
//
// For the Binance markets (spot, usdm, coinm, options) the simulator is
// sim/synth's: it speaks Binance's stream protocol (sim.Server) and serves
// every stream of the schema for any symbol with moving, valid data (an
// order-book model for trades, depth, book tickers and klines; the
// documented examples, moved, for the rest; values synthesized from the
// types for a stream without examples), one price per symbol starting at
// sim.StartMid(symbol). Its fault controls are the methods of Sim.Server:
// DropConnections, Silence, NoPong, SendServerShutdown, RejectStream,
// RejectNextSubscribe, ClosePolicyAfterSubscribe, SendMalformed, ... and
// its records: Conns, Published, Violations.
//
// The Binance DEX and ZDEX have simulators of their own (sim/dexsim,
// sim/zdexsim), started with their defaults and served the same way;
// Sim.DEX and Sim.ZDEX hold them, with their own fault controls. Use those
// packages directly for their other options.
//
// Data is published every 10 ms unless an option says otherwise (streams
// of the order-book model keep their exchange update speed, such as
// 1000 ms for spot's @depth); the simulator's notices (such as a stream
// whose values are synthesized) go to t.Logf.
package simtest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/dexsim"
	"github.com/marketwire/marketwire/sim/synth"
	"github.com/marketwire/marketwire/sim/zdexsim"
)

// PublishInterval is the publish tick of the simulators simtest starts.
const PublishInterval = 10 * time.Millisecond

// Token is the token the ZDEX simulator's account channel accepts; Dial and
// Conn pass it (runtime.WithAuthToken).
const Token = "simtest-zdex-token"

// Sim is a running simulator of one market.
type Sim struct {
	// Market is the simulated market.
	Market *runtime.Market
	// Server is the simulator of a Binance market, with its fault controls;
	// nil for the DEX and ZDEX.
	Server *sim.Server
	// DEX is the simulator of the Binance DEX; nil for other markets.
	DEX *dexsim.Server
	// ZDEX is the simulator of ZDEX; nil for other markets.
	ZDEX *zdexsim.Server

	url   string
	token string
	close func()
}

// Start starts a simulator of market m for the test t and stops it when the
// test ends (t.Cleanup). opts configure a Binance market's sim.Server and
// are applied after simtest's defaults (e.g. sim.WithPublishInterval,
// sim.WithPing, sim.WithStreamLimit); the DEX and ZDEX take none. A market
// that cannot be simulated fails the test.
func Start(t testing.TB, m *runtime.Market, opts ...sim.Option) *Sim {
	t.Helper()
	s, err := start(m, t.Logf, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// New starts a simulator of market m outside a test (an example, a demo
// program); call Close when done. Its notices go to the standard logger.
// See Start.
func New(m *runtime.Market, opts ...sim.Option) (*Sim, error) {
	return start(m, nil, opts)
}

func start(m *runtime.Market, logf func(string, ...any), opts []sim.Option) (*Sim, error) {
	if m == nil {
		return nil, errors.New("simtest: nil market")
	}
	name := m.Name
	if _, ok := markets.All[name]; !ok {
		return nil, fmt.Errorf("simtest: market %q is not in the generated registry", name)
	}
	cfg := synth.Config{Seed: 1, Logf: logf}
	s := &Sim{Market: m}
	switch {
	case m.Venue == "binance" && name != "dex":
		srv, err := synth.NewServer(name, cfg, append([]sim.Option{sim.WithPublishInterval(PublishInterval)}, opts...)...)
		if err != nil {
			return nil, err
		}
		if err := srv.Start(); err != nil {
			srv.Close()
			return nil, err
		}
		s.Server, s.url, s.close = srv, srv.URL(), srv.Close
	case name == "dex" || name == "zdex":
		if len(opts) > 0 {
			return nil, fmt.Errorf("simtest: sim.Options configure the Binance simulator, not the %s one (use sim/%ssim for its options)", name, name)
		}
		src, err := synth.NewSource(name, cfg)
		if err != nil {
			return nil, err
		}
		if name == "dex" {
			d := dexsim.New(dexsim.WithSource(src), dexsim.WithPublishInterval(PublishInterval))
			if err := d.Start(); err != nil {
				d.Close()
				return nil, err
			}
			s.DEX, s.url, s.close = d, d.URL(), d.Close
		} else {
			z := zdexsim.New(zdexsim.WithSource(src), zdexsim.WithPublishInterval(PublishInterval), zdexsim.WithToken(Token))
			if err := z.Start(); err != nil {
				z.Close()
				return nil, err
			}
			s.ZDEX, s.url, s.close, s.token = z, z.URL(), z.Close, Token
		}
	default:
		return nil, fmt.Errorf("simtest: no simulator of market %q (venue %s)", name, m.Venue)
	}
	return s, nil
}

// URL returns the simulator's base URL, for runtime.WithURL or a program's
// endpoint flag (e.g. ws://127.0.0.1:40123).
func (s *Sim) URL() string { return s.url }

// RESTURL returns the simulator's http:// base URL, where a Binance
// market's REST depth snapshot is served (orderbook.WithREST); "" for the
// DEX and ZDEX.
func (s *Sim) RESTURL() string {
	if s.Server == nil {
		return ""
	}
	return s.Server.RESTURL()
}

// Close stops the simulator and closes its connections. Start calls it when
// the test ends.
func (s *Sim) Close() { s.close() }

// Conn dials the simulator: runtime.Dial of the simulated market with
// runtime.WithURL(s.URL()) (and, for ZDEX, its token) before opts.
func (s *Sim) Conn(ctx context.Context, opts ...runtime.Option) (*runtime.Conn, error) {
	all := []runtime.Option{runtime.WithURL(s.url)}
	if s.token != "" {
		all = append(all, runtime.WithAuthToken(s.token))
	}
	return runtime.Dial(ctx, s.Market, append(all, opts...)...)
}

// Dial is Conn for a test: a dial error fails the test, and the connection
// is closed when the test ends, before the simulator.
func (s *Sim) Dial(t testing.TB, opts ...runtime.Option) *runtime.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := s.Conn(ctx, opts...)
	if err != nil {
		t.Fatalf("simtest: dial the %s simulator: %v", s.Market.Name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
