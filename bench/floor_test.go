package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/marketwire/marketwire/runtime"
)

// K is the number of distinct frames the feed serializes; a run of n frames
// streams them in order, again and again (ids restart at the first frame's),
// the last repetition cut short.
const K = 4096

// A receiver is one way of reading the feed. open connects and subscribes
// (not timed) for a run of n frames; the returned session's wait is timed.
type receiver struct {
	name string
	open func(tb testing.TB, p *payload, f *feed, n int) (*session, error)
}

// session is one receiver's run of n frames.
type session struct {
	// wait returns once all n frames were received (or fails); fed is
	// closed, after its error if any, when the feed has written them all.
	wait func(fed <-chan error) error
	// check compares what was received with what the feed sent; it runs
	// after close, when no handler runs any more.
	check func() error
	close func()
}

// A mode is one way of receiving through the runtime: runtime.Dial with
// dial options and the generated Subscribe helper with subscription options
// opts (none: the defaults).
type mode struct {
	name string
	dial []runtime.Option
	opts []runtime.SubscribeOption
}

// modes are the runtime's delivery modes under measurement; the first is the
// default, the one issue 10's targets are about. To measure another delivery
// mode (say, a handler that borrows the event, or one run on the reader
// goroutine), add it here: BenchmarkFloor, BenchmarkLatency and
// BenchmarkScale each get a row for it.
var modes = []mode{
	// Default options: DropOldest, queue of DefaultQueueSize events.
	{"marketwire", nil, nil},
	// Block: the reader waits for the handler instead of dropping. Not the
	// default; it shows what the path costs while the default drops part of
	// a full-speed feed.
	{"marketwire-block", nil, []runtime.SubscribeOption{runtime.WithOverflow(runtime.Block)}},
	// Borrow: the handler borrows each event (runtime.WithBorrow), which
	// the runtime decodes a later event into once the handler returns.
	{"marketwire-borrow", nil, []runtime.SubscribeOption{runtime.WithBorrow()}},
	// Inline: the handler runs on the reader goroutine (runtime.WithInline),
	// no queue and no hand-off; the event is borrowed.
	{"marketwire-inline", nil, []runtime.SubscribeOption{runtime.WithInline()}},
}

// receivers are the rows of BenchmarkFloor, in order: the bare read (the
// floor the others are compared with), gorilla + goccy, and one row per
// runtime mode.
var receivers = func() []receiver {
	rs := []receiver{{"bare", openBare}, {"bare+300ns", openBusy}, {"bare+decode", openDecode}, {"gorilla+goccy", openGoccy}}
	for _, m := range modes {
		rs = append(rs, receiver{m.name, func(tb testing.TB, p *payload, f *feed, n int) (*session, error) {
			return openRuntime(tb, p, f, n, m)
		}})
	}
	return rs
}()

// bareDialer is gorilla's dialer with the read buffer the runtime's links
// use (readBuffer in runtime/link.go), so that the bare read and the naive
// loop make as few read system calls as marketwire does.
var bareDialer = websocket.Dialer{ReadBufferSize: 16 << 10}

// dialBare opens a gorilla client that carries p's stream: named in the URL
// on Binance, subscribed (welcome and ack read) on ZDEX.
func dialBare(p *payload, f *feed) (*websocket.Conn, error) {
	ws, _, err := bareDialer.Dial(f.url+p.barePath, nil)
	if err != nil {
		return nil, err
	}
	if p.zdexSub != "" {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(p.zdexSub)); err != nil {
			ws.Close()
			return nil, err
		}
		for range 2 { // the welcome and the ack
			if _, _, err := ws.ReadMessage(); err != nil {
				ws.Close()
				return nil, err
			}
		}
	}
	// Keep the client's own reads bounded, so a lost frame fails rather
	// than hangs.
	_ = ws.SetReadDeadline(time.Now().Add(2 * time.Minute))
	return ws, nil
}

// openBare reads each frame with NextReader into one reused buffer, and
// checks the number of payload bytes read.
func openBare(_ testing.TB, p *payload, f *feed, n int) (*session, error) {
	return bareSession(p, f, n, nil)
}

// openBusy is the bare read followed by 300 ns of busy waiting per frame,
// a stand-in for work a client does per message. On loopback it costs more
// than the bare read plus 300 ns: a reader slower than the feed has the
// kernel send the feed's queued data from inside its own read calls.
func openBusy(_ testing.TB, p *payload, f *feed, n int) (*session, error) {
	return bareSession(p, f, n, func([]byte) error {
		for t := time.Now(); time.Since(t) < 300*time.Nanosecond; {
		}
		return nil
	})
}

