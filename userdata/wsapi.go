package userdata

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/marketwire/marketwire/internal/dispatch"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/wire"
)

// WebSocket API methods used for spot user data.
const (
	methodLogon           = "session.logon"
	methodSubscribe       = "userDataStream.subscribe"
	methodSubscribeSigned = "userDataStream.subscribe.signature"
	methodUnsubscribe     = "userDataStream.unsubscribe"
)

var (
	errServerShutdown = errors.New("userdata: server announced shutdown")
	errSessionClosed  = errors.New("userdata: WebSocket API session closed")
)

// apiStream is spot user data over the WebSocket API: one session (one
// websocket) at a time, subscribed once; a supervisor reconnects, logs on
// and subscribes again after a loss, and subscribes again when the exchange
// terminates the subscription.
type apiStream struct {
	s        *Stream
	url      string
	logon    bool
	queue    chan markets.Payload
	idPrefix string
	nextID   atomic.Uint64

	mu         sync.Mutex
	sess       *session // the latest session
	subID      *int64   // its subscription, when the exchange gave an id
	terminated bool     // the exchange ended the subscription
	wake       chan struct{}
	stopped    chan struct{}
}

func openAPIStream(ctx context.Context, s *Stream) (*apiStream, error) {
	u := s.opts.wsapiURL
	if u == "" {
		var err error
		if u, err = pick(s.market.UserStream.WSAPI, s.opts.endpoint, "WebSocket API"); err != nil {
			return nil, err
		}
	}
	logon := s.creds.Type() == KeyEd25519
	if s.opts.logon != nil {
		logon = *s.opts.logon
	}
	if logon && s.creds.Type() != KeyEd25519 {
		return nil, fmt.Errorf("userdata: session.logon needs an Ed25519 key, not %s", s.creds.Type())
	}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	a := &apiStream{
		s:        s,
		url:      u,
		logon:    logon,
		queue:    make(chan markets.Payload, s.opts.queueSize),
		idPrefix: "mw" + hex.EncodeToString(rnd[:]),
		wake:     make(chan struct{}, 1),
		stopped:  make(chan struct{}),
	}
	sess, err := a.connect(ctx)
	if err != nil {
		return nil, err
	}
	s.spawn(func() { a.run(sess) })
	s.spawn(a.deliverLoop)
	return a, nil
}

// connect opens a session, logs it on when configured and subscribes.
func (a *apiStream) connect(ctx context.Context) (*session, error) {
	s := a.s
	d := websocket.Dialer{HandshakeTimeout: s.opts.requestTimeout}
	ws, resp, err := d.DialContext(ctx, a.url, nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		if resp != nil {
			err = fmt.Errorf("%w (HTTP %s)", err, resp.Status)
		}
		return nil, fmt.Errorf("userdata: dial WebSocket API %s: %w", a.url, err)
	}
	sess := newSession(a, ws)
	s.spawn(sess.readLoop)
	if a.logon {
		params, err := s.signed(nil)
		if err == nil {
			_, err = sess.request(ctx, methodLogon, params)
		}
		if err != nil {
			sess.close()
			return nil, err
		}
	}
	if err := a.subscribe(ctx, sess); err != nil {
		sess.close()
		return nil, err
	}
	a.mu.Lock()
	a.sess = sess
	a.mu.Unlock()
	return sess, nil
}

// subscribe subscribes the account on sess and remembers the subscription id.
func (a *apiStream) subscribe(ctx context.Context, sess *session) error {
	var (
		res json.RawMessage
		err error
	)
	if a.logon {
		res, err = sess.request(ctx, methodSubscribe, nil)
	} else {
		var params map[string]string
		params, err = a.s.signed(nil)
		if err == nil {
			res, err = sess.request(ctx, methodSubscribeSigned, params)
		}
	}
	if err != nil {
		return err
	}
	var r struct {
		SubscriptionID *int64 `json:"subscriptionId"`
	}
	_ = json.Unmarshal(res, &r)
	a.mu.Lock()
	a.subID = r.SubscriptionID
	a.terminated = false
	a.mu.Unlock()
	sess.live.Store(true)
	return nil
}

// run is the supervisor of the sessions.
func (a *apiStream) run(sess *session) {
	defer close(a.stopped)
	s := a.s
	ping := time.NewTicker(max(s.opts.readTimeout/3, time.Millisecond))
	defer ping.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-ping.C:
			sess.ping()
		case <-sess.dead:
			cause := sess.cause
			sess.close()
			s.emit(Event{Kind: EventDisconnected, Err: cause})
			if sess = a.reconnect(cause); sess == nil {
				return
			}
		case <-a.wake:
			a.mu.Lock()
			terminated := a.terminated
			a.terminated = false
			a.mu.Unlock()
			if !terminated {
				continue
			}
			if err := a.subscribe(s.ctx, sess); err != nil {
				if s.ctx.Err() != nil {
					return
				}
				s.emit(Event{Kind: EventError, Err: fmt.Errorf("userdata: subscribe again after eventStreamTerminated: %w", err)})
				sess.fail(err) // reconnect
				continue
			}
			s.emit(Event{Kind: EventReconnected, Err: ErrStreamTerminated})
			s.gap(ErrStreamTerminated)
		}
	}
}

