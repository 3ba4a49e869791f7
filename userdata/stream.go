package userdata

import (
	"context"
	"errors"
	"fmt"
	"github.com/marketwire/marketwire/internal/dispatch"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/runtime"
)

// Stream is one account's user-data stream on one market. Events reach the
// handler typed, in order, one at a time. It recovers on its own from lost
// connections, expired listen keys and subscriptions the exchange ends, and
// reports every window that may have missed events as an EventGap.
type Stream struct {
	market *runtime.Market
	creds  Credentials
	opts   options
	decode func([]byte) (markets.Payload, error)
	handle func(markets.Payload)
	hmu    sync.Mutex // one handler call at a time
	red    *redactor
	events *dispatch.Dispatcher[Event]

	lastGood atomic.Int64 // unix nanos: the latest moment events were known to flow

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the goroutines of impl

	impl interface {
		close(ctx context.Context) error
	}
	closeOnce sync.Once
	closeErr  error
	done      chan struct{}
}

// Open subscribes to the user-data stream of the account of creds on market
// m and calls handle with every event, typed by the market's generated
// DecodeUser (e.g. *usdm.OrderTradeUpdateEvent, *spot.ExecutionReportEvent);
// an event kind the schema does not know arrives as *wire.UnknownEvent. The
// handler runs on one goroutine at a time, in the order events arrive; it
// must not call Close.
//
// How the stream is reached comes from m.UserStream:
//
//   - listen-key markets (USDⓈ-M, COIN-M, options): a listen key is created
//     over REST with the X-MBX-APIKEY header, subscribed as a stream on the
//     user route (/private on USDⓈ-M and options), extended every KeepAlive
//     and deleted by Close. When the exchange reports listenKeyExpired, or a
//     keep-alive fails, a new key is created and subscribed before the old
//     one is dropped, every event received on the old key is delivered
//     before the first of the new one, and the window is reported as
//     EventKeyReplaced and EventGap.
//   - spot: the WebSocket API. With an Ed25519 key the session logs on
//     (session.logon) and sends userDataStream.subscribe; otherwise, or with
//     WithSessionLogon(false), it sends the signed
//     userDataStream.subscribe.signature. Events arrive wrapped as
//     {"subscriptionId":N,"event":{...}} and are unwrapped. After a lost
//     connection or eventStreamTerminated the stream subscribes again.
//
// Open returns once the stream is subscribed. Its errors, and every event
// and log line, are free of the API key, secret, signatures and listen
// keys.
func Open(ctx context.Context, m *runtime.Market, creds Credentials, handle func(markets.Payload), opts ...Option) (*Stream, error) {
	if m == nil {
		return nil, errors.New("userdata: Open: nil Market")
	}
	if m.UserStream == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoUserStream, m.Name)
	}
	if handle == nil {
		return nil, errors.New("userdata: Open: nil handler")
	}
	if err := creds.validate(); err != nil {
		return nil, err
	}
	mk, ok := markets.All[m.Name]
	if !ok || mk.Dispatch["user"] == nil {
		return nil, fmt.Errorf("%w: no generated user decoder for market %q", ErrNoUserStream, m.Name)
	}
	o := defaultOptions(m)
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	s := &Stream{
		market: m,
		creds:  creds,
		opts:   o,
		decode: mk.Dispatch["user"],
		handle: handle,
		red:    newRedactor(creds),
		done:   make(chan struct{}),
	}
	handlers := o.handlers
	if o.logger != nil {
		handlers = append(handlers, logHandler(o.logger))
	}
	s.events = dispatch.New(handlers)
	s.ctx, s.cancel = context.WithCancel(context.Background())

	var err error
	switch us := m.UserStream; {
	case us.ListenKeyPath != "":
		s.impl, err = openKeyStream(ctx, s)
	case len(us.WSAPI) > 0 || o.wsapiURL != "":
		s.impl, err = openAPIStream(ctx, s)
	default:
		err = fmt.Errorf("%w: %q has neither a listen-key path nor a WebSocket API", ErrNoUserStream, m.Name)
	}
	if err != nil {
		s.cancel()
		s.wg.Wait()
		s.events.Close()
		return nil, s.red.err(err)
	}
	s.markGood()
	s.emit(Event{Kind: EventSubscribed})
	return s, nil
}

