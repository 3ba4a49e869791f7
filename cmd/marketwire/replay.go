package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/record"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/dexsim"
	"github.com/marketwire/marketwire/sim/zdexsim"
)

// replayGrace is how long playback waits, after the first subscription,
// for the other recorded streams to be subscribed.
const replayGrace = time.Second

// replayCmd serves recordings through the market's simulator.
func replayCmd(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	speedFlag := fs.String("speed", "1x", "playback speed: 1x, Nx (such as 10x or 0.5x) or max")
	loop := fs.Bool("loop", false, "play the recordings again and again")
	addr := fs.String("addr", "127.0.0.1:9443", "listen address")
	token := fs.String("token", "marketwire-replay", "zdex: the token the account channel's auth accepts")
	files, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return bad("no recording given")
	}
	speed, err := parseSpeed(*speedFlag)
	if err != nil {
		return badInput{err}
	}
	market, streams, err := readHeaders(files)
	if err != nil {
		return badInput{err}
	}
	srv, err := newReplayServer(market, streams, *addr, *token, speed == 0)
	if err != nil {
		return err
	}
	defer srv.close()
	log := &eventLog{w: stderr}
	hint := ""
	if market == "zdex" {
		hint = " -token " + *token
	}
	log.printf("marketwire replay: %s, %d streams from %s at %s on %s (marketwire tail -market %s -endpoint %s%s %s)",
		market, len(streams), strings.Join(files, " "), *speedFlag, srv.url, market, srv.url, hint, strings.Join(streams, " "))

	p := &player{market: market, files: files, speed: speed, srv: srv, log: log}
	errc := make(chan error, 1)
	go func() {
		if err := srv.wait(ctx, streams); err != nil {
			errc <- nil
			return
		}
		for {
			n, err := p.play(ctx)
			if err != nil || ctx.Err() != nil {
				errc <- err
				return
			}
			log.printf("marketwire replay: end of the recording, %d frames played", n)
			if !*loop {
				errc <- nil
				return
			}
		}
	}()
	select {
	case err := <-errc:
		if err != nil {
			return err
		}
		<-ctx.Done() // keep serving the connected clients
	case <-ctx.Done():
		srv.close() // ends a Blast waiting for a stuck client
		<-errc
	}
	return nil
}

// parseSpeed parses 1x, Nx or max (0).
func parseSpeed(s string) (float64, error) {
	if s == "max" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "x"), 64)
	if err != nil || f <= 0 || !strings.HasSuffix(s, "x") {
		return 0, fmt.Errorf("-speed %q: want 1x, a multiple such as 10x or 0.5x, or max", s)
	}
	return f, nil
}

// readHeaders checks that every file is a recording of one market and
// returns the market and the streams recorded.
func readHeaders(files []string) (string, []string, error) {
	market := ""
	seen := map[string]bool{}
	var streams []string
	for _, name := range files {
		h, err := readHeader(name)
		if err != nil {
			return "", nil, err
		}
		if market != "" && h.Market != market {
			return "", nil, fmt.Errorf("%s is a recording of %s, %s of %s", name, h.Market, files[0], market)
		}
		if _, ok := markets.All[h.Market]; !ok {
			return "", nil, fmt.Errorf("%s: recording of an unknown market %q", name, h.Market)
		}
		market = h.Market
		for _, s := range h.Streams {
			if !seen[s] {
				seen[s] = true
				streams = append(streams, s)
			}
		}
	}
	return market, streams, nil
}

func readHeader(name string) (record.Header, error) {
	f, err := os.Open(name)
	if err != nil {
		return record.Header{}, err
	}
	defer f.Close()
	r, err := record.NewReader(f)
	if err != nil {
		return record.Header{}, fmt.Errorf("%s: %w", name, err)
	}
	defer r.Close()
	return r.Header(), nil
}

// replayServer is a simulator of a market that publishes what it is given.
type replayServer struct {
	url     string
	dialect *runtime.Dialect
	// publish sends a frame of stream: payload, or the whole frame for a
	// stream whose decoder takes it whole.
	publish func(stream string, frame, payload []byte, whole bool)
	conns   func() [][]string // the streams each open connection subscribed
	close   func()
}

