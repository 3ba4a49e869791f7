// Command mwsim runs the marketwire exchange simulator: a local Binance
// WebSocket stream server with a self-consistent order-book model per
// symbol, and a small HTTP admin API to inject faults.
//
//	mwsim -market usdm -addr 127.0.0.1:9443 -symbols btcusdt,ethusdt
//
// Streams: ws://<addr>[/<route>]/stream?streams=... and /ws/<stream>. Admin
// (POST or GET) on the same address:
//
//	/_sim/drop                       close every connection abruptly
//	/_sim/silence                    stop answering, keep TCP open
//	/_sim/malformed                  send a malformed frame
//	/_sim/shutdown?close=5s          send serverShutdown, close later
//	/_sim/reject?code=2&msg=...      reject the next SUBSCRIBE
//	/_sim/conns                      list connections as JSON
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
)

// markets are the generated markets the simulator can play.
var markets = map[string]*runtime.Market{
	"spot":    &spot.Market,
	"usdm":    &usdm.Market,
	"coinm":   &coinm.Market,
	"options": &options.Market,
}

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	names := make([]string, 0, len(markets))
	for n := range markets {
		names = append(names, n)
	}
	sort.Strings(names)
	market := flag.String("market", "spot", "market to simulate: "+strings.Join(names, "|"))
	addr := flag.String("addr", "127.0.0.1:9443", "listen address")
	symbols := flag.String("symbols", "btcusdt,ethusdt", "comma-separated symbols with an order-book model")
	interval := flag.Duration("interval", 100*time.Millisecond, "publish tick")
	unpaced := flag.Bool("unpaced", false, "publish every stream at every tick instead of its exchange update speed")
	ping := flag.Duration("ping", 0, "server ping interval (default: the market's)")
	seed := flag.Uint64("seed", 1, "random seed of the models")
	flag.Parse()

	m, ok := markets[*market]
	if !ok {
		return fmt.Errorf("unknown market %q (want %s)", *market, strings.Join(names, ", "))
	}
	futures := *market != "spot"
	var books []*sim.Book
	var src sim.Sources
	for i, sym := range strings.Split(*symbols, ",") {
		b := sim.NewBook(sim.BookConfig{Symbol: strings.ToLower(strings.TrimSpace(sym)), Futures: futures, Seed: *seed + uint64(i), Unpaced: *unpaced})
		books = append(books, b)
		src = append(src, b)
	}
	opts := []sim.Option{
		sim.WithSource(src),
		sim.WithPublishInterval(*interval),
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
	if *ping > 0 {
		opts = append(opts, sim.WithPing(*ping, m.Limits.PongDeadline))
	}
	s := sim.New(m, opts...)
	defer s.Close()

	mux := http.NewServeMux()
	admin(mux, s)
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
	log.Printf("mwsim: %s market on ws://%s (symbols %s; admin on http://%s/_sim/)", m.Name, *addr, *symbols, *addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func admin(mux *http.ServeMux, s *sim.Server) {
	reply := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	count := func(f func() int) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { reply(w, map[string]int{"connections": f()}) }
	}
	mux.Handle("/_sim/drop", count(s.DropConnections))
	mux.Handle("/_sim/silence", count(s.Silence))
	mux.Handle("/_sim/malformed", count(s.SendMalformed))
	mux.HandleFunc("/_sim/shutdown", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("close"))
		if err != nil {
			d = 0
		}
		reply(w, map[string]int{"connections": s.SendServerShutdown(d)})
	})
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
	mux.HandleFunc("/_sim/conns", func(w http.ResponseWriter, _ *http.Request) { reply(w, s.Conns()) })
}
