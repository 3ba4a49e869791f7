package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
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

// The demo prints typed trades read back from JetStream, with no gap
// although one bridge stops halfway.
func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var out, logw syncBuffer
	if err := run(ctx, []string{"BTCUSDT"}, &out, &logw); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "BTCUSDT") || !strings.Contains(logw.String(), "# bridge 1 stopped") || !strings.Contains(logw.String(), "consumer gaps: 0") {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out.String(), logw.String())
	}
}
