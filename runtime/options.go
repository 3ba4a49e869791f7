package runtime

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Defaults used when the Market's Limits or the options leave a value unset.
const (
	// DefaultReadLimit is the largest frame accepted (16 MiB). The biggest
	// frames of the schema's venues (all-market arrays) are well under 1 MiB;
	// the margin covers new or larger markets.
	DefaultReadLimit = 16 << 20
	// DefaultQueueSize is the number of decoded events a subscription buffers
	// before its overflow policy applies. The queue starts small and grows
	// when needed; DefaultQueueBytes usually bounds it first. It is large
	// so that a handler that keeps up on average loses nothing while its
	// goroutine waits for a core (a garbage collection, a busy machine):
	// at a million events per second it covers a pause of 65 ms.
	DefaultQueueSize = 65536
	// DefaultQueueBytes is the payload bytes a subscription buffers before its
	// overflow policy applies, whatever the number of events.
	DefaultQueueBytes = 16 << 20
	// DefaultProbeTimeout is the read timeout on venues whose servers answer a
	// probe (Dialect.ProbePing or Probe): a probe goes out after a third of it
	// without any frame, so a half-open connection is noticed within it (plus
	// an eighth, the watchdog's period: 9 s).
	DefaultProbeTimeout = 8 * time.Second
	// DefaultStableAfter is how long a connection must have lived for its loss
	// to count as a clean drop: the first reconnect then goes out at once
	// (with jitter), and the backoff starts over. Losses of younger
	// connections keep growing the backoff.
	DefaultStableAfter = time.Minute
	// DefaultWriteTimeout bounds every write of a client frame.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultHandshakeTimeout bounds the websocket opening handshake.
	DefaultHandshakeTimeout = 10 * time.Second
	// DefaultReplaceOverlap is how long a proactive replacement keeps the old
	// socket open while the new one catches up.
	DefaultReplaceOverlap = 10 * time.Second
	// DefaultDropReportInterval is the shortest gap between two EventDropped
	// events of one subscription.
	DefaultDropReportInterval = time.Second
	// defaultReadTimeout applies when the Market has no PongDeadline.
	defaultReadTimeout = time.Minute
	// limiterMargin widens the limiter's window so that network jitter cannot
	// squeeze more than the allowed messages into one server-side second.
	limiterMargin = 10 // percent
)

// Option configures Dial.
type Option func(*options) error

type options struct {
	endpoint         string
	url              string
	raw              bool
	token            string
	handlers         []func(Event)
	backoff          Backoff
	readTimeout      time.Duration
	writeTimeout     time.Duration
	handshakeTimeout time.Duration
	readLimit        int64
	replaceAfter     time.Duration
	replaceOverlap   time.Duration
	rateN            int
	ratePer          time.Duration
	dropReport       time.Duration
	attempts         int
	attemptWindow    time.Duration
	stableAfter      time.Duration
	crashOnPanic     bool
	dialRoutes       []string
}

func defaultOptions(m *Market) options {
	o := options{
		backoff:          DefaultBackoff,
		readTimeout:      m.Limits.PongDeadline,
		writeTimeout:     DefaultWriteTimeout,
		handshakeTimeout: DefaultHandshakeTimeout,
		readLimit:        DefaultReadLimit,
		replaceOverlap:   DefaultReplaceOverlap,
		rateN:            m.Limits.ControlMessagesPerSecond,
		ratePer:          time.Second * (100 + limiterMargin) / 100,
		dropReport:       DefaultDropReportInterval,
		attempts:         m.Limits.ConnectionAttempts,
		attemptWindow:    m.Limits.ConnectionWindow,
		stableAfter:      DefaultStableAfter,
	}
	if o.readTimeout <= 0 {
		o.readTimeout = defaultReadTimeout
	}
	if (m.Dialect.ProbePing || m.Dialect.Probe != "") && o.readTimeout > DefaultProbeTimeout {
		o.readTimeout = DefaultProbeTimeout
	}
	// Replace ten minutes before the exchange would cut the connection (23h50m
	// for the usual 24 h); short lifetimes keep 90 %.
	switch life := m.Limits.ConnectionLifetime; {
	case life >= time.Hour:
		o.replaceAfter = life - 10*time.Minute
	case life > 0:
		o.replaceAfter = life * 9 / 10
	}
	return o
}

