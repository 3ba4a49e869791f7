// Package simcmd is the simulator server behind the mwsim command and
// "marketwire sim": one of marketwire's exchange simulators for any market,
// with the HTTP admin API that injects faults (see cmd/mwsim for the flags
// and endpoints; GET /_sim/ lists the endpoints of the running simulator).
//
// The Binance markets are synth's simulator (Binance), which serves every
// stream of the schema and starts each symbol at the same price as the
// in-process simulators of the examples and of marketwire tail.
package simcmd

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/marketwire/marketwire/generated/coinm"
	mwmarkets "github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/generated/options"
	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/dexsim"
	"github.com/marketwire/marketwire/sim/synth"
	"github.com/marketwire/marketwire/sim/zdexsim"
)

// markets are the Binance markets, which synth's simulator plays; dex and
// zdex have simulators of their own.
var markets = map[string]*runtime.Market{
	"spot":    &spot.Market,
	"usdm":    &usdm.Market,
	"coinm":   &coinm.Market,
	"options": &options.Market,
}

// demoToken is the default token of the zdex simulator.
const demoToken = "mwsim-demo-token"

// Malformed (truncated) frames of the DEX and ZDEX protocols, for /_sim/malformed.
var (
	dexMalformed  = []byte(`{"stream":"trades","data":[{"e":"trade","E":17`)
	zdexMalformed = []byte(`{"channel":"ticker","symbol":"BTCUSDT","data":{"symbol":"BTC`)
)

// simulator is what every simulator package's Server offers mwsim.
type simulator interface {
	http.Handler
	Close()
}

// Run parses args (the flags of mwsim; name is the command's name, for
// messages) and serves the chosen simulator, logging to stderr, until ctx
// is done. -h prints the flags and returns flag.ErrHelp; a bad flag or
// market is returned as a *UsageError.
func Run(ctx context.Context, name string, args []string, stderr io.Writer) error {
	logger := log.New(stderr, "", log.LstdFlags)
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	names := []string{"dex", "zdex"}
	for n := range markets {
		names = append(names, n)
	}
	sort.Strings(names)
	market := fs.String("market", "spot", "market to simulate: "+strings.Join(names, "|"))
	addr := fs.String("addr", "127.0.0.1:9443", "listen address")
	symbols := fs.String("symbols", "btcusdt,ethusdt", "comma-separated symbols: the only ones served (Binance, when given; by default every symbol is), listed (zdex); ignored by dex")
	interval := fs.Duration("interval", 100*time.Millisecond, "publish tick")
	unpaced := fs.Bool("unpaced", false, "Binance: publish every stream at every tick instead of its exchange update speed")
	ping := fs.Duration("ping", 0, "Binance and dex: server ping interval (default: the market's)")
	seed := fs.Uint64("seed", 1, "random seed of the models")
	token := fs.String("token", demoToken, "zdex: the token the account channel's auth accepts")
	unsolicited := fs.Bool("unsolicited", false, "zdex: push order book, trades, ticker and klines of every symbol to every connection")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "usage: %s [flags]\n", name)
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return err
		}
		return &UsageError{err}
	}
	if fs.NArg() > 0 {
		return &UsageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}

	symbolsSet := false
	fs.Visit(func(f *flag.Flag) { symbolsSet = symbolsSet || f.Name == "symbols" })

	a := &adminAPI{mux: http.NewServeMux(), market: *market}
	var s simulator
	path := "" // of the base URL
	shown := *symbols
	switch *market {
	case "dex":
		opts := []dexsim.Option{dexsim.WithSeed(*seed), dexsim.WithPublishInterval(*interval)}
		if *ping > 0 {
			opts = append(opts, dexsim.WithPing(*ping, 0))
		}
		d := dexsim.New(opts...)
		a.common(d.DropConnections, func() int { return d.SendRaw(dexMalformed) }, func() any { return d.Conns() })
		s, path, shown = d, "/api", "any"
	case "zdex":
		var syms []string
		for _, sym := range strings.Split(*symbols, ",") {
			syms = append(syms, strings.ToUpper(strings.TrimSpace(sym)))
		}
		z := zdexsim.New(zdexsim.WithSeed(*seed), zdexsim.WithPublishInterval(*interval), zdexsim.WithSymbols(syms...),
			zdexsim.WithToken(*token), zdexsim.WithUnsolicited(*unsolicited))
		a.common(z.DropConnections, func() int { return z.SendRaw(zdexMalformed) }, func() any { return z.Conns() })
		s, path = z, zdexsim.Path
		logger.Printf("%s: zdex account token %q (unsolicited pushes %v)", name, *token, *unsolicited)
	default:
		if _, ok := markets[*market]; !ok {
			return &UsageError{fmt.Errorf("unknown market %q (want %s)", *market, strings.Join(names, ", "))}
		}
		var only []string
		if symbolsSet {
			only = strings.Split(*symbols, ",")
		} else {
			shown = "any"
		}
		b, err := Binance(*market, Config{Seed: *seed, Interval: *interval, Ping: *ping, Unpaced: *unpaced, Symbols: only,
			Logf: func(format string, args ...any) { logger.Printf(name+": "+format, args...) }})
		if err != nil {
			return err
		}
		a.common(b.DropConnections, b.SendMalformed, func() any { return b.Conns() })
		a.binance(b)
		s = b
	}
	defer s.Close()
	a.index()
	mux := a.mux
	mux.Handle("/", s)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
		}
		shut, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	host := ln.Addr().String()
	a.base = "ws://" + host + path
	logger.Printf("%s: %s market on ws://%s%s (symbols %s; admin on http://%s/_sim/)", name, *market, host, path, shown, host)
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// UsageError is a bad flag or argument.
type UsageError struct{ Err error }

