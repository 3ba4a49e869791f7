package main

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/marketwire/marketwire/examples/internal/connect"
	"github.com/marketwire/marketwire/orderbook"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLadder runs the example against the simulator for two seconds: it
// prints a synced ladder of five asks and five bids, then closes everything
// (goleak checks).
func TestLadder(t *testing.T) {
	var buf syncBuffer
	out = &buf
	g := orderbook.NewGroup()
	connect.OnEvent(g.Observe)
	if err := connect.Run(withFor(t, "2s"), "usdm", show(g)); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	i := strings.Index(text, "lastUpdateId")
	if i < 0 {
		t.Fatalf("no synced ladder in:\n%s", text)
	}
	ladder := text[i:]
	ladder = ladder[:strings.Index(ladder, "\n\n")]
	if a, b := strings.Count(ladder, "ask "), strings.Count(ladder, "bid "); a != 5 || b != 5 {
		t.Fatalf("ladder with %d asks and %d bids:\n%s", a, b, ladder)
	}
}

func withFor(t *testing.T, d string) context.Context {
	t.Helper()
	if err := flagSet("for", d); err != nil {
		t.Fatal(err)
	}
	if err := flagSet("symbol", "ETHUSDT"); err != nil {
		t.Fatal(err)
	}
	if err := flagSet("market", "usdm"); err != nil {
		t.Fatal(err)
	}
	return context.Background()
}

func flagSet(name, value string) error { return flag.Set(name, value) }