// reconnect opens sessions with backoff until one is subscribed or the
// stream closes (nil).
func (a *apiStream) reconnect(cause error) *session {
	s := a.s
	for attempt := 1; ; attempt++ {
		if !s.sleep(s.opts.backoff.Delay(attempt - 1)) {
			return nil
		}
		sess, err := a.connect(s.ctx)
		if err == nil {
			s.emit(Event{Kind: EventReconnected, Attempt: attempt})
			s.gap(cause)
			return sess
		}
		if s.ctx.Err() != nil {
			return nil
		}
		s.emit(Event{Kind: EventError, Attempt: attempt, Err: err})
	}
}

// deliverLoop hands queued events to the handler.
func (a *apiStream) deliverLoop() {
	for {
		select {
		case v := <-a.queue:
			a.s.deliver(v)
		case <-a.s.ctx.Done():
			return
		}
	}
}

// close unsubscribes (bounded by ctx) and closes the session.
func (a *apiStream) close(ctx context.Context) error {
	<-a.stopped
	a.mu.Lock()
	sess, id := a.sess, a.subID
	a.mu.Unlock()
	if sess == nil {
		return nil
	}
	var err error
	if !sess.isDead() {
		var params map[string]string
		if id != nil {
			params = map[string]string{"subscriptionId": strconv.FormatInt(*id, 10)}
		}
		_, err = sess.request(ctx, methodUnsubscribe, params)
	}
	sess.close()
	return err
}

// onEvent decodes one event of sess and queues it for the handler. subID is
// the subscriptionId of its wrapper, nil when it had none.
func (a *apiStream) onEvent(sess *session, subID *int64, data []byte) bool {
	s := a.s
	kind, _, _ := wire.LookupString(data, "e")
	if kind == "serverShutdown" {
		return false
	}
	v, err := s.decode(data)
	if err != nil {
		s.emit(Event{Kind: EventError, Err: &FrameError{Err: err}})
		return true
	}
	s.markGood()
	select {
	case a.queue <- v:
	case <-s.ctx.Done():
		return true
	}
	if kind == "eventStreamTerminated" {
		a.mu.Lock()
		mine := subID == nil || a.subID == nil || *subID == *a.subID
		if mine {
			a.terminated = true
			sess.live.Store(false)
		}
		a.mu.Unlock()
		if mine {
			dispatch.Signal(a.wake)
		}
	}
	return true
}

// session is one WebSocket API connection: a reader goroutine, writes under
// a mutex, requests matched to responses by id.
type session struct {
	a          *apiStream
	ws         *websocket.Conn
	live       atomic.Bool // subscribed: its pings and pongs prove the stream alive
	wmu        sync.Mutex
	pmu        sync.Mutex
	pending    map[string]chan apiFrame
	dead       chan struct{}
	deadOnce   sync.Once
	cause      error
	closeOnce  sync.Once
	readerDone chan struct{}
}

