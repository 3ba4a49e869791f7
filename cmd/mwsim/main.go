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
	"errors"
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/marketwire/marketwire/cmd/internal/simcmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := simcmd.Run(ctx, "mwsim", os.Args[1:], os.Stderr)
	var usage *simcmd.UsageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, &usage):
		log.SetFlags(0)
		log.Print("mwsim: ", err)
		os.Exit(2)
	default:
		log.Fatal(err)
	}
}