// Error returns the underlying error's text.
func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *UsageError) Unwrap() error { return e.Err }

// Config configures the simulator of a Binance market (Binance).
type Config struct {
	Seed     uint64
	Interval time.Duration // publish tick; 0 means 100 ms
	Ping     time.Duration // server ping interval; 0 means the market's
	Unpaced  bool          // the order-book streams publish at every tick
	// Symbols, when not empty, are the only symbols served (any case); a
	// stream of another symbol is refused as invalid. Streams of every
	// symbol (!miniTicker@arr, ...) are always served.
	Symbols []string
	Logf    func(format string, args ...any) // the simulator's notices; nil means log.Printf
}

// Binance returns the simulator of a Binance market (spot, usdm, coinm,
// options): synth's server, which serves every stream of the schema, with
// the same order-book model and starting prices (sim.StartMid) as the
// embedded simulators of the examples and of marketwire tail, so that a
// symbol has the same price in either.
func Binance(market string, cfg Config) (*sim.Server, error) {
	if _, ok := markets[market]; !ok {
		return nil, fmt.Errorf("simcmd: %q is not a Binance market", market)
	}
	interval := cfg.Interval
	if interval == 0 {
		interval = 100 * time.Millisecond
	}
	opts := []sim.Option{sim.WithPublishInterval(interval)}
	if cfg.Ping > 0 {
		opts = append(opts, sim.WithPing(cfg.Ping, markets[market].Limits.PongDeadline))
	}
	if len(cfg.Symbols) > 0 {
		only := map[string]bool{}
		for _, sym := range cfg.Symbols {
			only[strings.ToLower(strings.TrimSpace(sym))] = true
		}
		all := mwmarkets.All[market]
		opts = append(opts, sim.WithValid(func(stream string) bool {
			if _, err := all.ParseStream(stream); err != nil {
				return false
			}
			sym, _, _ := strings.Cut(stream, "@")
			base, _, _ := strings.Cut(sym, "_") // btcusdt_perpetual, btcusd_perp
			return strings.HasPrefix(sym, "!") || only[sym] || only[base]
		}))
	}
	return synth.NewServer(market, synth.Config{Seed: cfg.Seed, Unpaced: cfg.Unpaced, Logf: cfg.Logf}, opts...)
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// adminAPI is the HTTP admin API: every endpoint is registered with its
// description, which /_sim/ lists.
type adminAPI struct {
	mux       *http.ServeMux
	market    string
	base      string // the simulator's base URL, once listening
	endpoints []endpoint
}

type endpoint struct {
	Path string `json:"path"`
	Doc  string `json:"doc"`
}

// handle registers one endpoint; usage is the path with its parameters as
// shown in the list.
func (a *adminAPI) handle(path, usage, doc string, h http.HandlerFunc) {
	a.mux.HandleFunc(path, h)
	a.endpoints = append(a.endpoints, endpoint{Path: usage, Doc: doc})
}

// index registers /_sim/, the list of endpoints: JSON when the client
// accepts it (or ?format=json), else text.
func (a *adminAPI) index() {
	a.mux.HandleFunc("/_sim/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_sim/" {
			http.Error(w, fmt.Sprintf("no admin endpoint %s; GET /_sim/ lists them", r.URL.Path), http.StatusNotFound)
			return
		}
		if r.URL.Query().Get("format") == "json" || strings.Contains(r.Header.Get("Accept"), "application/json") {
			reply(w, map[string]any{"market": a.market, "url": a.base, "endpoints": a.endpoints})
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "%s simulator, streams on %s\nadmin endpoints (GET or POST):\n", a.market, a.base)
		for _, e := range a.endpoints {
			fmt.Fprintf(w, "  %-48s %s\n", e.Path, e.Doc)
		}
	})
}

