package natsbridge

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/marketwire/marketwire/runtime"
)

// A stream's events that follow one another are published in a JetStream
// fast batch (nats-server 2.14+, a stream with AllowBatchPublish): each
// message is sent without waiting, its batch sequence in its reply
// subject, and the server stores them in order, acknowledges every few
// (flow acks) and, in gap mode "fail", ends the batch at the first message
// it does not store: a message missing, an error, a leader change that
// lost messages in flight. The messages a batch stores are therefore
// always a prefix of those sent (a message another bridge stored already
// counts as stored), so when a batch ends the bridge publishes the rest
// again, one at a time with the checks of Bridge, before anything later.
// A batch is also ended when its stream pauses (batchIdle), so that the
// fate of its last messages is known without waiting for more.
//
// Reply subjects: <inbox>.<batch id>.<flow>.fail.<batch seq>.<op>.$FI.
const (
	batchFlow  = 250                   // ask for a flow ack every 250 messages (the server may ask for fewer)
	batchAhead = 4                     // send up to 4 flows ahead of the last flow ack
	batchIdle  = 20 * time.Millisecond // end a batch its stream has not added to for this long
	batchRetry = time.Second           // after a batch that stored nothing, publish one at a time this long

	opStart, opAppend, opCommitEOB = "0", "1", "3"
)

// batch is one fast batch of one stream. Its methods run on the stream's
// subscription goroutine or its idle timer, serialized by the stream's
// mutex; the reply fields are set by the Bridge's reply subscription.
type batch struct {
	b       *Bridge
	id      string
	prefix  string // reply subject up to the batch sequence
	subject string
	sent    uint64    // batch sequence of the last message sent
	pending []unacked // sent and not known stored: sequences done+1..sent
	done    uint64    // the messages up to this sequence are counted stored
	last    time.Time // when the last message was sent

	mu     sync.Mutex
	acked  uint64 // every message up to this sequence is stored
	flow   uint64 // the server acknowledges every flow messages
	ended  bool   // the server ended the batch: nothing after acked is stored
	failed error  // why, when not asked to
	signal chan struct{}
}

// unacked is a message of a batch not known stored yet, and its event's key.
type unacked struct {
	msg *nats.Msg
	q   runtime.Seq
}

// batches routes the replies of a Bridge's fast batches.
type batches struct {
	mu    sync.Mutex
	inbox string
	sub   *nats.Subscription
	open  map[string]*batch
}

// newBatch starts a fast batch for subject (its first message is sent by
// add). It subscribes to the replies on first use.
func (b *Bridge) newBatch(subject string) (*batch, error) {
	bs := &b.batches
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if bs.sub == nil {
		nc := b.js.Conn()
		bs.inbox = nc.NewInbox()
		sub, err := nc.Subscribe(bs.inbox+".>", bs.reply)
		if err != nil {
			return nil, err
		}
		bs.sub, bs.open = sub, map[string]*batch{}
	}
	id := nats.NewInbox()[len(nats.InboxPrefix):]
	fb := &batch{b: b, id: id, subject: subject, flow: batchFlow, signal: make(chan struct{}, 1),
		prefix: bs.inbox + "." + id + "." + strconv.Itoa(batchFlow) + ".fail."}
	bs.open[id] = fb
	return fb, nil
}

// batchReply is any reply to a fast batch message: a flow ack, a gap or
// error report, or the PubAck (or error) that ends the batch.
type batchReply struct {
	Type  string              `json:"type"`
	Seq   uint64              `json:"seq"`
	Msgs  uint64              `json:"msgs"`
	Count uint64              `json:"count"` // in the PubAck: the last batch sequence stored
	Error *jetstream.APIError `json:"error"`
}

