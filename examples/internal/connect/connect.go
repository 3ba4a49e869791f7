// Package connect gives the examples their common flags: by default they run
// against marketwire's embedded simulator of the market (synth for the
// Binance markets, dexsim for the Binance DEX, zdexsim for ZDEX); -live uses
// the market's real production endpoint and -endpoint any other base URL.
//
// ZDEX's account channel needs a token. Against the simulator connect makes
// a random one and gives it to both sides; with -live or -endpoint it takes
// -token or, if that is empty, the ZDEX_TOKEN environment variable. Without
// a token the Conn has none, and subscribing to the account channel fails
// with runtime.ErrAuthRequired.
package connect

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/dexsim"
	"github.com/marketwire/marketwire/sim/synth"
	"github.com/marketwire/marketwire/sim/zdexsim"
)

var (
	live     = flag.Bool("live", false, "connect to the real exchange instead of the embedded simulator")
	endpoint = flag.String("endpoint", "", "base URL to connect to (overrides -live), e.g. ws://127.0.0.1:9001")
	runFor   = flag.Duration("for", 10*time.Second, "how long to run; 0 runs until interrupted")
	token    *string // -token, registered by Main for zdex only
)

// Main parses the flags (register an example's own flags before calling
// it), connects to the market and calls run, then waits until -for has
// passed or the program is interrupted, and closes everything.
func Main(market string, run func(ctx context.Context, c *runtime.Conn) error) {
	if market == "zdex" {
		token = flag.String("token", "", "with -live or -endpoint, the account token (default $ZDEX_TOKEN); never printed")
	}
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
	tok := ""
	if token != nil {
		tok = *token
		if tok == "" {
			tok = os.Getenv("ZDEX_TOKEN")
		}
	}
	stopSim := func() {}
	switch {
	case *endpoint != "":
		opts = append(opts, runtime.WithURL(*endpoint))
	case *live:
		log.Printf("connecting to %s", m.Info.Endpoints[0].URL)
		if market == "dex" {
			log.Print("the Binance DEX was shut down in December 2024: this tries its old endpoint and is expected to fail")
		}
	default:
		url, simToken, closeSim, err := startSim(market)
		if err != nil {
			return nil, nil, err
		}
		log.Printf("embedded %s simulator at %s (use -live for the real exchange)", market, url)
		opts = append(opts, runtime.WithURL(url))
		tok, stopSim = simToken, closeSim
	}
	if tok != "" {
		opts = append(opts, runtime.WithAuthToken(tok))
	}
	c, err := runtime.Dial(ctx, m.Info, opts...)
	if err != nil {
		stopSim()
		return nil, nil, err
	}
	return c, func() { c.Close(); stopSim() }, nil
}

// startSim starts the market's embedded simulator and returns its base URL,
// the token it accepts ("" if it needs none) and a function that stops it.
func startSim(market string) (url, token string, stop func(), err error) {
	seed := uint64(time.Now().UnixNano())
	// The DEX and ZDEX simulators publish every subscribed stream at every
	// tick; every 500 ms keeps a demo's output readable.
	switch market {
	case "dex":
		s := dexsim.New(dexsim.WithSeed(seed), dexsim.WithPublishInterval(500*time.Millisecond))
		if err := s.Start(); err != nil {
			s.Close()
			return "", "", nil, err
		}
		return s.URL(), "", s.Close, nil
	case "zdex":
		// A fresh demo token each run; the server also pushes channels
		// nobody subscribed to, as the venue's sibling platform does.
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return "", "", nil, err
		}
		token = hex.EncodeToString(b)
		s := zdexsim.New(zdexsim.WithSeed(seed), zdexsim.WithToken(token), zdexsim.WithUnsolicited(true),
			zdexsim.WithPublishInterval(500*time.Millisecond))
		if err := s.Start(); err != nil {
			s.Close()
			return "", "", nil, err
		}
		return s.URL(), token, s.Close, nil
	default:
		s, err := synth.Server(market, seed, sim.WithPublishInterval(100*time.Millisecond))
		if err != nil {
			return "", "", nil, err
		}
		if err := s.Start(); err != nil {
			s.Close()
			return "", "", nil, err
		}
		return s.URL(), "", s.Close, nil
	}
}
