package natsbridge

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
)

// cluster is a JetStream cluster of embedded servers on loopback ports,
// each of which can be killed and restarted with its store.
type cluster struct {
	t             *testing.T
	client, route []int
	dirs          []string
	srvs          []*server.Server
	mu            sync.Mutex
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startCluster(t *testing.T, n int) *cluster {
	c := &cluster{t: t, srvs: make([]*server.Server, n)}
	for range n {
		c.client = append(c.client, freePort(t))
		c.route = append(c.route, freePort(t))
		c.dirs = append(c.dirs, t.TempDir())
	}
	for i := range n {
		c.start(i)
	}
	t.Cleanup(func() {
		for i := range n {
			c.kill(i)
		}
	})
	return c
}

func (c *cluster) start(i int) {
	c.t.Helper()
	var routes []string
	for j, p := range c.route {
		if j != i {
			routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
		}
	}
	s, err := server.NewServer(&server.Options{
		ServerName: fmt.Sprintf("n%d", i+1),
		Host:       "127.0.0.1",
		Port:       c.client[i],
		JetStream:  true,
		StoreDir:   c.dirs[i],
		Cluster:    server.ClusterOpts{Name: "mw", Host: "127.0.0.1", Port: c.route[i]},
		Routes:     server.RoutesFromStr(strings.Join(routes, ",")),
		NoLog:      true,
		NoSigs:     true,
	})
	if err != nil {
		c.t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		c.t.Fatalf("server %d not ready", i+1)
	}
	c.mu.Lock()
	c.srvs[i] = s
	c.mu.Unlock()
}

func (c *cluster) kill(i int) {
	c.mu.Lock()
	s := c.srvs[i]
	c.srvs[i] = nil
	c.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

func (c *cluster) urls() string {
	var u []string
	for _, p := range c.client {
		u = append(u, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	return strings.Join(u, ",")
}

func (c *cluster) index(name string) int {
	var i int
	if _, err := fmt.Sscanf(name, "n%d", &i); err != nil {
		c.t.Fatalf("server name %q", name)
	}
	return i - 1
}

// faultBridge is one bridge with its own NATS and exchange connections.
type faultBridge struct {
	nc *nats.Conn
	c  *runtime.Conn
	b  *Bridge
}

func (f *faultBridge) stop() {
	f.b.Close()
	f.c.Close()
	f.nc.Close()
}

// received records the ids a consumer got, per stream, and the longest
// pause between two deliveries.
type received struct {
	mu    sync.Mutex
	ids   map[string][]int64
	last  time.Time
	pause time.Duration
}

func (r *received) add(stream string, id int64) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.last.IsZero() {
		r.pause = max(r.pause, now.Sub(r.last))
	}
	r.last = now
	r.ids[stream] = append(r.ids[stream], id)
}

func (r *received) count(stream string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ids[stream])
}

// TestFaults: three JetStream servers (replicas 3), two bridges and one
// consumer while the simulator streams numbered trades and depth. One
// bridge is killed, then the stream's leader server, then both come back;
// the consumer must see every id exactly once and in order.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster fault test")
	}
	cl := startCluster(t, 3)
	ctx := testCtx(t)
	src := &sim.Numbered{}
	srv := sim.New(&spot.Market, sim.WithSource(src), sim.WithPublishInterval(5*time.Millisecond))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	streams := []runtime.Stream{spot.AggTradeParams{Symbol: "BTCUSDT"}.Stream(), spot.DiffDepthParams{Symbol: "BTCUSDT"}.Stream()}
	cfg := StreamConfig(DefaultStream)
	cfg.Replicas = 3
	var errMu sync.Mutex
	var pubErrs []string
	natsOpts := []nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(50 * time.Millisecond)}
	startBridge := func() *faultBridge {
		t.Helper()
		nc := connect(t, cl.urls(), natsOpts...)
		var b *Bridge
		waitFor(t, "JetStream ready", func() bool {
			actx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			var err error
			b, err = NewBridge(actx, nc, WithStreamConfig(cfg), OnError(func(err error) {
				errMu.Lock()
				pubErrs = append(pubErrs, err.Error())
				errMu.Unlock()
			}))
			if err != nil {
				t.Logf("NewBridge: %v", err)
				time.Sleep(200 * time.Millisecond)
			}
			return err == nil
		})
		c, err := runtime.Dial(ctx, &spot.Market, runtime.WithURL(srv.URL()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Add(ctx, c, streams); err != nil {
			t.Fatal(err)
		}
		f := &faultBridge{nc, c, b}
		t.Cleanup(f.stop)
		return f
	}

	b1 := startBridge()
	waitFor(t, "the first bridge's messages", func() bool { s := b1.b.Stats(); return s.Published+s.Batched > 20 })
	b2 := startBridge()

	rec := &received{ids: map[string][]int64{}}
	var evMu sync.Mutex
	var evs []string
	srcNC := connect(t, cl.urls(), natsOpts...)
	source, err := NewSource(srcNC, &spot.Market, StartAll(), WithFeedOptions(runtime.OnEvent(func(e runtime.Event) {
		evMu.Lock()
		evs = append(evs, e.String())
		evMu.Unlock()
	})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { source.Close() })
	if _, err := spot.SubscribeAggTrade(ctx, source, spot.AggTradeParams{Symbol: "BTCUSDT"}, func(ev *spot.AggTradeEvent) {
		rec.add("aggTrade", ev.AggTradeID)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := spot.SubscribeDiffDepth(ctx, source, spot.DiffDepthParams{Symbol: "BTCUSDT"}, func(ev *spot.DepthUpdateEvent) {
		rec.add("depth", ev.FinalUpdateID)
	}); err != nil {
		t.Fatal(err)
	}
	more := func(what string, n int) {
		t.Helper()
		a, d := rec.count("aggTrade"), rec.count("depth")
		waitFor(t, fmt.Sprintf("%d more events %s", n, what), func() bool {
			return rec.count("aggTrade") >= a+n && rec.count("depth") >= d+n
		})
	}
	start := time.Now()
	more("at the start", 100)

	b1.stop()
	more("after killing a bridge", 200)

	js, _ := jetstream.New(srcNC)
	st, err := js.Stream(ctx, DefaultStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leader := cl.index(info.Cluster.Leader)
	cl.kill(leader)
	more(fmt.Sprintf("after killing the stream leader n%d", leader+1), 200)

	cl.start(leader)
	b1 = startBridge()
	more("after restarting both", 200)

	// Stop publishing, then wait for the consumer to have all that is stored.
	b1.b.Close()
	b2.b.Close()
	// A publish cut short by Close may still be stored: read the counts
	// until two reads 300 ms apart agree.
	counts := map[string]uint64{}
	read := func() map[string]uint64 {
		info, err := st.Info(ctx, jetstream.WithSubjectFilter(SubjectPrefix+".>"))
		if err != nil {
			return nil
		}
		return map[string]uint64{
			"aggTrade": info.State.Subjects[Subject("spot", "btcusdt@aggTrade")],
			"depth":    info.State.Subjects[Subject("spot", "btcusdt@depth")],
		}
	}
	waitFor(t, "stable stream counts", func() bool {
		a := read()
		time.Sleep(300 * time.Millisecond)
		b := read()
		if a == nil || b == nil || a["aggTrade"] != b["aggTrade"] || a["depth"] != b["depth"] {
			return false
		}
		counts = b
		return true
	})
	waitFor(t, "the consumer to catch up", func() bool {
		return uint64(rec.count("aggTrade")) >= counts["aggTrade"] && uint64(rec.count("depth")) >= counts["depth"]
	})
	elapsed := time.Since(start)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, name := range []string{"aggTrade", "depth"} {
		ids := rec.ids[name]
		step := int64(1)
		if name == "depth" {
			step = 2
		}
		seen := map[int64]bool{}
		var dup, reorder int
		for i, id := range ids {
			if seen[id] {
				dup++
			}
			seen[id] = true
			if i > 0 && id < ids[i-1] {
				reorder++
			}
		}
		first, last := ids[0], ids[len(ids)-1]
		lost := int((last-first)/step+1) - len(seen)
		t.Logf("%s: stored %d, received %d, ids %d..%d, lost %d, duplicated %d, reordered %d",
			name, counts[name], len(ids), first, last, lost, dup, reorder)
		if lost != 0 || dup != 0 || reorder != 0 || first != step || uint64(len(ids)) != counts[name] {
			t.Errorf("%s: lost %d, duplicated %d, reordered %d, first id %d, received %d of %d stored", name, lost, dup, reorder, first, len(ids), counts[name])
		}
	}
	s1, s2 := b1.b.Stats(), b2.b.Stats()
	t.Logf("longest storage pause %v (between two messages stored)", storagePause(ctx, t, st))
	t.Logf("longest delivery pause %v over %v; bridge stats (restarted) %+v, (survivor) %+v; consumer %+v",
		rec.pause.Round(time.Millisecond), elapsed.Round(time.Millisecond), s1, s2, source.Stats())
	if g := source.Stats().Gaps; g != 0 {
		t.Errorf("the consumer reported %d gaps", g)
	}
	evMu.Lock()
	t.Logf("consumer events: %d (%s)", len(evs), strings.Join(first(evs, 5), "; "))
	evMu.Unlock()
	errMu.Lock()
	t.Logf("publish errors, retried: %d (%s)", len(pubErrs), strings.Join(first(pubErrs, 3), "; "))
	errMu.Unlock()
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }

// storagePause returns the longest time between two messages stored in st,
// to tell a pause of the publishers from one of the consumer.
func storagePause(ctx context.Context, t *testing.T, st jetstream.Stream) time.Duration {
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var prev time.Time
	var pause time.Duration
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if !prev.IsZero() {
			pause = max(pause, m.Time.Sub(prev))
		}
		prev = m.Time
	}
	return pause
}