// Market returns the market the stream was opened on.
func (s *Stream) Market() *runtime.Market { return s.market }

// Done is closed when Close has finished.
func (s *Stream) Done() <-chan struct{} { return s.done }

// String describes the stream without secrets, e.g.
// "userdata.Stream{usdm, HMAC key vmPU…h8A}".
func (s *Stream) String() string {
	return fmt.Sprintf("userdata.Stream{%s, %s}", s.market.Name, s.creds)
}

// Close ends the stream: it stops recovery, says goodbye to the exchange
// (DELETE of the listen key, or userDataStream.unsubscribe), closes the
// connection and waits for every goroutine the Stream started, event
// handlers included, then emits EventClosed. Events still queued are
// discarded. It returns the goodbye's error, if any. It is idempotent; it
// must not be called from the event handler or an OnEvent handler.
func (s *Stream) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.closeTimeout)
		err := s.impl.close(ctx)
		cancel()
		s.wg.Wait()
		s.closeErr = s.red.err(err)
		s.emit(Event{Kind: EventClosed})
		s.events.Close()
		close(s.done)
	})
	return s.closeErr
}

// deliver calls the handler, one call at a time.
func (s *Stream) deliver(v markets.Payload) {
	s.hmu.Lock()
	defer s.hmu.Unlock()
	s.handle(v)
}

// emit sends a lifecycle event, scrubbed of secrets.
func (s *Stream) emit(e Event) {
	e.Market = s.market.Name
	e.Err = s.red.err(e.Err)
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	s.events.Emit(e)
}

func (s *Stream) markGood() { s.lastGood.Store(time.Now().UnixNano()) }

func (s *Stream) lastGoodTime() time.Time { return time.Unix(0, s.lastGood.Load()) }

// gap reports that events since the last good moment until now may be
// missing, because of reason.
func (s *Stream) gap(reason error) {
	from := s.lastGoodTime()
	s.markGood()
	s.emit(Event{Kind: EventGap, From: from, To: s.lastGoodTime(), Err: reason})
}

// spawn runs f on a goroutine that Close waits for.
func (s *Stream) spawn(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// sleep waits d unless the stream closes first.
func (s *Stream) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// signed returns params with apiKey, timestamp, recvWindow and signature
// added, signed with the stream's credentials.
func (s *Stream) signed(params map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(params)+4)
	for k, v := range params {
		out[k] = v
	}
	out["apiKey"] = s.creds.apiKey()
	out["timestamp"] = fmt.Sprint(s.opts.now().UnixMilli())
	if w := s.opts.recvWindow; w != DefaultRecvWindow {
		out["recvWindow"] = fmt.Sprint(w.Milliseconds())
	}
	sig, err := s.creds.Sign(SignaturePayload(out))
	if err != nil {
		return nil, err
	}
	s.red.addSignature(sig)
	out["signature"] = sig
	return out, nil
}

func logHandler(l *slog.Logger) func(Event) {
	return func(e Event) {
		level := slog.LevelInfo
		if e.Err != nil || e.Kind == EventGap {
			level = slog.LevelWarn
		}
		attrs := []slog.Attr{slog.String("market", e.Market)}
		if e.Kind == EventGap {
			attrs = append(attrs, slog.Time("from", e.From), slog.Time("to", e.To))
		}
		if e.Attempt != 0 {
			attrs = append(attrs, slog.Int("attempt", e.Attempt))
		}
		if e.Err != nil {
			attrs = append(attrs, slog.String("err", e.Err.Error()))
		}
		l.LogAttrs(context.Background(), level, "userdata: "+e.Kind.String(), attrs...)
	}
}