// newReplayServer starts the simulator of market for the recorded streams.
// At speed max (block), Binance markets wait for slow clients; the DEX and
// ZDEX simulators have no waiting publish and rely on a large buffer.
func newReplayServer(market string, streams []string, addr, token string, block bool) (*replayServer, error) {
	m := markets.All[market]
	recorded := map[string]bool{}
	for _, s := range streams {
		recorded[s] = true
	}
	// Feeds that publish nothing: the player publishes.
	src := sim.SourceFunc(func(stream string) (sim.Feed, error) {
		if !recorded[stream] {
			return nil, fmt.Errorf("stream %q is not in the recording", stream)
		}
		return sim.FeedFunc(func(time.Time) []byte { return nil }), nil
	})
	const buffer = 1 << 16
	r := &replayServer{dialect: &m.Info.Dialect}
	type server interface {
		Start() error
		URL() string
		Close()
	}
	var s server
	switch market {
	case "dex":
		d := dexsim.New(dexsim.WithSource(src), dexsim.WithPublishInterval(0), dexsim.WithAddr(addr), dexsim.WithOutboundBuffer(buffer))
		r.publish = func(stream string, _, payload []byte, _ bool) { d.Publish(stream, payload) }
		r.conns = func() (out [][]string) {
			for _, c := range d.Conns() {
				if c.Open {
					out = append(out, c.Streams)
				}
			}
			return out
		}
		s = d
	case "zdex":
		var symbols []string
		for _, st := range streams {
			if _, sym, ok := strings.Cut(st, ":"); ok {
				symbols = append(symbols, sym)
			}
		}
		z := zdexsim.New(zdexsim.WithSource(src), zdexsim.WithPublishInterval(0), zdexsim.WithEventInterval(0),
			zdexsim.WithAccountInterval(0), zdexsim.WithSymbols(symbols...), zdexsim.WithToken(token),
			zdexsim.WithAddr(addr), zdexsim.WithOutboundBuffer(buffer))
		r.publish = func(stream string, frame, payload []byte, whole bool) {
			if whole {
				z.PublishAccount(frame)
			} else {
				z.Publish(stream, payload)
			}
		}
		r.conns = func() (out [][]string) {
			for _, c := range z.Conns() {
				if c.Open {
					out = append(out, c.Streams)
				}
			}
			return out
		}
		s = z
	default:
		b := sim.New(m.Info, sim.WithPublishInterval(0), sim.WithAddr(addr), sim.WithOutboundBuffer(buffer),
			sim.WithValid(func(stream string) bool { return recorded[stream] }),
			sim.WithRoute(func(stream string) string {
				if p, err := m.ParseStream(stream); err == nil {
					return p.Route()
				}
				return ""
			}))
		r.publish = func(stream string, _, payload []byte, _ bool) {
			if block {
				b.Blast(stream, [][]byte{payload})
			} else {
				b.Publish(stream, payload)
			}
		}
		r.conns = func() (out [][]string) {
			for _, c := range b.OpenConns() {
				out = append(out, c.Streams)
			}
			return out
		}
		s = b
	}
	if err := s.Start(); err != nil {
		s.Close()
		return nil, err
	}
	r.url, r.close = s.URL(), s.Close
	return r, nil
}

// wait returns once a client has subscribed to every stream of want, or
// replayGrace after the first subscription.
func (r *replayServer) wait(ctx context.Context, want []string) error {
	var first time.Time
	for {
		have := map[string]bool{}
		for _, streams := range r.conns() {
			for _, s := range streams {
				have[s] = true
			}
		}
		all := true
		for _, s := range want {
			all = all && have[s]
		}
		if len(have) > 0 && first.IsZero() {
			first = time.Now()
		}
		if all || !first.IsZero() && time.Since(first) >= replayGrace {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// player plays recordings to a replayServer.
type player struct {
	market  string
	files   []string
	speed   float64 // 0: as fast as possible
	srv     *replayServer
	log     *eventLog
	streams map[string]runtime.Stream
}

// play plays every file once, in order, keeping the recorded intervals
// divided by the speed, and returns the number of frames played.
func (p *player) play(ctx context.Context) (int, error) {
	if p.streams == nil {
		p.streams = map[string]runtime.Stream{}
	}
	var t0, base time.Time
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	n := 0
	for _, name := range p.files {
		f, err := os.Open(name)
		if err != nil {
			return n, err
		}
		rd, err := record.NewReader(f)
		if err != nil {
			f.Close()
			return n, fmt.Errorf("%s: %w", name, err)
		}
		err = func() error {
			defer f.Close()
			defer rd.Close()
			for {
				fr, err := rd.Next()
				switch {
				case err == io.EOF:
					return nil
				case errors.Is(err, record.ErrTruncated):
					p.log.printf("marketwire replay: %s: %v", name, err)
					return nil
				case err != nil:
					return fmt.Errorf("%s: %w", name, err)
				}
				if p.speed > 0 {
					if t0.IsZero() {
						t0, base = fr.Time, time.Now()
					}
					if d := time.Until(base.Add(time.Duration(float64(fr.Time.Sub(t0)) / p.speed))); d > 0 {
						timer.Reset(d)
						select {
						case <-ctx.Done():
							return nil
						case <-timer.C:
						}
					}
				} else if ctx.Err() != nil {
					return nil
				}
				st, ok := p.streams[fr.Stream]
				if !ok {
					if st, err = record.StreamOf(p.market, fr.Stream); err != nil {
						p.log.printf("marketwire replay: skipping %s: %v", fr.Stream, err)
					}
					p.streams[fr.Stream] = st
				}
				if st.Decode == nil {
					continue
				}
				payload, err := record.Payload(p.srv.dialect, st, fr.Data)
				if err != nil {
					continue
				}
				p.srv.publish(fr.Stream, fr.Data, payload, st.Whole)
				n++
			}
		}()
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
