// Command mwsim runs one of marketwire's exchange simulators as a server:
// for the Binance markets (spot, usdm, coinm, options) a WebSocket stream
// server with a self-consistent order-book model per symbol; for dex the
// Binance DEX simulator (sim/dexsim), which serves moving copies of recorded
// frames for any symbol and address; for zdex the ZDEX simulator
// (sim/zdexsim), with the authenticated account channel. A small HTTP admin
// API on the same address injects faults.
//
//	mwsim -market usdm -addr 127.0.0.1:9443 -symbols btcusdt,ethusdt
//	mwsim -market dex
//	mwsim -market zdex -token mytoken -unsolicited
//
// Streams, and the base URL to give a client (runtime.WithURL, or the
// examples' -endpoint):
//
//	Binance  ws://<addr>[/<route>]/stream?streams=... and /ws/<stream>; base ws://<addr>
//	dex      ws://<addr>/api/ws, /api/ws/<stream>, /api/stream?streams=a/b; base ws://<addr>/api
//	zdex     ws://<addr>/ws; base ws://<addr>/ws
//
// For zdex, -token sets the token the account channel's auth accepts (a
// fixed demo token by default, printed at start) and -unsolicited makes the
// server push the order book, trades, ticker and klines of every symbol to
// every connection, subscribed or not. -symbols are the symbols zdex lists
// (upper-cased); dex serves any symbol and ignores it. -unpaced applies to
// the Binance markets only, -ping to the Binance markets and dex.
//
// Admin (POST or GET) on the same address, for every market:
//
//	/_sim/drop                       close every connection abruptly
//	/_sim/malformed                  send a malformed frame
//	/_sim/conns                      list connections as JSON
//
// and for the Binance markets only:
//
//	/_sim/silence                    stop answering, keep TCP open
//	/_sim/nopong                     stop answering client pings, keep publishing
//	/_sim/shutdown?close=5s          send serverShutdown, close later (close=now: right after it)
//	/_sim/reject?code=2&msg=...      reject the next SUBSCRIBE
//	/_sim/rejectstream?stream=s&code=2&msg=...  reject every SUBSCRIBE naming s (off=1 lifts it)
//	/_sim/policyloop?on=true         close every connection with 1008 after it subscribes
//	/_sim/oversized?n=2000000        send a frame of n bytes
//	/_sim/pingstorm?n=100            send n pings at once
//	/_sim/violations                 limit violations as JSON
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
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

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	names := []string{"dex", "zdex"}
	for n := range markets {
		names = append(names, n)
	}
	sort.Strings(names)
	market := flag.String("market", "spot", "market to simulate: "+strings.Join(names, "|"))
	addr := flag.String("addr", "127.0.0.1:9443", "listen address")
	symbols := flag.String("symbols", "btcusdt,ethusdt", "comma-separated symbols: with an order-book model (Binance), listed (zdex); ignored by dex")
	interval := flag.Duration("interval", 100*time.Millisecond, "publish tick")
	unpaced := flag.Bool("unpaced", false, "Binance: publish every stream at every tick instead of its exchange update speed")
	ping := flag.Duration("ping", 0, "Binance and dex: server ping interval (default: the market's)")
	seed := flag.Uint64("seed", 1, "random seed of the models")
	token := flag.String("token", demoToken, "zdex: the token the account channel's auth accepts")
	unsolicited := flag.Bool("unsolicited", false, "zdex: push order book, trades, ticker and klines of every symbol to every connection")
	flag.Parse()

	mux := http.NewServeMux()
	var s simulator
	base := "ws://" + *addr
	switch *market {
	case "dex":
		opts := []dexsim.Option{dexsim.WithSeed(*seed), dexsim.WithPublishInterval(*interval)}
		if *ping > 0 {
			opts = append(opts, dexsim.WithPing(*ping, 0))
		}
		d := dexsim.New(opts...)
		admin(mux, d.DropConnections, func() int { return d.SendRaw(dexMalformed) }, func() any { return d.Conns() })
		s, base = d, base+"/api"
	case "zdex":
		var syms []string
		for _, sym := range strings.Split(*symbols, ",") {
			syms = append(syms, strings.ToUpper(strings.TrimSpace(sym)))
		}
		z := zdexsim.New(zdexsim.WithSeed(*seed), zdexsim.WithPublishInterval(*interval), zdexsim.WithSymbols(syms...),
			zdexsim.WithToken(*token), zdexsim.WithUnsolicited(*unsolicited))
		admin(mux, z.DropConnections, func() int { return z.SendRaw(zdexMalformed) }, func() any { return z.Conns() })
		s, base = z, base+zdexsim.Path
		log.Printf("mwsim: zdex account token %q (unsolicited pushes %v)", *token, *unsolicited)
	default:
		m, ok := markets[*market]
		if !ok {
			return fmt.Errorf("unknown market %q (want %s)", *market, strings.Join(names, ", "))
		}
		b := binance(m, *symbols, *seed, *interval, *ping, *unpaced)
		admin(mux, b.DropConnections, b.SendMalformed, func() any { return b.Conns() })
		binanceAdmin(mux, b)
		s = b
	}
	defer s.Close()
	mux.Handle("/", s)
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	log.Printf("mwsim: %s market on %s (symbols %s; admin on http://%s/_sim/)", *market, base, *symbols, *addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// binance returns the order-book simulator of a Binance market.
func binance(m *runtime.Market, symbols string, seed uint64, interval, ping time.Duration, unpaced bool) *sim.Server {
	futures := m != &spot.Market
	var books []*sim.Book
	var src sim.Sources
	for i, sym := range strings.Split(symbols, ",") {
		b := sim.NewBook(sim.BookConfig{Symbol: strings.ToLower(strings.TrimSpace(sym)), Futures: futures, Seed: seed + uint64(i), Unpaced: unpaced})
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
