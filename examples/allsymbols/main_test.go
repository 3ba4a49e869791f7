package main

import (
	"bytes"
	"context"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/marketwire/marketwire/examples/internal/connect"
	"github.com/marketwire/marketwire/runtime"
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

// TestFor runs the example against the simulator with 600 symbols, 1,200
// streams, beyond one connection's 1,024: every stream is confirmed, the
// summary lines show two connections, messages and no drops, and the
// example stops cleanly after -for (goleak checks).
func TestFor(t *testing.T) {
	var out, logs syncBuffer
	log.SetOutput(&logs)
	defer log.SetOutput(os.Stderr)
	err := connect.MainArgs("spot", []string{"-for", "3500ms", "-n", "600"}, func(ctx context.Context, c *runtime.Conn) error {
		syms, err := symbols()
		if err != nil {
			return err
		}
		return run(ctx, c, syms, &out)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "1200 of 1200 streams confirmed") {
		t.Errorf("not every stream confirmed:\n%s", logs.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 2 {
		t.Fatalf("%d summary lines:\n%s", len(lines), out.String())
	}
	last := lines[len(lines)-1]
	for _, want := range []string{"streams 1200 ", "connections 2 (1024+176)", " dropped 0 "} {
		if !strings.Contains(last, want) {
			t.Errorf("last summary line %q lacks %q", last, want)
		}
	}
	if strings.Contains(last, "msg/s 0 ") {
		t.Errorf("no messages: %q", last)
	}
	if !strings.Contains(logs.String(), "stopped (after -for 3.5s); connection closed") {
		t.Errorf("no closing line:\n%s", logs.String())
	}
}

// TestSymbolsFile reads symbols from -symbols and -symbols-file, skipping
// blank and comment lines.
func TestSymbolsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "symbols.txt")
	if err := os.WriteFile(path, []byte("# spot\nBTCUSDT\n\n  ETHUSDT \n#BNBUSDT\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	defer func(f, l string) { *symbolsFile, *symbolsFlag = f, l }(*symbolsFile, *symbolsFlag)
	*symbolsFile, *symbolsFlag = path, "SOLUSDT, XRPUSDT"
	got, err := symbols()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"SOLUSDT", "XRPUSDT", "BTCUSDT", "ETHUSDT"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	*symbolsFile = filepath.Join(t.TempDir(), "missing.txt")
	if _, err := symbols(); err == nil {
		t.Error("a missing -symbols-file is no error")
	}
	if m := madeUp(17576); m[0] != "AAAUSDT" || m[17575] != "ZZZUSDT" || len(slices.Compact(slices.Clone(m))) != len(m) {
		t.Errorf("made-up symbols: %s … %s", m[0], m[len(m)-1])
	}
}
