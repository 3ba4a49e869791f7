package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/dexsim"
	"github.com/marketwire/marketwire/sim/synth"
	"github.com/marketwire/marketwire/sim/zdexsim"
)

// source holds the flags that say where tail and record connect, and the
// streams they were given.
type source struct {
	market   string
	live     bool
	endpoint string
	token    string

	cat     *catalog
	streams []markets.Stream

	noStreams bool // parse accepts no stream names (bridge -books)
	// Set by dial: where the market's REST host is (rest, a base URL) or
	// which of the schema's hosts (env); both empty for production.
	rest, env string
	dialed    []runtime.Option // dial's options, for redial
}

func (s *source) flags(fs *flag.FlagSet) {
	fs.StringVar(&s.market, "market", "spot", "market: "+marketNames())
	fs.BoolVar(&s.live, "live", false, "connect to the market's production endpoint instead of the embedded simulator")
	fs.StringVar(&s.endpoint, "endpoint", "", "connect to this endpoint of the market (a name from the schema, such as testnet) or URL (such as a replay's ws://127.0.0.1:9443)")
	fs.StringVar(&s.token, "token", "", "zdex with -live or -endpoint: the account channel's token (default $ZDEX_TOKEN)")
}

// parse checks the market and parses the stream names.
func (s *source) parse(names []string) error {
	cat, ok := newCatalog(s.market)
	if !ok {
		return bad("unknown market %q (want %s)", s.market, marketNames())
	}
	if len(names) == 0 && !s.noStreams {
		return bad("no stream given (marketwire streams %s lists them)", s.market)
	}
	s.cat = cat
	for _, name := range names {
		p, err := cat.parse(name)
		if err != nil {
			return badInput{err}
		}
		s.streams = append(s.streams, p)
	}
	if s.endpoint != "" && !strings.Contains(s.endpoint, "://") {
		if _, ok := cat.m.Info.Endpoint(s.endpoint); !ok {
			var eps []string
			for _, e := range cat.m.Info.Endpoints {
				eps = append(eps, e.Name)
			}
			return bad("market %s has no endpoint %q (want %s, or a URL)", s.market, s.endpoint, strings.Join(eps, ", "))
		}
	}
	return nil
}

// names returns the wire names of the streams.
func (s *source) names() []string {
	var out []string
	for _, p := range s.streams {
		out = append(out, p.StreamName())
	}
	return out
}

// dial connects to the market, reporting lifecycle events to log. It
// returns the connection and a function that closes it and the embedded
// simulator, if any.
func (s *source) dial(ctx context.Context, log *eventLog, opts ...runtime.Option) (*runtime.Conn, func(), error) {
	opts = append(opts, runtime.OnEvent(log.event))
	token := s.token
	if token == "" {
		token = os.Getenv("ZDEX_TOKEN")
	}
	stop := func() {}
	switch {
	case strings.Contains(s.endpoint, "://"):
		opts = append(opts, runtime.WithURL(s.endpoint))
		s.rest = "http" + strings.TrimPrefix(s.endpoint, "ws")
	case s.endpoint != "":
		opts = append(opts, runtime.WithEndpoint(s.endpoint))
		s.env = s.endpoint
	case s.live:
	default:
		url, simToken, closeSim, err := startSim(s.market)
		if err != nil {
			return nil, nil, err
		}
		opts = append(opts, runtime.WithURL(url))
		s.rest = "http" + strings.TrimPrefix(url, "ws") // the simulator serves the REST snapshots too
		token, stop = simToken, closeSim
	}
	if token != "" {
		opts = append(opts, runtime.WithAuthToken(token))
	}
	s.dialed = opts
	c, err := runtime.Dial(ctx, s.cat.m.Info, opts...)
	if err != nil {
		stop()
		return nil, nil, err
	}
	return c, func() { c.Close(); stop() }, nil
}

// redial opens another connection to where dial connected (the same
// simulator, when dial started one). Call it after dial.
func (s *source) redial(ctx context.Context) (*runtime.Conn, error) {
	return runtime.Dial(ctx, s.cat.m.Info, s.dialed...)
}

// startSim starts the market's simulator and returns its base URL, the
// token it accepts ("" if none) and a function that stops it.
func startSim(market string) (url, token string, stop func(), err error) {
	seed := uint64(time.Now().UnixNano())
	type server interface {
		Start() error
		URL() string
		Close()
	}
	var s server
	switch market {
	case "dex":
		s = dexsim.New(dexsim.WithSeed(seed), dexsim.WithPublishInterval(250*time.Millisecond))
	case "zdex":
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return "", "", nil, err
		}
		token = hex.EncodeToString(b)
		s = zdexsim.New(zdexsim.WithSeed(seed), zdexsim.WithToken(token), zdexsim.WithPublishInterval(250*time.Millisecond))
	default:
		b, err := synth.Server(market, seed, sim.WithPublishInterval(100*time.Millisecond))
		if err != nil {
			return "", "", nil, err
		}
		s = b
	}
	if err := s.Start(); err != nil {
		s.Close()
		return "", "", nil, err
	}
	return s.URL(), token, s.Close, nil
}

// eventLog writes lifecycle events, and a status line when stderr is a
// terminal, to stderr.
type eventLog struct {
	mu         sync.Mutex
	w          io.Writer
	status     bool // a status line is shown and must be cleared first
	reconnects int
}

// event prints e as a line starting with "#".
func (l *eventLog) event(e runtime.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.Kind == runtime.EventReconnected {
		l.reconnects++
	}
	l.clear()
	fmt.Fprintf(l.w, "# %s %s\n", e.Time.Format("15:04:05.000"), e)
}

// printf prints a line.
func (l *eventLog) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clear()
	fmt.Fprintf(l.w, format+"\n", args...)
}

// printLines prints lines together, with nothing between them.
func (l *eventLog) printLines(lines []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clear()
	for _, s := range lines {
		fmt.Fprintln(l.w, s)
	}
}

// setStatus replaces the status line.
func (l *eventLog) setStatus(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprint(l.w, "\r\x1b[K"+s)
	l.status = true
}

func (l *eventLog) clear() {
	if l.status {
		fmt.Fprint(l.w, "\r\x1b[K")
		l.status = false
	}
}

// reconnected returns how many reconnects were reported.
func (l *eventLog) reconnected() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reconnects
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// streamer is implemented by every generated parameter type.
type streamer interface{ Stream() runtime.Stream }

// runtimeStream returns what the runtime subscribes for p.
func runtimeStream(p markets.Stream) runtime.Stream {
	return p.(streamer).Stream()
}
