package runtime

import (
	"context"
	"encoding/json"
	"errors"
)

// Control methods of the stream protocol.
const (
	methodSubscribe   = "SUBSCRIBE"
	methodUnsubscribe = "UNSUBSCRIBE"
	methodList        = "LIST_SUBSCRIPTIONS"
	methodSetProperty = "SET_PROPERTY"
	methodGetProperty = "GET_PROPERTY"
)

// request is one control request waiting to be written or answered. done is
// called exactly once with the reply's result or an error; it runs on the
// reader or writer goroutine and must not block.
type request struct {
	method string
	params []any
	done   func(result []byte, err error)
}

// batch is what went out as one frame: consecutive SUBSCRIBE (or UNSUBSCRIBE)
// requests queued together are merged into one frame with one id, which
// saves messages under the exchange's rate limit. A server error then fails
// every request of the batch.
type batch []*request

func (b batch) finish(result []byte, err error) {
	for _, r := range b {
		r.done(result, err)
	}
}

type wireRequest struct {
	Method string `json:"method"`
	Params []any  `json:"params,omitempty"`
	ID     uint64 `json:"id"`
}

// takeBatch removes the next frame's worth of requests from the queue.
func takeBatch(q []*request) (batch, []*request) {
	first := q[0]
	n := 1
	if first.method == methodSubscribe || first.method == methodUnsubscribe {
		params := len(first.params)
		for n < len(q) && q[n].method == first.method && params+len(q[n].params) <= maxParamsPerRequest {
			params += len(q[n].params)
			n++
		}
	}
	return batch(q[:n:n]), q[n:]
}

func (b batch) encode(id uint64) ([]byte, error) {
	w := wireRequest{Method: b[0].method, ID: id}
	for _, r := range b {
		w.Params = append(w.Params, r.params...)
	}
	return json.Marshal(w)
}

// call sends one request on l and waits for its reply, bounded by ctx.
func (l *link) call(ctx context.Context, method string, params ...any) ([]byte, error) {
	type reply struct {
		result []byte
		err    error
	}
	ch := make(chan reply, 1)
	l.enqueue(&request{method: method, params: params, done: func(result []byte, err error) {
		ch <- reply{append([]byte(nil), result...), err}
	}})
	select {
	case r := <-ch:
		return r.result, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// handleReply matches a control reply to its request by id. A reply without
// an id (the exchange sends some errors that way) belongs to the oldest
// request in flight, because the exchange answers in order.
func (l *link) handleReply(env *envelope) {
	err := replyError(env)
	id, ok := parseID(env.id)
	l.cmu.Lock()
	if !ok && len(l.inflight) > 0 {
		id, ok = l.inflight[0], true
	}
	b, found := l.pending[id]
	if found {
		delete(l.pending, id)
		for i, x := range l.inflight {
			if x == id {
				l.inflight = append(l.inflight[:i], l.inflight[i+1:]...)
				break
			}
		}
		l.npending.Add(-1)
	}
	l.cmu.Unlock()
	if !found {
		e := err
		if e == nil {
			e = errors.New("reply to no request")
		}
		l.s.emit(Event{Kind: EventError, Err: frameError(l.s.route, nil, env.id, e)})
		return
	}
	b.finish(env.result, err)
}
