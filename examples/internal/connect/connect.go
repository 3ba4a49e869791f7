// Package connect gives the examples their common flags and lifetime: by
// default they run against marketwire's embedded simulator of the market
// (synth for the Binance markets, dexsim for the Binance DEX, zdexsim for
// ZDEX); -live uses the market's real production endpoint and -endpoint any
// other base URL. An example runs until it is interrupted (Ctrl-C, SIGINT,
// or SIGTERM), or for the duration -for gives, then closes its connection
// and its simulator, logs "stopped (...)" and exits with status 0.
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
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
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
	runFor   = flag.Duration("for", 0, "how long to run, e.g. 30s; 0 runs until interrupted (Ctrl-C or SIGTERM)")
	token    *string // -token, registered by MainArgs for zdex only
)

// restURL is the REST base URL of the running simulator; "" otherwise.
var restURL string

// handlers are the extra OnEvent handlers of the connection (OnEvent).
var handlers []func(runtime.Event)

// REST returns the base URL of the REST endpoints (such as the order
// book's depth snapshot) that match the connection: the embedded
// simulator's while it runs, else "" for the market's production host.
func REST() string { return restURL }

// OnEvent adds a handler of the connection's lifecycle events (such as an
// orderbook.Group's Observe). Call it before Main.
func OnEvent(fn func(runtime.Event)) { handlers = append(handlers, fn) }

// RunFunc subscribes what an example shows. It may return at once (the
// subscriptions go on until the example stops) or block until ctx is done.
type RunFunc func(ctx context.Context, c *runtime.Conn) error

// Main runs an example: MainArgs with the command line, and exit status 1
// on an error. Register an example's own flags before calling it (at
// package level, so that tests of the example can parse them too).
func Main(market string, run RunFunc) {
	if err := MainArgs(market, os.Args[1:], run); err != nil {
		log.Fatal(err)
	}
}

// MainArgs parses args into the flags, connects to the market and calls
// run, then waits until -for has passed or SIGINT or SIGTERM arrives, and
// closes everything (see Run).
func MainArgs(market string, args []string, run RunFunc) error {
	if market == "zdex" && flag.Lookup("token") == nil {
		token = flag.String("token", "", "with -live or -endpoint, the account token (default $ZDEX_TOKEN); never printed")
	}
	if err := flag.CommandLine.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The same signals, to name the one that stopped the example.
	got := make(chan os.Signal, 1)
	signal.Notify(got, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(got)
	named, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go func() {
		select {
		case <-ctx.Done():
		case <-named.Done():
			return
		}
		select {
		case sig := <-got:
			cancel(fmt.Errorf("%v", sig))
		case <-time.After(100 * time.Millisecond):
			cancel(context.Cause(ctx))
		}
	}()
	return Run(named, market, run)
}

// Run connects to the market and calls run, then waits until ctx is done or
// -for has passed, closes the connection and the simulator, and logs
// "stopped (why); connection closed". It returns run's error, unless that
// came from the stop itself.
func Run(ctx context.Context, market string, run RunFunc) error {
	runCtx := ctx
	if *runFor > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, *runFor)
		defer cancel()
	}
	c, closeAll, err := dial(runCtx, market)
	if err != nil {
		return err
	}
	if err := run(runCtx, c); err != nil && runCtx.Err() == nil {
		closeAll()
		return err
	}
	<-runCtx.Done()
	closeAll()
	why := fmt.Sprintf("after -for %v", *runFor)
	if ctx.Err() != nil {
		why = context.Cause(ctx).Error() // the signal: "terminated", "interrupt"
		if errors.Is(context.Cause(ctx), context.Canceled) {
			why = "interrupted"
		}
	}
	log.Printf("stopped (%s); connection closed", why)
	return nil
}

// dial connects to the market and returns the connection and a function that
// closes it (and the simulator, when one was started).
func dial(ctx context.Context, market string) (*runtime.Conn, func(), error) {
	m, ok := markets.All[market]
	if !ok {
		return nil, nil, fmt.Errorf("unknown market %q", market)
	}
	opts := []runtime.Option{runtime.OnEvent(func(e runtime.Event) { log.Println("marketwire:", e) })}
	for _, h := range handlers {
		opts = append(opts, runtime.OnEvent(h))
	}
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
		restURL = s.RESTURL()
		return s.URL(), "", func() { s.Close(); restURL = "" }, nil
	}
}
