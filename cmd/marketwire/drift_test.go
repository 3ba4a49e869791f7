package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/synth"
	"github.com/marketwire/marketwire/wire"
)

// driftSim starts a spot simulator that publishes nothing by itself (the
// test publishes), and returns it.
func driftSim(t *testing.T) *sim.Server {
	t.Helper()
	s, err := synth.Server("spot", 1, sim.WithPublishInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// runPublishing runs the command in process while publishing payloads on
// stream, one each time the previous one reached a subscriber, until the
// command ends; it returns the command's output and exit status.
func runPublishing(t *testing.T, s *sim.Server, stream string, payloads []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, &out, &errOut) }()
	next := 0
	for {
		select {
		case code := <-done:
			return out.String(), errOut.String(), code
		case <-time.After(10 * time.Millisecond):
		}
		if next < len(payloads) && s.Publish(stream, []byte(payloads[next])) > 0 {
			next++
		}
	}
}

// aggTradeWithX returns an aggTrade payload with id a and an extra key X
// the schema does not know.
func aggTradeWithX(a, x int) string {
	return fmt.Sprintf(`{"e":"aggTrade","E":1700000000000,"s":"BTCUSDT","a":%d,"p":"37000.10","q":"0.5","f":%d,"l":%d,"T":1700000000000,"m":true,"M":true,"X":%d}`, a, a, a, x)
}

// TestTailDrift tails a stream whose payloads carry a key the schema does
// not know: tail -drift reports it on stderr when it ends, and record
// after its summary. Not parallel: the drift report is process-wide.
func TestTailDrift(t *testing.T) {
	wire.ResetDrift()
	t.Cleanup(wire.ResetDrift)
	s := driftSim(t)
	const stream = "btcusdt@aggTrade"
	payloads := []string{aggTradeWithX(1, 42), aggTradeWithX(2, 43)}

	out, errOut, code := runPublishing(t, s, stream, payloads, "tail", "-drift", "-endpoint", s.URL(), "-n", "2", stream)
	if code != 0 || len(lines(out)) != 2 {
		t.Fatalf("tail: status %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	var drift []string
	for _, l := range lines(errOut) {
		if strings.HasPrefix(l, "drift:") {
			drift = append(drift, l)
		}
	}
	want := []string{`drift: spot aggTrade: unknown key "X" (2 times, e.g. 42)`}
	if strings.Join(drift, "\n") != strings.Join(want, "\n") {
		t.Errorf("tail -drift printed\n%s\nwant\n%s\nstderr:\n%s", strings.Join(drift, "\n"), strings.Join(want, "\n"), errOut)
	}

	// record decodes what it records and prints the report after its
	// summary; the report is the process's, so it holds tail's 2 too.
	file := filepath.Join(t.TempDir(), "drift.mwr")
	_, errOut, code = runPublishing(t, s, stream, []string{aggTradeWithX(3, 44), aggTradeWithX(4, 45)},
		"record", "-endpoint", s.URL(), "-o", file, "-n", "2", stream)
	ls := lines(errOut)
	if code != 0 || len(ls) < 2 || !strings.HasPrefix(ls[len(ls)-2], "recorded 1 streams: 2 messages") ||
		ls[len(ls)-1] != `drift: spot aggTrade: unknown key "X" (4 times, e.g. 42)` {
		t.Errorf("record: status %d, stderr:\n%s\nwant the summary, then the drift line", code, errOut)
	}
}

// TestTailDriftNone checks the report of a tail whose payloads the schema
// describes entirely.
func TestTailDriftNone(t *testing.T) {
	wire.ResetDrift()
	t.Cleanup(wire.ResetDrift)
	_, errOut, code := mw(t, "tail", "-drift", "-n", "3", "btcusdt@aggTrade", "btcusdt@kline_1m", "btcusdt@depth@100ms")
	if code != 0 || !strings.HasSuffix(errOut, "\ndrift: none\n") {
		t.Errorf("status %d, stderr:\n%s\nwant it to end with drift: none", code, errOut)
	}
}
