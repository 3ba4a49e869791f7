// Package simcmd is the simulator server behind the mwsim command and
// "marketwire sim": one of marketwire's exchange simulators for any market,
// with the HTTP admin API that injects faults (see cmd/mwsim for the flags
// and endpoints).
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
	"github.com/marketwire/marketwire/generated/options"
	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/dexsim"
	"github.com/marketwire/marketwire/sim/zdexsim"
)

// markets are the Binance markets the order-book simulator can play; dex
// and zdex have simulators of their own.
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
	symbols := fs.String("symbols", "btcusdt,ethusdt", "comma-separated symbols: with an order-book model (Binance), listed (zdex); ignored by dex")
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

	mux := http.NewServeMux()
	var s simulator
	path := "" // of the base URL
	switch *market {
	case "dex":
		opts := []dexsim.Option{dexsim.WithSeed(*seed), dexsim.WithPublishInterval(*interval)}
		if *ping > 0 {
			opts = append(opts, dexsim.WithPing(*ping, 0))
		}
		d := dexsim.New(opts...)
		admin(mux, d.DropConnections, func() int { return d.SendRaw(dexMalformed) }, func() any { return d.Conns() })
		s, path = d, "/api"
	case "zdex":
		var syms []string
		for _, sym := range strings.Split(*symbols, ",") {
			syms = append(syms, strings.ToUpper(strings.TrimSpace(sym)))
		}
		z := zdexsim.New(zdexsim.WithSeed(*seed), zdexsim.WithPublishInterval(*interval), zdexsim.WithSymbols(syms...),
			zdexsim.WithToken(*token), zdexsim.WithUnsolicited(*unsolicited))
		admin(mux, z.DropConnections, func() int { return z.SendRaw(zdexMalformed) }, func() any { return z.Conns() })
		s, path = z, zdexsim.Path
		logger.Printf("%s: zdex account token %q (unsolicited pushes %v)", name, *token, *unsolicited)
	default:
		m, ok := markets[*market]
		if !ok {
			return &UsageError{fmt.Errorf("unknown market %q (want %s)", *market, strings.Join(names, ", "))}
		}
		b := binance(m, *symbols, *seed, *interval, *ping, *unpaced)
		admin(mux, b.DropConnections, b.SendMalformed, func() any { return b.Conns() })
		binanceAdmin(mux, b)
		s = b
	}
	defer s.Close()
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
	logger.Printf("%s: %s market on ws://%s%s (symbols %s; admin on http://%s/_sim/)", name, *market, host, path, *symbols, host)
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

// binance returns the order-book simulator of a Binance market.
func binance(m *runtime.Market, symbols string, seed uint64, interval, ping time.Duration, unpaced bool) *sim.Server {
	futures := m != &spot.Market
	var books []*sim.Book
	var src sim.Sources
	for i, sym := range strings.Split(symbols, ",") {
		b := sim.NewBook(sim.BookConfig{Symbol: strings.ToLower(strings.TrimSpace(sym)), Futures: futures, Pair: m == &coinm.Market, Seed: seed + uint64(i), Unpaced: unpaced})
		books = append(books, b)
		src = append(src, b)
	}
	opts := []sim.Option{
		sim.WithSource(src),
		sim.WithPublishInterval(interval),
		sim.WithValid(func(st string) bool {
			for _, b := range books {
				if b.Valid(st) {
					return true
				}
			}
			return false
		}),
	}
	if len(m.Routes) > 0 {
		opts = append(opts, sim.WithRoute(books[0].Route))
	}
	if ping > 0 {
		opts = append(opts, sim.WithPing(ping, m.Limits.PongDeadline))
	}
	return sim.New(m, opts...)
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// admin registers the fault endpoints every simulator has.
func admin(mux *http.ServeMux, drop, malformed func() int, conns func() any) {
	count := func(f func() int) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { reply(w, map[string]int{"connections": f()}) }
	}
	mux.Handle("/_sim/drop", count(drop))
	mux.Handle("/_sim/malformed", count(malformed))
	mux.HandleFunc("/_sim/conns", func(w http.ResponseWriter, _ *http.Request) { reply(w, conns()) })
}

// binanceAdmin registers the fault endpoints only the Binance simulator has.
func binanceAdmin(mux *http.ServeMux, s *sim.Server) {
	mux.HandleFunc("/_sim/silence", func(w http.ResponseWriter, _ *http.Request) {
		reply(w, map[string]int{"connections": s.Silence()})
	})
	mux.HandleFunc("/_sim/shutdown", func(w http.ResponseWriter, r *http.Request) {
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
	mux.HandleFunc("/_sim/nopong", func(w http.ResponseWriter, _ *http.Request) {
		reply(w, map[string]int{"connections": s.NoPong()})
	})
	mux.HandleFunc("/_sim/oversized", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 0 {
			n = 2 << 20
		}
		reply(w, map[string]int{"connections": s.SendOversized(n), "bytes": n})
	})
	mux.HandleFunc("/_sim/pingstorm", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 0 {
			n = 100
		}
		reply(w, map[string]int{"connections": s.PingStorm(n), "pings": n})
	})
	mux.HandleFunc("/_sim/policyloop", func(w http.ResponseWriter, r *http.Request) {
		on := r.URL.Query().Get("on") != "false"
		s.ClosePolicyAfterSubscribe(on)
		reply(w, map[string]bool{"on": on})
	})
	mux.HandleFunc("/_sim/rejectstream", func(w http.ResponseWriter, r *http.Request) {
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
	mux.HandleFunc("/_sim/violations", func(w http.ResponseWriter, _ *http.Request) { reply(w, s.Violations()) })
	mux.HandleFunc("/_sim/reject", func(w http.ResponseWriter, r *http.Request) {
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
