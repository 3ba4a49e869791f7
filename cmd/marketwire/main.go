// Command marketwire lists, tails, records and replays the streams of every
// market marketwire knows, from the generated registry: every stream of the
// schema works, with no code here that names one.
//
//	marketwire streams [market]
//	marketwire tail [-market M] [-json] [-drift] [-live | -endpoint NAME|URL | -nats URLS [-stream S] [-start new|all|TIME|SEQ]] [-n N] [-for D] STREAM...
//	marketwire record -o FILE [-market M] [-drift=false] [-live | -endpoint NAME|URL] [-rotate-size N] [-rotate-every D] [-n N] [-for D] STREAM...
//	marketwire replay [-speed 1x|Nx|max] [-loop] [-addr A] FILE...
//	marketwire sim [-market M] [-addr A] [flags of mwsim]
//	marketwire bridge [-market M] [-live | -endpoint NAME|URL] [-nats URLS] [-stream S] [-replicas N] [-books SYMBOL,... [-book-every D]] [-status D] [-for D] STREAM...
//
// bridge publishes the streams to NATS JetStream (package natsbridge): each
// payload byte for byte on the subject mw.<market>.<stream>, with a
// Nats-Msg-Id from its own sequence key, so that several bridges of the
// same streams store each event once. It creates the JetStream stream
// (-stream, MARKETWIRE by default) when missing, with -replicas replicas.
// With -books it also keeps the local order books of those symbols (REST
// snapshot and diff stream, which it bridges) and publishes each one's
// snapshot every -book-every on mw.book.<market>.<SYMBOL>, so that
// natsbridge.OpenBook keeps the books from the cluster without REST.
// tail -nats reads the streams back from JetStream instead of the
// exchange, from -start: new (the default), all, an RFC 3339 time or a
// stream sequence.
//
// Streams are wire names, such as btcusdt@aggTrade, btcusdt@kline_1m or,
// on ZDEX, ticker:BTCUSDT. tail and record connect to an embedded simulator
// of the market unless -live (the market's production endpoint) or
// -endpoint (an endpoint named in the schema, such as testnet, or a URL
// such as a replay's) is given. Lifecycle events (reconnects, drops, gaps)
// are printed to stderr on lines starting with "#".
//
// record writes the raw frames in the format of package record, one
// compressed block at least every second, so that a killed recorder loses
// at most its last second; it shows a status line on a terminal and a
// summary otherwise. replay serves recordings through the market's
// simulator, so that any program connects to it as to the exchange: it
// starts once a client has subscribed to every recorded stream (or a
// second after the first subscription), keeps the recorded intervals
// divided by -speed, and keeps serving after the end unless -loop plays it
// again. record.Play feeds a recording to the generated decoders without a
// socket, for backtests.
//
// The drift report (package wire's DriftReport) counts what the exchange
// sent that the schema does not describe: keys the decoders skipped (by
// stream and nesting path, such as k.X), user-data event kinds they did
// not know, required keys a payload lacked and payloads of another event
// kind, each with a sample. tail -drift prints it on stderr when it ends
// ("drift: none" if empty) and every minute while it runs; record decodes
// every frame it writes (unless -drift=false) and prints it after its
// summary when it is not empty. Its lines read
//
//	drift: spot aggTrade: unknown key "X" (12 times, e.g. 42)
//
// Exit status: 0 on success, 2 for bad input (an unknown market or stream,
// a bad parameter or flag, a file that cannot be read or written), with
// one line on stderr, and 1 for a failure while running.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// commands are the subcommands, in the order the usage lists them.
var commands = []string{"streams", "tail", "record", "replay", "sim", "bridge"}

var synopsis = map[string]string{
	"streams": "streams [market]",
	"tail":    "tail [-market M] [-json] [-drift] [-live | -endpoint NAME|URL | -nats URLS [-stream S] [-start new|all|TIME|SEQ]] [-n N] [-for D] STREAM...",
	"record":  "record -o FILE [-market M] [-drift=false] [-live | -endpoint NAME|URL] [-rotate-size N] [-rotate-every D] [-n N] [-for D] STREAM...",
	"replay":  "replay [-speed 1x|Nx|max] [-loop] [-addr A] FILE...",
	"sim":     "sim [-market M] [-addr A] [flags of mwsim]",
	"bridge":  "bridge [-market M] [-live | -endpoint NAME|URL] [-nats URLS] [-stream S] [-replicas N] [-books SYMBOL,... [-book-every D]] [-status D] [-for D] [STREAM...]",
}

var runners = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"streams": streamsCmd,
	"tail":    tailCmd,
	"record":  recordCmd,
	"replay":  replayCmd,
	"sim":     simCmd,
	"bridge":  bridgeCmd,
}

// run runs the subcommand args name and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "help" {
		fmt.Fprintln(stderr, "usage:")
		for _, name := range commands {
			fmt.Fprintln(stderr, "  marketwire", synopsis[name])
		}
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := runners[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "marketwire: unknown command %q (want streams, tail, record, replay, sim or bridge)\n", args[0])
		return 2
	}
	err := cmd(ctx, args[1:], stdout, stderr)
	var bad badInput
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &bad):
		fmt.Fprintf(stderr, "marketwire %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(stderr, "marketwire %s: %v\n", args[0], err)
		return 1
	}
}

// badInput is an error in what the user gave: exit status 2.
type badInput struct{ error }

// bad returns a badInput error.
func bad(format string, args ...any) error { return badInput{fmt.Errorf(format, args...)} }

// parseFlags parses args with fs, allowing flags after the positional
// arguments, and returns the positional ones. -h prints the usage and
// returns flag.ErrHelp; other flag errors are bad input.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(stderr, "usage: marketwire", synopsis[fs.Name()])
				fs.SetOutput(stderr)
				fs.PrintDefaults()
				return nil, err
			}
			return nil, badInput{err}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}