// apiFrame is every top-level member the session looks at: a response
// (id, status, result, error), an event wrapper (subscriptionId, event) or
// a combined envelope (stream, data).
type apiFrame struct {
	ID     json.RawMessage `json:"id"`
	Status int             `json:"status"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	} `json:"error"`
	SubscriptionID *int64          `json:"subscriptionId"`
	Event          json.RawMessage `json:"event"`
	Stream         *string         `json:"stream"`
	Data           json.RawMessage `json:"data"`
}

func newSession(a *apiStream, ws *websocket.Conn) *session {
	sess := &session{
		a:          a,
		ws:         ws,
		pending:    map[string]chan apiFrame{},
		dead:       make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	timeout := a.s.opts.readTimeout
	ws.SetReadLimit(1 << 20)
	// Answer pings at once (WriteControl may run next to other writes); a
	// pong that cannot be written shows up as a dead connection later.
	ws.SetPingHandler(func(payload string) error {
		_ = ws.SetReadDeadline(time.Now().Add(timeout))
		if sess.live.Load() {
			a.s.markGood()
		}
		_ = ws.WriteControl(websocket.PongMessage, []byte(payload), time.Now().Add(time.Second))
		return nil
	})
	ws.SetPongHandler(func(string) error {
		_ = ws.SetReadDeadline(time.Now().Add(timeout))
		if sess.live.Load() {
			a.s.markGood()
		}
		return nil
	})
	return sess
}

func (sess *session) isDead() bool {
	select {
	case <-sess.dead:
		return true
	default:
		return false
	}
}

// fail marks the session dead; requests waiting fail with err.
func (sess *session) fail(err error) {
	sess.deadOnce.Do(func() {
		sess.cause = err
		close(sess.dead)
	})
}

// close closes the websocket and waits for the reader.
func (sess *session) close() {
	sess.closeOnce.Do(func() {
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
		_ = sess.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		sess.ws.Close()
		<-sess.readerDone
		sess.fail(errSessionClosed)
	})
}

// ping sends a ping frame; the server's pong proves the connection alive
// even when it sends nothing else.
func (sess *session) ping() {
	if err := sess.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second)); err != nil {
		sess.fail(fmt.Errorf("userdata: ping: %w", err))
	}
}

func (sess *session) readLoop() {
	defer close(sess.readerDone)
	a := sess.a
	timeout := a.s.opts.readTimeout
	for {
		_ = sess.ws.SetReadDeadline(time.Now().Add(timeout))
		_, b, err := sess.ws.ReadMessage()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				err = fmt.Errorf("userdata: nothing received for %v", timeout)
			}
			sess.fail(err)
			return
		}
		sess.handleFrame(b)
	}
}

func (sess *session) handleFrame(b []byte) {
	a := sess.a
	if _, found, _ := wire.LookupString(b, "e"); found {
		// A bare event (legacy framing).
		if !a.onEvent(sess, nil, b) {
			sess.fail(errServerShutdown)
		}
		return
	}
	var f apiFrame
	if err := json.Unmarshal(b, &f); err != nil {
		a.s.emit(Event{Kind: EventError, Err: &FrameError{Err: fmt.Errorf("malformed frame: %w", err)}})
		return
	}
	switch {
	case len(f.Event) > 0:
		if !a.onEvent(sess, f.SubscriptionID, f.Event) {
			sess.fail(errServerShutdown)
		}
	case f.Stream != nil && len(f.Data) > 0:
		if !a.onEvent(sess, nil, f.Data) {
			sess.fail(errServerShutdown)
		}
	case f.Status != 0 || len(f.ID) > 0:
		sess.resolve(f)
	default:
		a.s.emit(Event{Kind: EventError, Err: &FrameError{Err: errors.New("frame is neither an event nor a response")}})
	}
}

// resolve hands a response to its request. A response without an id (the
// exchange revokes a session that way) fails the session.
func (sess *session) resolve(f apiFrame) {
	var id string
	if json.Unmarshal(f.ID, &id) != nil || id == "" {
		err := &APIError{Op: "session", Status: f.Status}
		if f.Error != nil {
			err.Code, err.Msg = f.Error.Code, f.Error.Msg
		}
		sess.fail(err)
		return
	}
	sess.pmu.Lock()
	ch := sess.pending[id]
	delete(sess.pending, id)
	sess.pmu.Unlock()
	if ch != nil {
		ch <- f
	}
}

// request sends one request and waits for its response, bounded by ctx and
// the request timeout. params values are strings, except the numeric
// parameters (timestamp, recvWindow, subscriptionId), sent as numbers.
func (sess *session) request(ctx context.Context, method string, params map[string]string) (json.RawMessage, error) {
	a := sess.a
	ctx, cancel := context.WithTimeout(ctx, a.s.opts.requestTimeout)
	defer cancel()
	id := a.idPrefix + strconv.FormatUint(a.nextID.Add(1), 10)
	req := struct {
		ID     string         `json:"id"`
		Method string         `json:"method"`
		Params map[string]any `json:"params,omitempty"`
	}{ID: id, Method: method}
	if len(params) > 0 {
		req.Params = make(map[string]any, len(params))
		for k, v := range params {
			switch k {
			case "timestamp", "recvWindow", "subscriptionId":
				req.Params[k] = json.Number(v)
			default:
				req.Params[k] = v
			}
		}
	}
	frame, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("userdata: %s: %w", method, err)
	}
	ch := make(chan apiFrame, 1)
	sess.pmu.Lock()
	sess.pending[id] = ch
	sess.pmu.Unlock()
	defer func() {
		sess.pmu.Lock()
		delete(sess.pending, id)
		sess.pmu.Unlock()
	}()
	sess.wmu.Lock()
	_ = sess.ws.SetWriteDeadline(time.Now().Add(a.s.opts.requestTimeout))
	err = sess.ws.WriteMessage(websocket.TextMessage, frame)
	sess.wmu.Unlock()
	if err != nil {
		sess.fail(err)
		return nil, fmt.Errorf("userdata: %s: %w", method, err)
	}
	select {
	case f := <-ch:
		if f.Status != 200 || f.Error != nil {
			e := &APIError{Op: method, Status: f.Status}
			if f.Error != nil {
				e.Code, e.Msg = f.Error.Code, f.Error.Msg
			}
			return nil, e
		}
		return f.Result, nil
	case <-sess.dead:
		return nil, fmt.Errorf("userdata: %s: %w", method, sess.cause)
	case <-ctx.Done():
		return nil, fmt.Errorf("userdata: %s: %w", method, ctx.Err())
	}
}
