package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

func startNATS(t *testing.T) string {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s.ClientURL()
}

// bridge publishes to an embedded JetStream; tail -nats reads the typed
// events back, from the beginning.
func TestBridgeAndTailNATS(t *testing.T) {
	url := startNATS(t)
	ctx, cancel := context.WithCancel(context.Background())
	var errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"bridge", "-nats", url, "-status", "0", "btcusdt@aggTrade", "ethusdt@bookTicker"}, &syncBuffer{}, &errOut)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(errOut.String(), "# bridging 2 streams") {
		if time.Now().After(deadline) {
			t.Fatalf("bridge did not start:\n%s", errOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	out, tailErr, code := mw(t, "tail", "-nats", url, "-start", "all", "-n", "3", "btcusdt@aggTrade")
	cancel()
	if c := <-done; c != 0 {
		t.Fatalf("bridge: status %d:\n%s", c, errOut.String())
	}
	if code != 0 || len(lines(out)) != 3 || !strings.Contains(out, "btcusdt@aggTrade") {
		t.Fatalf("tail -nats: status %d, stdout:\n%s\nstderr:\n%s", code, out, tailErr)
	}
	if !strings.Contains(errOut.String(), "published ") {
		t.Fatalf("bridge printed no summary:\n%s", errOut.String())
	}
}

func TestBridgeBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bridge", "-replicas", "0", "btcusdt@aggTrade"}, "-replicas 0"},
		{[]string{"bridge", "btcusdt@nosuch"}, "unknown stream"},
		{[]string{"bridge", "-nats", "nats://127.0.0.1:1", "btcusdt@aggTrade"}, "nats nats://127.0.0.1:1"},
		{[]string{"tail", "-nats", "nats://127.0.0.1:1", "-start", "yesterday", "btcusdt@aggTrade"}, `-start "yesterday"`},
	} {
		_, errOut, code := mw(t, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: status %d, stderr %q, want %q", tc.args, code, errOut, tc.want)
		}
	}
}