// common registers the fault endpoints every simulator has.
func (a *adminAPI) common(drop, malformed func() int, conns func() any) {
	count := func(f func() int) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { reply(w, map[string]int{"connections": f()}) }
	}
	a.handle("/_sim/drop", "/_sim/drop", "close every connection abruptly", count(drop))
	a.handle("/_sim/malformed", "/_sim/malformed", "send a malformed frame", count(malformed))
	a.handle("/_sim/conns", "/_sim/conns", "list connections as JSON", func(w http.ResponseWriter, _ *http.Request) { reply(w, conns()) })
}

// binance registers the fault endpoints only the Binance simulator has.
func (a *adminAPI) binance(s *sim.Server) {
	a.handle("/_sim/silence", "/_sim/silence", "stop answering, keep TCP open", func(w http.ResponseWriter, _ *http.Request) {
		reply(w, map[string]int{"connections": s.Silence()})
	})
	a.handle("/_sim/shutdown", "/_sim/shutdown?close=5s", "send serverShutdown, close later (close=now: right after it)", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("close"))
		if err != nil {
			d = 0
		}
		if r.URL.Query().Get("close") == "now" {
			reply(w, map[string]int{"connections": s.SendServerShutdownAndClose()})
			return
		}
		reply(w, map[string]int{"connections": s.SendServerShutdown(d)})
	})
	a.handle("/_sim/nopong", "/_sim/nopong", "stop answering client pings, keep publishing", func(w http.ResponseWriter, _ *http.Request) {
		reply(w, map[string]int{"connections": s.NoPong()})
	})
	a.handle("/_sim/oversized", "/_sim/oversized?n=2000000", "send a frame of n bytes", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 0 {
			n = 2 << 20
		}
		reply(w, map[string]int{"connections": s.SendOversized(n), "bytes": n})
	})
	a.handle("/_sim/pingstorm", "/_sim/pingstorm?n=100", "send n pings at once", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 0 {
			n = 100
		}
		reply(w, map[string]int{"connections": s.PingStorm(n), "pings": n})
	})
	a.handle("/_sim/policyloop", "/_sim/policyloop?on=true", "close every connection with 1008 after it subscribes (on=false: stop)", func(w http.ResponseWriter, r *http.Request) {
		on := r.URL.Query().Get("on") != "false"
		s.ClosePolicyAfterSubscribe(on)
		reply(w, map[string]bool{"on": on})
	})
	a.handle("/_sim/rejectstream", "/_sim/rejectstream?stream=s&code=2&msg=...", "reject every SUBSCRIBE naming s (off=1 lifts it)", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		code, err := strconv.Atoi(q.Get("code"))
		if err != nil {
			code = 2
		}
		msg := q.Get("msg")
		if msg == "" {
			msg = "Invalid request: invalid stream"
		}
		if q.Get("off") == "1" {
			msg = ""
		}
		s.RejectStream(q.Get("stream"), code, msg)
		reply(w, map[string]any{"stream": q.Get("stream"), "code": code, "msg": msg})
	})
	a.handle("/_sim/violations", "/_sim/violations", "limit violations as JSON", func(w http.ResponseWriter, _ *http.Request) { reply(w, s.Violations()) })
	a.handle("/_sim/reject", "/_sim/reject?code=2&msg=...", "reject the next SUBSCRIBE", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.URL.Query().Get("code"))
		if err != nil {
			code = 2
		}
		msg := r.URL.Query().Get("msg")
		if msg == "" {
			msg = "Invalid request: invalid stream"
		}
		s.RejectNextSubscribe(code, msg)
		reply(w, map[string]any{"code": code, "msg": msg})
	})
}
