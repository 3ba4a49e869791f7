package bench

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkLatencyProcess is BenchmarkLatency with the feed in a process of
// its own (this test binary again, running TestLatencyFeedProcess), as a
// real server is: the feed's goroutines do not share the client's
// scheduler. Write and receive times are compared on the wall clock.
func BenchmarkLatencyProcess(b *testing.B) { benchLatency(b, runLatencyProcess) }

// latencyFeedEnv tells TestLatencyFeedProcess what to feed:
// "<payload>,<rate>,<frames>,<stamp file>".
const latencyFeedEnv = "MARKETWIRE_LATENCY_FEED"

// runLatencyProcess is runLatency with the feed in a child process.
func runLatencyProcess(tb testing.TB, p *payload, fr *frames, r latencyReceiver, rate float64, n, warm int) (latencyResult, error) {
	stampFile := tb.TempDir() + "/stamps"
	cmd := exec.Command(os.Args[0], "-test.run=^TestLatencyFeedProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s,%d,%d,%s", latencyFeedEnv, p.name, int(rate), n, stampFile))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return latencyResult{}, err
	}
	if err := cmd.Start(); err != nil {
		return latencyResult{}, err
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(out)
	url := ""
	for url == "" && lines.Scan() {
		url, _ = strings.CutPrefix(lines.Text(), "feed at ")
	}
	if url == "" {
		return latencyResult{}, fmt.Errorf("the feed process printed no address")
	}
	epoch := time.Now()
	s, err := r.open(tb, p, &feed{fr: fr, dialect: p.dialect, url: url}, n, epoch)
	if err != nil {
		return latencyResult{}, err
	}
	fed := make(chan error, 1)
	go func() {
		for lines.Scan() { // until the feed exits
		}
		if err := cmd.Wait(); err != nil {
			fed <- fmt.Errorf("feed process: %w", err)
		}
		close(fed)
	}()
	err = s.wait(fed)
	s.close()
	for range fed {
	}
	if err != nil {
		return latencyResult{}, err
	}
	raw, err := os.ReadFile(stampFile)
	if err != nil {
		return latencyResult{}, err
	}
	if len(raw) != 8*(n+1) {
		return latencyResult{}, fmt.Errorf("stamp file has %d bytes, want %d", len(raw), 8*(n+1))
	}
	writes := int(binary.LittleEndian.Uint64(raw))
	stamps := make([]int64, n)
	for i := range stamps {
		stamps[i] = int64(binary.LittleEndian.Uint64(raw[8*(i+1):]))
	}
	at, ids, _ := s.got()
	base := epoch.UnixNano() // at is on the monotonic clock from epoch
	wall := make([]int64, len(at))
	for i, a := range at {
		wall[i] = base + a
	}
	return latencies(fr, wall, ids, stamps, writes, warm)
}

// TestLatencyFeedProcess is the feed of BenchmarkLatencyProcess, run in a
// child process; it is skipped otherwise. It prints its address, waits for
// one subscribed connection, paces the frames, and writes the number of
// writes and each frame's write time (Unix nanoseconds) to the stamp file.
func TestLatencyFeedProcess(t *testing.T) {
	spec := os.Getenv(latencyFeedEnv)
	if spec == "" {
		t.Skip("the feed of BenchmarkLatencyProcess")
	}
	parts := strings.SplitN(spec, ",", 4)
	if len(parts) != 4 {
		t.Fatalf("%s=%q", latencyFeedEnv, spec)
	}
	rate, err1 := strconv.Atoi(parts[1])
	n, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil {
		t.Fatalf("%s=%q", latencyFeedEnv, spec)
	}
	p := payloadNamed(parts[0])
	f := newFeed(t, p.frames(K), p.dialect, 1)
	fmt.Printf("feed at %s\n", f.url)
	fc := f.conn(t)
	epoch := time.Now()
	stamps := make([]int64, n)
	writes, err := fc.pace(n, float64(rate), epoch, stamps)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(writes))
	base := epoch.UnixNano()
	for _, s := range stamps {
		out = binary.LittleEndian.AppendUint64(out, uint64(base+s))
	}
	if err := os.WriteFile(parts[3], out, 0o600); err != nil {
		t.Fatal(err)
	}
	// Let the client read what was written before the connection closes.
	time.Sleep(500 * time.Millisecond)
}

// TestLatencyProcessHarness runs BenchmarkLatencyProcess's harness briefly
// with the default mode, so that go test covers it.
func TestLatencyProcessHarness(t *testing.T) {
	if os.Getenv(latencyFeedEnv) != "" {
		t.Skip("in the feed process")
	}
	p := payloadNamed("aggTrade")
	res, err := runLatencyProcess(t, p, p.frames(K), latencyReceivers[1], 5000, 300, 50)
	if err != nil {
		t.Fatal(err)
	}
	if res.lost != 0 || len(res.lat) != 250 {
		t.Fatalf("%d latencies, %d lost; want 250, 0", len(res.lat), res.lost)
	}
	t.Logf("p50 %.1f µs, p99 %.1f µs", res.quantile(0.5)/1e3, res.quantile(0.99)/1e3)
}