func buildOptions(m *Market, opts []Option) (options, error) {
	o := defaultOptions(m)
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

// WithEndpoint selects one of the Market's endpoints by name, e.g. "testnet".
func WithEndpoint(name string) Option {
	return func(o *options) error {
		if name == "" {
			return errors.New("runtime: WithEndpoint: empty name")
		}
		o.endpoint = name
		return nil
	}
}

// WithURL connects to any base URL (ws:// or wss://), e.g. a local simulator.
// Routes and /stream or /ws are appended to it. It overrides WithEndpoint.
func WithURL(base string) Option {
	return func(o *options) error {
		u, err := url.Parse(base)
		if err != nil {
			return fmt.Errorf("runtime: WithURL: %w", err)
		}
		if u.Scheme != "ws" && u.Scheme != "wss" {
			return fmt.Errorf("runtime: WithURL: scheme %q, want ws or wss", u.Scheme)
		}
		o.url = base
		return nil
	}
}

// WithRawStreams opens one socket per stream, named in the URL
// (Dialect.RawPath), instead of multiplexing streams on one socket per
// route. Call is not available. Dial fails for a venue without that form.
func WithRawStreams() Option {
	return func(o *options) error { o.raw = true; return nil }
}

// WithAuthToken sets the token of the venue's login message (Dialect.Auth),
// sent first on every new connection; streams with Auth need it. The token
// is never printed: errors and events show <redacted> in its place.
func WithAuthToken(token string) Option {
	return func(o *options) error {
		if token == "" {
			return errors.New("runtime: WithAuthToken: empty token")
		}
		o.token = token
		return nil
	}
}

// OnEvent registers a handler for lifecycle events and background errors.
// Handlers run in registration order, one event at a time, on a single
// goroutine that holds no connection lock. A handler must not call Close.
func OnEvent(fn func(Event)) Option {
	return func(o *options) error {
		if fn == nil {
			return errors.New("runtime: OnEvent: nil handler")
		}
		o.handlers = append(o.handlers, fn)
		return nil
	}
}

// WithBackoff sets the reconnect backoff.
func WithBackoff(b Backoff) Option {
	return func(o *options) error {
		if err := b.validate(); err != nil {
			return err
		}
		o.backoff = b
		return nil
	}
}

// WithReadTimeout sets how long a socket may receive nothing (no data, no
// ping, no reply) before it is treated as dead and reconnected. On venues
// that answer probes (Dialect.ProbePing, Dialect.Probe) a probe goes out
// after a third of it without a frame, so a quiet but healthy socket is not
// dropped. The default is DefaultProbeTimeout on those venues, else the
// Market's Limits.PongDeadline (one minute if unset).
func WithReadTimeout(d time.Duration) Option {
	return positive("WithReadTimeout", d, func(o *options) { o.readTimeout = d })
}

// WithWriteTimeout bounds every write of a client frame (default 10 s).
func WithWriteTimeout(d time.Duration) Option {
	return positive("WithWriteTimeout", d, func(o *options) { o.writeTimeout = d })
}

// WithHandshakeTimeout bounds the websocket opening handshake (default 10 s).
func WithHandshakeTimeout(d time.Duration) Option {
	return positive("WithHandshakeTimeout", d, func(o *options) { o.handshakeTimeout = d })
}

// WithReadLimit sets the largest frame accepted, in bytes (default 16 MiB).
// A larger frame closes the socket, which then reconnects.
func WithReadLimit(n int64) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("runtime: WithReadLimit: %d is not positive", n)
		}
		o.readLimit = n
		return nil
	}
}

// WithReplaceAfter sets the age at which a socket is proactively replaced
// (default: Limits.ConnectionLifetime minus 10 minutes). Zero disables it.
func WithReplaceAfter(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("runtime: WithReplaceAfter: %v is negative", d)
		}
		o.replaceAfter = d
		return nil
	}
}

// WithReplaceOverlap sets how long a replacement may keep both sockets open
// while the new one catches up with the old (default 10 s).
func WithReplaceOverlap(d time.Duration) Option {
	return positive("WithReplaceOverlap", d, func(o *options) { o.replaceOverlap = d })
}

// WithControlRate sets the client-side limit on outgoing frames (control
// requests and pongs): at most n in any window of length per. The default is
// Limits.ControlMessagesPerSecond per 1.1 s (10 % margin). n = 0 disables the
// limiter, which only makes sense against a server without limits.
func WithControlRate(n int, per time.Duration) Option {
	return func(o *options) error {
		if n < 0 || (n > 0 && per <= 0) {
			return fmt.Errorf("runtime: WithControlRate: bad rate %d per %v", n, per)
		}
		o.rateN, o.ratePer = n, per
		return nil
	}
}

// WithDropReportInterval sets the shortest gap between two EventDropped
// events of one subscription, and between two reports of one kind of
// repeated error or of one stream's gaps (default 1 s). What happens in
// between is summed into the next event's Count.
func WithDropReportInterval(d time.Duration) Option {
	return positive("WithDropReportInterval", d, func(o *options) { o.dropReport = d })
}

// WithConnectionBudget sets the most new connections (first dials,
// reconnects and replacements) allowed within per, shared by every Conn of
// the process to the same host. The default is the Market's
// Limits.ConnectionAttempts per ConnectionWindow; n = 0 removes the limit.
func WithConnectionBudget(n int, per time.Duration) Option {
	return func(o *options) error {
		if n < 0 || (n > 0 && per <= 0) {
			return fmt.Errorf("runtime: WithConnectionBudget: bad budget %d per %v", n, per)
		}
		o.attempts, o.attemptWindow = n, per
		return nil
	}
}

