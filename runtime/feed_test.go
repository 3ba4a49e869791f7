package runtime_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/marketwire/marketwire/runtime"
)

func newFeed(t *testing.T, opts ...runtime.Option) (*runtime.Feed, *recorder) {
	t.Helper()
	rec := &recorder{}
	f, err := runtime.NewFeed(testMarket(), append([]runtime.Option{runtime.OnEvent(rec.handle), runtime.WithDropReportInterval(10 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, rec
}

// A Feed delivers payloads in order, reports undecodable payloads and gaps
// as events, and ends its subscriptions on Unsubscribe and Close.
func TestFeed(t *testing.T) {
	f, rec := newFeed(t)
	col := newCollector()
	a, err := f.Subscribe(stream("a"), col.handle)
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.Subscribe(stream("a"), col.handle) // a second, fed on its own
	if err != nil {
		t.Fatal(err)
	}
	f.Confirm(a, nil)
	if err := a.Ready(ctx(t)); err != nil {
		t.Fatal(err)
	}
	for _, p := range seqPayloads("a", 1, 3) {
		if !f.Deliver(a, p) {
			t.Fatal("not queued")
		}
	}
	if f.Deliver(a, []byte(`{"s":"a","seq":"x"}`)) {
		t.Fatal("an undecodable payload was queued")
	}
	for _, p := range seqPayloads("a", 6, 7) {
		f.Deliver(a, p)
	}
	col.waitLen(t, "a", 5)
	if got, want := fmt.Sprint(col.get("a")), "[1 2 3 6 7]"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	var fe *runtime.FrameError
	e := rec.wait(t, runtime.EventError, nil)
	if !errors.As(e.Err, &fe) || fe.Stream != "a" {
		t.Fatalf("decode error event: %v", e)
	}
	g := rec.wait(t, runtime.EventGap, nil)
	if g.From != 4 || g.To != 5 || g.Stream != "a" {
		t.Fatalf("gap event: %v", g)
	}
	if st := f.Stats(); st.Frames != 6 || st.Rejected != 1 || st.Gaps != 1 {
		t.Fatalf("stats: %+v", st)
	}

	// A refused subscription ends with the error.
	refused := errors.New("no such stream")
	f.Confirm(b, refused)
	var se *runtime.SubscribeError
	if err := b.Ready(ctx(t)); !errors.As(err, &se) || !errors.Is(err, refused) {
		t.Fatalf("Ready after a refusal: %v", err)
	}
	<-b.Done()
	rec.wait(t, runtime.EventSubscriptionClosed, func(e runtime.Event) bool { return e.Subscription == b })
	if f.Deliver(b, seqPayloads("a", 8, 8)[0]) {
		t.Fatal("an ended subscription queued an event")
	}

	if err := a.Unsubscribe(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(a.Err(), runtime.ErrUnsubscribed) || f.Deliver(a, seqPayloads("a", 8, 8)[0]) {
		t.Fatalf("after Unsubscribe: err %v", a.Err())
	}

	c, err := f.Subscribe(stream("c"), col.handle)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	<-c.Done()
	if !errors.Is(c.Err(), runtime.ErrClosed) {
		t.Fatalf("after Close: %v", c.Err())
	}
	if _, err := f.Subscribe(stream("d"), col.handle); !errors.Is(err, runtime.ErrClosed) {
		t.Fatalf("Subscribe after Close: %v", err)
	}
	if rec.count(runtime.EventClosed) != 1 {
		t.Fatalf("events: %v", rec)
	}
}

// A Feed applies the subscription's overflow policy: a blocked handler
// with DropNewest loses the newest events, counted and reported.
func TestFeedOverflow(t *testing.T) {
	f, rec := newFeed(t)
	release := make(chan struct{})
	col := newCollector()
	sub, err := f.Subscribe(stream("a"), func(v any) {
		<-release
		col.handle(v)
	}, runtime.WithOverflow(runtime.DropNewest), runtime.WithQueueSize(4))
	if err != nil {
		t.Fatal(err)
	}
	f.Confirm(sub, nil)
	for _, p := range seqPayloads("a", 1, 20) {
		f.Deliver(sub, p)
	}
	close(release)
	rec.wait(t, runtime.EventDropped, nil)
	if sub.Dropped() == 0 {
		t.Fatal("nothing dropped")
	}
	checkIncreasing(t, "a", col.get("a"))
}

// Subscription options and streams are checked as Conn.Subscribe checks
// them; Deliver and Confirm ignore subscriptions of other Feeds.
func TestFeedBadInput(t *testing.T) {
	f, _ := newFeed(t)
	g, _ := newFeed(t)
	if _, err := f.Subscribe(runtime.Stream{Name: "x"}, func(any) {}); err == nil {
		t.Fatal("a stream without decoder was accepted")
	}
	if _, err := f.Subscribe(stream("x"), nil); err == nil {
		t.Fatal("a nil handler was accepted")
	}
	if _, err := f.Subscribe(stream("x"), func(any) {}, runtime.WithQueueSize(0)); err == nil {
		t.Fatal("a bad option was accepted")
	}
	sub, err := g.Subscribe(stream("x"), func(any) {})
	if err != nil {
		t.Fatal(err)
	}
	if f.Deliver(sub, seqPayloads("x", 1, 1)[0]) || f.Deliver(nil, nil) {
		t.Fatal("a foreign subscription was fed")
	}
	f.Confirm(sub, errors.New("x"))
	f.Confirm(nil, nil)
	if sub.Err() != nil {
		t.Fatal("a foreign Confirm ended the subscription")
	}
	if _, err := runtime.NewFeed(nil); err == nil {
		t.Fatal("a nil market was accepted")
	}
}

// A WithInline subscription of a Feed runs its handler in Deliver, and may
// unsubscribe from it.
func TestFeedInline(t *testing.T) {
	f, _ := newFeed(t)
	var sub *runtime.Subscription
	var got []int
	sub, err := f.Subscribe(stream("a"), func(v any) {
		got = append(got, v.(*seqEvent).Seq)
		if len(got) == 2 {
			if err := sub.Unsubscribe(ctx(t)); err != nil {
				t.Error(err)
			}
		}
	}, runtime.WithInline())
	if err != nil {
		t.Fatal(err)
	}
	f.Confirm(sub, nil)
	for _, p := range seqPayloads("a", 1, 3) {
		f.Deliver(sub, p)
	}
	if fmt.Sprint(got) != "[1 2]" {
		t.Fatalf("handled %v", got)
	}
	<-sub.Done()
}
