package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/natsbridge"
	"github.com/marketwire/marketwire/orderbook"
)

// bridge -books keeps a book from its simulator and publishes its
// snapshots (and its diff stream, named by no argument); a program keeps
// the same book from the cluster with natsbridge.OpenBook.
func TestBridgeBooks(t *testing.T) {
	url := startNATS(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"bridge", "-nats", url, "-status", "0", "-books", "BTCUSDT", "-book-every", "100ms"}, &syncBuffer{}, &errOut)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(errOut.String(), "# publishing book snapshots every 100ms on mw.book.spot.BTCUSDT") {
		if time.Now().After(deadline) {
			t.Fatalf("bridge did not start:\n%s", errOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	src, err := natsbridge.NewSource(nc, &spot.Market)
	if err != nil {
		t.Fatal(err)
	}
	b, err := natsbridge.OpenBook(ctx, src, &spot.OrderBook, "BTCUSDT", orderbook.WithRetry(20*time.Millisecond, 200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	for b.State() != orderbook.Synced {
		if time.Now().After(deadline.Add(10 * time.Second)) {
			t.Fatalf("the book from the cluster is not Synced (stats %+v); bridge:\n%s", b.Stats(), errOut.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, ok := b.BestBid(); !ok {
		t.Error("a Synced book without bids")
	}
	b.Close()
	src.Close()
	cancel()
	if c := <-done; c != 0 {
		t.Fatalf("bridge: status %d:\n%s", c, errOut.String())
	}
	if !strings.Contains(errOut.String(), "book snapshots (0 already stored") {
		t.Errorf("bridge printed no book summary:\n%s", errOut.String())
	}
}

func TestBridgeBooksBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bridge", "-market", "dex", "-books", "BTCUSDT"}, "market dex has no diff-stream order book"},
		{[]string{"bridge", "-books", " , "}, "no symbol"},
		{[]string{"bridge", "-books", "BTCUSDT", "-book-every", "0s"}, "-book-every 0s"},
		{[]string{"bridge"}, "no stream given"},
	} {
		_, errOut, code := mw(t, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: status %d, stderr %q, want %q", tc.args, code, errOut, tc.want)
		}
	}
}