// openDecode is the floor of receiving typed events: the bare read, then
// the payload decoded by its generated decoder into one reused event and
// passed to the same handler as the runtime rows, all on one goroutine. The
// payload is taken at its known place in the frame, with no envelope scan.
// A client cannot do less and get typed events; that it already costs more
// than the bare read plus the decode measured alone is the cost of a reader
// slower than the feed on loopback (see the README's Benchmarks).
func openDecode(_ testing.TB, p *payload, f *feed, n int) (*session, error) {
	// The payload's stream and handler, as its Subscribe helper passes them.
	var src capture
	var sum, got int64
	if _, err := p.subscribe(context.Background(), &src, func(id int64) { sum += id; got++ }); err != nil {
		return nil, err
	}
	pre, suf, err := dataPlace(p)
	if err != nil {
		return nil, err
	}
	dec := src.st.NewDecoder()
	var ev any
	s, err := bareSession(p, f, n, func(frame []byte) (err error) {
		if ev, err = dec.Decode(frame[pre:len(frame)-suf], ev); err != nil {
			return err
		}
		src.handle(ev)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.check = func() error {
		if got != int64(n) || sum != f.fr.sum(n) {
			return fmt.Errorf("handled %d events (id sum %d), the feed sent %d (id sum %d)", got, sum, n, f.fr.sum(n))
		}
		return nil
	}
	return s, nil
}

// bareSession is the bare read: each frame read whole into one reused
// buffer and passed to each, if not nil; check compares the bytes read with
// the feed's.
func bareSession(p *payload, f *feed, n int, each func(frame []byte) error) (*session, error) {
	ws, err := dialBare(p, f)
	if err != nil {
		return nil, err
	}
	var total int64
	buf := make([]byte, 64<<10)
	return &session{
		wait: func(<-chan error) error {
			for i := 0; i < n; i++ {
				_, r, err := ws.NextReader()
				if err != nil {
					return fmt.Errorf("frame %d of %d: %w", i+1, n, err)
				}
				m := 0
				for {
					if m == len(buf) {
						buf = append(buf, make([]byte, len(buf))...)
					}
					k, err := r.Read(buf[m:])
					m += k
					if err == io.EOF {
						break
					}
					if err != nil {
						return err
					}
				}
				total += int64(m)
				if each != nil {
					if err := each(buf[:m]); err != nil {
						return fmt.Errorf("frame %d: %w", i+1, err)
					}
				}
			}
			return nil
		},
		check: func() error {
			if want := f.fr.bytes(n); total != want {
				return fmt.Errorf("read %d payload bytes, the feed sent %d", total, want)
			}
			return nil
		},
		close: func() { ws.Close() },
	}, nil
}

// dataPlace returns how many bytes of p's frames come before and after the
// data member; it fails unless they are the same in the first frames.
func dataPlace(p *payload) (pre, suf int, err error) {
	for i := range 3 {
		d, _ := p.data(i)
		fr := p.frame(i, d)
		j := bytes.Index(fr, d)
		if j < 0 || i > 0 && (j != pre || len(fr)-j-len(d) != suf) {
			return 0, 0, fmt.Errorf("%s: the data member is not at the same place in every frame", p.name)
		}
		pre, suf = j, len(fr)-j-len(d)
	}
	return pre, suf, nil
}

// capture is a runtime.Source that subscribes nothing: it keeps the stream
// and handler that a generated Subscribe helper passes to it.
type capture struct {
	st     runtime.Stream
	handle func(any)
}

func (c *capture) Subscribe(_ context.Context, st runtime.Stream, handle func(any), _ ...runtime.SubscribeOption) (*runtime.Subscription, error) {
	c.st, c.handle = st, handle
	return nil, nil
}

func (c *capture) SubscribeAll(context.Context, []runtime.Stream, func(any), ...runtime.SubscribeOption) ([]*runtime.Subscription, error) {
	return nil, errors.New("capture: SubscribeAll")
}

func (c *capture) Market() *runtime.Market { return nil }

// openGoccy reads each frame with ReadMessage and decodes it with
// goccy/go-json into plain structs, summing the ids.
func openGoccy(_ testing.TB, p *payload, f *feed, n int) (*session, error) {
	ws, err := dialBare(p, f)
	if err != nil {
		return nil, err
	}
	var sum int64
	return &session{
		wait: func(<-chan error) error {
			for i := 0; i < n; i++ {
				_, msg, err := ws.ReadMessage()
				if err != nil {
					return fmt.Errorf("frame %d of %d: %w", i+1, n, err)
				}
				id, err := p.plain(msg)
				if err != nil {
					return fmt.Errorf("frame %d: %w", i+1, err)
				}
				sum += id
			}
			return nil
		},
		check: func() error {
			if want := f.fr.sum(n); sum != want {
				return fmt.Errorf("sum of ids %d, the feed sent %d", sum, want)
			}
			return nil
		},
		close: func() { ws.Close() },
	}, nil
}

// tally counts the events one handler receives and sums their ids. n and
// sum belong to the handler's goroutine; seen publishes n every 64 events
// for progress reports. done is closed when n reaches want.
type tally struct {
	n, sum int64
	want   int64
	seen   atomic.Int64
	done   chan struct{}
}

func newTally(want int64) *tally { return &tally{want: want, done: make(chan struct{})} }

func (t *tally) add(id int64) {
	t.n++
	t.sum += id
	if t.n&63 == 0 {
		t.seen.Store(t.n)
	}
	if t.n == t.want {
		t.seen.Store(t.n)
		close(t.done)
	}
}

// dialRuntime dials m on the feed with the options a benchmark's setup
// needs: no connection budget (each run dials anew; the budget only paces
// dials) plus extra.
func dialRuntime(m *runtime.Market, f *feed, extra ...runtime.Option) (*runtime.Conn, error) {
	opts := append([]runtime.Option{runtime.WithURL(f.url), runtime.WithConnectionBudget(0, 0)}, extra...)
	return runtime.Dial(context.Background(), m, opts...)
}

// openRuntime receives through runtime.Dial and the generated Subscribe
// helper in mode m into a handler that counts events and sums their ids.
func openRuntime(_ testing.TB, p *payload, f *feed, n int, m mode) (*session, error) {
	c, err := dialRuntime(p.market, f, m.dial...)
	if err != nil {
		return nil, err
	}
	t := newTally(int64(n))
	sub, err := p.subscribe(context.Background(), c, t.add, m.opts...)
	if err != nil {
		c.Close()
		return nil, err
	}
	subs := []*runtime.Subscription{sub}
	return &session{
		wait: func(fed <-chan error) error {
			return waitDelivered(fed, []<-chan struct{}{t.done}, subs, func() int64 { return t.seen.Load() })
		},
		check: func() error {
			if t.n != int64(n) || t.sum != f.fr.sum(n) {
				return fmt.Errorf("handler got %d events (id sum %d), the feed sent %d (id sum %d); dropped %d",
					t.n, t.sum, n, f.fr.sum(n), sub.Dropped())
			}
			return nil
		},
		close: func() { c.Close() },
	}, nil
}

// errDropped reports events the runtime dropped.
var errDropped = errors.New("events dropped")

// waitDelivered waits until every done channel is closed. It fails as soon
// as a subscription drops an event or ends, when the feed fails, or when
// nothing is delivered for 5 s after the feed has written everything.
func waitDelivered(fed <-chan error, done []<-chan struct{}, subs []*runtime.Subscription, progress func() int64) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var fedAt time.Time
	last, lastAt := progress(), time.Now()
	for _, d := range done {
	wait:
		for {
			select {
			case <-d:
				break wait
			case err, ok := <-fed:
				if ok && err != nil {
					return fmt.Errorf("feed: %w", err)
				}
				fed, fedAt = nil, time.Now()
			case <-tick.C:
				var dropped uint64
				for _, s := range subs {
					dropped += s.Dropped()
					select {
					case <-s.Done():
						return fmt.Errorf("subscription %s ended: %v (%d events delivered)", s.Stream(), s.Err(), progress())
					default:
					}
				}
				if dropped > 0 {
					return fmt.Errorf("%w: %d (about %d delivered)", errDropped, dropped, progress())
				}
				if p := progress(); p != last {
					last, lastAt = p, time.Now()
				}
				if !fedAt.IsZero() && time.Since(lastAt) > 5*time.Second && time.Since(fedAt) > 5*time.Second {
					return fmt.Errorf("nothing delivered for 5 s after the feed wrote everything (about %d delivered)", last)
				}
			}
		}
	}
	return nil
}

// runOnce runs one receiver over n frames of p from a new feed. timer, if
// not nil, is called with true right before the feed starts and with false
// once every frame was received.
func runOnce(tb testing.TB, p *payload, fr *frames, r receiver, n int, timer func(on bool)) error {
	f := newFeed(tb, fr, p.dialect, 1)
	s, err := r.open(tb, p, f, n)
	if err != nil {
		return err
	}
	fc := f.conn(tb)
	fed := make(chan error, 1)
	if timer != nil {
		timer(true)
	}
	go func() {
		if err := fc.stream(n); err != nil {
			fed <- err
		}
		close(fed)
	}()
	err = s.wait(fed)
	if timer != nil {
		timer(false)
	}
	s.close()
	if err != nil {
		return err
	}
	return s.check()
}

// measure runs one receiver over b.N frames of p and returns ns per frame.
func measure(b *testing.B, p *payload, fr *frames, r receiver) float64 {
	b.ReportAllocs()
	err := runOnce(b, p, fr, r, b.N, func(on bool) {
		if on {
			b.ResetTimer()
		} else {
			b.StopTimer()
		}
	})
	if err != nil {
		b.Fatalf("%s/%s: %v", p.name, r.name, err)
	}
	return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
}

// BenchmarkFloor receives each payload's frames from the pre-serialized feed
// with each receiver. One op is one frame: ns/op, B/op and allocs/op are per
// message. x-bare is ns/op over the bare read's ns/op for the same payload,
// measured in the same run (run the bare row too to get it).
func BenchmarkFloor(b *testing.B) {
	for _, p := range payloads {
		var fr *frames   // built on first use, so that -bench filters skip it
		var bare float64 // ns/op of this payload's bare row, 0 if it failed
		for i, r := range receivers {
			b.Run(p.name+"/"+r.name, func(b *testing.B) {
				if i == 0 {
					bare = 0
				}
				if fr == nil {
					fr = p.frames(K)
				}
				ns := measure(b, p, fr, r)
				if i == 0 {
					bare = ns
				} else if bare > 0 {
					b.ReportMetric(ns/bare, "x-bare")
				}
			})
		}
	}
}