// WithStableAfter sets how long a socket must have lived for its loss to
// count as a clean drop (default DefaultStableAfter): the first reconnect
// then goes out at once, with jitter. A socket lost sooner (a server that
// closes right after the subscribe, say) continues the backoff of the
// failures before it, so a failing connection never reconnects in a loop.
func WithStableAfter(d time.Duration) Option {
	return positive("WithStableAfter", d, func(o *options) { o.stableAfter = d })
}

// WithDialRoutes makes Dial open the sockets of these routes at once and
// return their errors, for a market with routes whose sockets are otherwise
// opened on first use (see Dial).
func WithDialRoutes(routes ...string) Option {
	return func(o *options) error {
		if o.raw {
			return fmt.Errorf("runtime: WithDialRoutes: %w", ErrRawMode)
		}
		o.dialRoutes = append(o.dialRoutes, routes...)
		return nil
	}
}

// WithCrashOnPanic lets a panic in a handler (a subscription's or an
// OnEvent handler) crash the program, as in plain Go code. By default it is
// recovered and reported as EventPanic, and only that subscription ends.
func WithCrashOnPanic() Option {
	return func(o *options) error { o.crashOnPanic = true; return nil }
}

func positive(name string, d time.Duration, set func(*options)) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("runtime: %s: %v is not positive", name, d)
		}
		set(o)
		return nil
	}
}

// OverflowPolicy says what a subscription does when its queue is full.
type OverflowPolicy int

const (
	// DropOldest discards the oldest queued event to make room (the default).
	DropOldest OverflowPolicy = iota
	// DropNewest discards the event that does not fit.
	DropNewest
	// Block makes the socket's reader wait for room. It stalls every stream on
	// that socket, and a long stall delays pongs until the exchange drops the
	// connection: use it only with handlers that are always fast.
	Block
	// CloseSubscription ends the subscription with ErrSlowConsumer.
	CloseSubscription
)

// String returns the policy's name.
func (p OverflowPolicy) String() string {
	switch p {
	case DropOldest:
		return "DropOldest"
	case DropNewest:
		return "DropNewest"
	case Block:
		return "Block"
	case CloseSubscription:
		return "CloseSubscription"
	}
	return fmt.Sprintf("OverflowPolicy(%d)", int(p))
}

// SubscribeOption configures one Subscribe call.
type SubscribeOption func(*subOptions) error

type subOptions struct {
	policy OverflowPolicy
	size   int
	bytes  int
	borrow bool
	inline bool
}

// WithBorrow lets the handler borrow each event instead of owning it: an
// event, and everything it holds (such as its slices of price levels), is
// valid only until the handler returns, after which the runtime decodes a
// later event into the same memory. A handler that keeps something beyond
// its return must copy it. Borrowing saves the allocation of each event:
// with the generated decoders a borrowing subscription allocates nothing
// per message once warm. Events are reused on Deferred streams (every
// generated one) and by WithInline handlers; on other streams an event is
// decoded on the reader and is not reused.
func WithBorrow() SubscribeOption {
	return func(o *subOptions) error {
		o.borrow = true
		return nil
	}
}

// WithOverflow chooses the subscription's overflow policy (default DropOldest).
func WithOverflow(p OverflowPolicy) SubscribeOption {
	return func(o *subOptions) error {
		if p < DropOldest || p > CloseSubscription {
			return fmt.Errorf("runtime: WithOverflow: unknown policy %d", int(p))
		}
		o.policy = p
		return nil
	}
}

// WithInline runs the handler on the connection's reader goroutine, right
// after its event is decoded, instead of on the subscription's goroutine:
// no queue and no hand-off between goroutines, for the lowest latency. The
// price: while the handler runs, nothing else of its connection is read,
// so a slow handler delays every stream the connection carries and, once
// the socket's buffers fill, the exchange itself (which may then drop the
// connection). The event is borrowed, as with WithBorrow. Overflow and
// queue options do not apply and nothing is dropped. The handler may call
// Unsubscribe and Close (Close then returns without waiting for the
// connection's goroutines to end).
func WithInline() SubscribeOption {
	return func(o *subOptions) error {
		o.inline, o.borrow = true, true
		return nil
	}
}

// WithQueueBytes sets the most payload bytes the subscription's queue holds
// before its overflow policy applies (default DefaultQueueBytes). One event
// larger than that is still queued when the queue is empty.
func WithQueueBytes(n int) SubscribeOption {
	return func(o *subOptions) error {
		if n <= 0 {
			return fmt.Errorf("runtime: WithQueueBytes: %d is not positive", n)
		}
		o.bytes = n
		return nil
	}
}

// WithQueueSize sets the subscription's queue capacity (default 65,536). The
// subscription's goroutine takes everything queued at once and hands it to
// the handler one event at a time, so up to this many more events can be
// taken and waiting for their turn.
func WithQueueSize(n int) SubscribeOption {
	return func(o *subOptions) error {
		if n <= 0 {
			return fmt.Errorf("runtime: WithQueueSize: %d is not positive", n)
		}
		o.size = n
		return nil
	}
}
