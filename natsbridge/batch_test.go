package natsbridge

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/runtime"
)

// batchBridge returns a Bridge on a fresh embedded server, and the
// subject and stream it publishes to.
func batchBridge(t *testing.T, opts ...Option) (*Bridge, jetstream.Stream) {
	t.Helper()
	ns := startNATS(t)
	b, err := NewBridge(testCtx(t), connect(t, ns.ClientURL()), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, b.stream
}

// batchMsg is message i of a test subject, with its id.
func batchMsg(subject string, i int) (*nats.Msg, runtime.Seq) {
	q := runtime.Seq{Kind: runtime.SeqConsecutive, First: int64(i), Last: int64(i)}
	data := fmt.Appendf(nil, `{"a":%d}`, i)
	return &nats.Msg{Subject: subject, Data: data, Header: nats.Header{jetstream.MsgIDHeader: []string{MsgID(subject, q, data)}}}, q
}

// stored returns the payloads stored on subject, in order.
func stored(t *testing.T, st jetstream.Stream, subject string) []string {
	t.Helper()
	var got []string
	info, err := st.Info(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
		m, err := st.GetMsg(testCtx(t), seq)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject == subject {
			got = append(got, string(m.Data))
		}
	}
	return got
}

func payloads(from, to int) []string {
	var s []string
	for i := from; i <= to; i++ {
		s = append(s, fmt.Sprintf(`{"a":%d}`, i))
	}
	return s
}

// TestBatchStoresAPrefix checks the server's side of the contract the
// Bridge's order rests on: a fast batch in which a message goes missing
// stores what came before it and nothing after, and finish returns the
// messages sent after the gap, to publish again.
func TestBatchStoresAPrefix(t *testing.T) {
	b, st := batchBridge(t)
	subject := Subject("spot", "test@aggTrade")
	fb, err := b.newBatch(subject)
	if err != nil {
		t.Fatal(err)
	}
	last := 0 // the last message sent
	for i := 1; i <= 8; i++ {
		if i == 6 {
			fb.sent++ // message 6 is lost on the way
			continue
		}
		m, q := batchMsg(subject, i)
		if !fb.add(m, q) {
			if i <= 7 {
				t.Fatalf("message %d not sent", i)
			}
			break // the server has ended the batch at the gap already
		}
		last = i
	}
	rest := fb.finish(nil)
	var again []string
	for _, m := range rest {
		again = append(again, string(m.msg.Data))
	}
	if want := payloads(7, last); !slices.Equal(again, want) {
		t.Errorf("to publish again: %q, want %q", again, want)
	}
	if got, want := stored(t, st, subject), payloads(1, 5); !slices.Equal(got, want) {
		t.Errorf("stored %q, want %q", got, want)
	}
	if got := b.Stats().Batched; got != 5 {
		t.Errorf("Batched %d, want 5", got)
	}
}

// TestBatchDuplicates: messages another bridge stored already, at the
// start of a batch or in its middle, are not stored twice, and the order
// holds.
func TestBatchDuplicates(t *testing.T) {
	b, st := batchBridge(t)
	subject := Subject("spot", "test@aggTrade")
	info := &streamInfo{
		subject: subject,
		seq:     func(v any) runtime.Seq { return v.(runtime.Seq) },
		decode: func(data []byte) (any, error) {
			var i int64
			_, err := fmt.Sscanf(string(data), `{"a":%d}`, &i)
			return runtime.Seq{Kind: runtime.SeqConsecutive, First: i, Last: i}, err
		},
	}
	other := func(i int) { // another bridge stores message i
		m, _ := batchMsg(subject, i)
		if _, err := b.js.PublishMsg(testCtx(t), m); err != nil {
			t.Fatal(err)
		}
	}
	publish := func(i int) {
		m, q := batchMsg(subject, i)
		b.publish(&frame{info: info, data: m.Data, v: q, arrived: time.Now()})
	}
	publish(1) // the first: one at a time
	other(2)
	publish(2) // starts a batch with a duplicate
	publish(3)
	publish(4)
	other(5)
	publish(5) // a duplicate in a batch
	publish(6)
	other(7)
	other(8)
	publish(7)
	publish(8)
	waitFor(t, "8 messages stored", func() bool { return len(stored(t, st, subject)) >= 8 })
	time.Sleep(2 * batchIdle)
	if got, want := stored(t, st, subject), payloads(1, 8); !slices.Equal(got, want) {
		t.Errorf("stored %q, want %q", got, want)
	}
	waitFor(t, "the bridge to account for all 8", func() bool {
		s := b.Stats()
		return s.Published+s.Batched+s.Skipped+s.Duplicates >= 8
	})
	t.Logf("%+v", b.Stats())
}

// TestBridgeBatchesIdle: a stream that pauses has its batch ended, so every
// message it sent is counted stored without waiting for more; the messages
// are stored once each, in order.
func TestBridgeBatchesIdle(t *testing.T) {
	b, st := batchBridge(t)
	s, _ := startSim(t, time.Millisecond)
	c := dialSim(t, s)
	streams := []runtime.Stream{spot.AggTradeParams{Symbol: "BTCUSDT"}.Stream()}
	if _, err := b.Add(testCtx(t), c, streams); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "300 messages", func() bool { return b.Stats().Batched >= 300 })
	c.Close() // the stream pauses for good
	subject := Subject("spot", "btcusdt@aggTrade")
	waitFor(t, "every message sent counted", func() bool {
		s := b.Stats()
		return s.Published+s.Batched+s.Skipped+s.Duplicates == uint64(len(stored(t, st, subject)))
	})
	got := stored(t, st, subject)
	ids := make([]int64, len(got))
	for i, p := range got {
		ev := new(spot.AggTradeEvent)
		if err := ev.UnmarshalJSON([]byte(p)); err != nil {
			t.Fatal(err)
		}
		ids[i] = ev.AggTradeID
	}
	checkRun(t, "stored aggregate ids", ids, 1)
	if s := b.Stats(); !b.Batches() || s.Batched == 0 || s.Published > 2 {
		t.Errorf("expected fast batches after the first message: %+v", s)
	}
}

// TestBridgeWithoutBatches: WithoutBatches, or a stream that does not
// allow fast batches, publishes one message at a time.
func TestBridgeWithoutBatches(t *testing.T) {
	noBatches := StreamConfig(DefaultStream)
	noBatches.AllowBatchPublish = false
	for name, opt := range map[string]Option{"WithoutBatches": WithoutBatches(), "stream without batches": WithStreamConfig(noBatches)} {
		t.Run(name, func(t *testing.T) {
			b, _ := batchBridge(t, opt)
			s, _ := startSim(t, time.Millisecond)
			c := dialSim(t, s)
			if _, err := b.Add(testCtx(t), c, []runtime.Stream{spot.AggTradeParams{Symbol: "BTCUSDT"}.Stream()}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "100 messages", func() bool { return b.Stats().Published >= 100 })
			if s := b.Stats(); s.Batched != 0 || b.Batches() {
				t.Errorf("batched: %+v", s)
			}
		})
	}
}