// reply handles a reply of the server to a fast batch message.
func (bs *batches) reply(m *nats.Msg) {
	id, _, _ := strings.Cut(strings.TrimPrefix(m.Subject, bs.inbox+"."), ".")
	bs.mu.Lock()
	fb := bs.open[id]
	bs.mu.Unlock()
	var r batchReply
	if fb == nil || json.Unmarshal(m.Data, &r) != nil {
		return
	}
	fb.mu.Lock()
	switch r.Type {
	case "ack":
		fb.acked = max(fb.acked, r.Seq)
		if r.Msgs > 0 {
			fb.flow = r.Msgs
		}
	case "gap", "err": // informational: the PubAck that ends the batch follows
		fb.mu.Unlock()
		return
	default:
		fb.ended = true
		if r.Error == nil {
			fb.acked = max(fb.acked, r.Count)
			fb.b.lastSeq.Store(r.Seq)
		} else {
			fb.failed = r.Error
		}
		bs.mu.Lock()
		delete(bs.open, id)
		bs.mu.Unlock()
	}
	fb.mu.Unlock()
	select {
	case fb.signal <- struct{}{}:
	default:
	}
}

// state returns what the replies said so far.
func (fb *batch) state() (acked, flow uint64, ended bool, failed error) {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	return fb.acked, fb.flow, fb.ended, fb.failed
}

// add sends msg as the batch's next message. It waits while more than
// batchAhead flows of messages are unacknowledged, up to the Bridge's ack
// wait. It returns false when the batch has ended (or is given up): msg
// was not sent, and the batch must be finished.
func (fb *batch) add(msg *nats.Msg, q runtime.Seq) bool {
	var deadline time.Time
	for {
		acked, flow, ended, _ := fb.state()
		fb.settle(acked)
		if ended {
			return false
		}
		if fb.sent-acked < batchAhead*flow {
			break
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(fb.b.o.ackWait)
		}
		if !fb.wait(deadline, fb.b.ctx.Done()) {
			return false
		}
	}
	fb.sent++
	op := opAppend
	if fb.sent == 1 {
		op = opStart
	}
	msg.Reply = fb.prefix + strconv.FormatUint(fb.sent, 10) + "." + op + ".$FI"
	if err := fb.b.js.Conn().PublishMsg(msg); err != nil {
		fb.sent--
		return false
	}
	fb.pending = append(fb.pending, unacked{msg, q})
	fb.last = time.Now()
	return true
}

// wait waits for a reply until deadline; false once it has passed or stop
// is closed.
func (fb *batch) wait(deadline time.Time, stop <-chan struct{}) bool {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-fb.signal:
		return true
	case <-t.C:
	case <-stop:
	}
	return false
}

// settle counts the messages up to acked as stored and forgets them.
func (fb *batch) settle(acked uint64) {
	if acked <= fb.done {
		return
	}
	n := int(acked - fb.done)
	clear(fb.pending[:n])
	fb.pending = fb.pending[n:]
	fb.done = acked
	fb.b.batched.Add(uint64(n))
}

// finish ends the batch: unless the server has ended it, it sends the end
// of batch and waits up to the ack wait (or until stop is closed) for the
// final PubAck. It returns the messages sent that are not known stored, in
// order, which the caller must publish again.
func (fb *batch) finish(stop <-chan struct{}) []unacked {
	_, _, ended, failed := fb.state()
	if !ended && fb.sent > 0 {
		end := &nats.Msg{Subject: fb.subject, Reply: fb.prefix + strconv.FormatUint(fb.sent+1, 10) + "." + opCommitEOB + ".$FI"}
		if fb.b.js.Conn().PublishMsg(end) == nil {
			deadline := time.Now().Add(fb.b.o.ackWait)
			for !ended && fb.wait(deadline, stop) {
				_, _, ended, failed = fb.state()
			}
		}
	}
	acked, _, _, _ := fb.state()
	fb.settle(acked)
	bs := &fb.b.batches
	bs.mu.Lock()
	delete(bs.open, fb.id)
	bs.mu.Unlock()
	rest := fb.pending
	fb.pending = nil
	if len(rest) > 0 {
		why := "no final acknowledgement"
		if failed != nil {
			why = failed.Error()
		}
		fb.b.o.onError(fmt.Errorf("natsbridge: fast batch on %s ended (%s): its last %d messages are published again", fb.subject, why, len(rest)))
	}
	return rest
}

// close ends the reply subscription.
func (bs *batches) close() {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if bs.sub != nil {
		bs.sub.Unsubscribe()
		bs.sub = nil
	}
}
