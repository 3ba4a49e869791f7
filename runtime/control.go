package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/marketwire/marketwire/wire"
)

// The kinds of client request. Each is written from a Dialect template.
const (
	opSubscribe = iota
	opUnsubscribe
	opCall
	opAuth
)

// request is one client request waiting to be written or answered. done is
// called exactly once with the reply's result or an error; it runs on the
// reader or writer goroutine and must not block.
type request struct {
	op      int
	streams []*Stream // opSubscribe, opUnsubscribe
	method  string    // opCall
	params  []any     // opCall
	limit   int       // most streams of the batch this request may join; 0 for the Dialect's Batch
	done    func(result []byte, err error)
}

// batch is what went out as one frame: with a Dialect Batch, consecutive
// subscribe (or unsubscribe) requests queued together are merged into one
// frame, which saves messages under the exchange's rate limit. A server
// error then fails every request of the batch.
type batch []*request

func (b batch) finish(result []byte, err error) {
	for _, r := range b {
		r.done(result, err)
	}
}

// flight is a batch written and waiting for its reply.
type flight struct {
	id    uint64
	b     batch
	await []match // the frames that confirm it when replies carry no id
}

// takeBatch removes the next frame's worth of requests from the queue.
func takeBatch(q []*request, max int) (batch, []*request) {
	first := q[0]
	n := 1
	if first.limit > 0 && first.limit < max {
		max = first.limit
	}
	if max > 0 && (first.op == opSubscribe || first.op == opUnsubscribe) {
		count := len(first.streams)
		for n < len(q) && q[n].op == first.op && count+len(q[n].streams) <= max {
			count += len(q[n].streams)
			n++
		}
	}
	return batch(q[:n:n]), q[n:]
}

// encode renders the batch's message from the dialect's templates.
func (b batch) encode(d *Dialect, id uint64, token string) ([]byte, error) {
	first := b[0]
	var streams []*Stream
	for _, r := range b {
		streams = append(streams, r.streams...)
	}
	vars := func(name string) string {
		switch name {
		case "id":
			return strconv.FormatUint(id, 10)
		case "streams":
			quoted := make([]string, len(streams))
			for i, st := range streams {
				quoted[i] = string(wire.AppendString(nil, st.Name))
			}
			return strings.Join(quoted, ",")
		case "token":
			return jsonEscape(token)
		case "method":
			return jsonEscape(first.method)
		case "params":
			p, err := json.Marshal(first.params)
			if err != nil || first.params == nil {
				return "[]"
			}
			return string(p)
		}
		if len(streams) == 1 {
			return jsonEscape(streams[0].Vars[name])
		}
		return ""
	}
	var templates []string
	switch first.op {
	case opSubscribe:
		templates = d.Subscribe
	case opUnsubscribe:
		templates = d.Unsubscribe
	case opCall:
		templates = []string{d.Request}
	case opAuth:
		templates = []string{d.Auth}
	}
	for _, t := range templates {
		if t == "" {
			continue
		}
		if msg, ok := fill(t, vars); ok {
			return []byte(msg), nil
		}
	}
	if len(streams) > 0 {
		return nil, fmt.Errorf("runtime: no message template of the venue fits stream %q (vars %v)", streams[0].Name, streams[0].Vars)
	}
	return nil, errors.New("runtime: the venue has no message for this request")
}

// awaits returns the frames that confirm a batch when replies carry no id;
// nil means the batch is done once written.
func (b batch) awaits(g *grammar) []match {
	switch b[0].op {
	case opSubscribe:
		return g.ack
	case opAuth:
		return g.authOK
	}
	return nil
}

// call sends one request on l and waits for its reply, bounded by ctx.
func (l *link) call(ctx context.Context, r *request) ([]byte, error) {
	type reply struct {
		result []byte
		err    error
	}
	ch := make(chan reply, 1)
	r.done = func(result []byte, err error) {
		ch <- reply{append([]byte(nil), result...), err}
	}
	l.enqueue(r)
	select {
	case rep := <-ch:
		return rep.result, rep.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// handleReply finds the request a reply answers: by id when the venue
// echoes ids, else the oldest request waiting for this kind of frame; an
// error without an id fails the oldest request in flight, because servers
// answer in order.
func (l *link) handleReply(f *frame, isErr bool) {
	g := l.s.conn.grammar
	var err error
	if isErr {
		err = l.s.conn.redactError(f.serverError())
	}
	id, hasID := parseID(f.get(g.id))
	l.cmu.Lock()
	at := -1
	for i, fl := range l.inflight {
		switch {
		case hasID:
			if fl.id == id {
				at = i
			}
		case f.matches(fl.await) || isErr:
			at = i
		}
		if at >= 0 {
			break
		}
	}
	var fl *flight
	if at >= 0 {
		fl = l.inflight[at]
		l.inflight = append(l.inflight[:at], l.inflight[at+1:]...)
		l.npending.Add(-1)
	}
	l.cmu.Unlock()
	if fl == nil {
		if err == nil {
			err = errors.New("reply to no request")
		}
		l.s.frameError("reply", Event{}, nil, f.get(g.id), err)
		return
	}
	var se *ServerError
	if errors.As(err, &se) && len(fl.b) > 1 && fl.b[0].op == opSubscribe {
		// One refused stream fails the whole message: find it by halves.
		l.retry(fl.b)
		return
	}
	fl.b.finish(f.get(g.result), err)
}
