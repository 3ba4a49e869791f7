package userdata

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/marketwire/marketwire/runtime"
)

// Defaults used when the options leave a value unset.
const (
	// DefaultQueueSize is how many decoded events wait for the handler
	// before the connection's reader waits for room (user events are never
	// dropped).
	DefaultQueueSize = 1024
	// DefaultRequestTimeout bounds each REST call and WebSocket API request.
	DefaultRequestTimeout = 10 * time.Second
	// DefaultCloseTimeout bounds the goodbye of Close (DELETE of the listen
	// key, userDataStream.unsubscribe).
	DefaultCloseTimeout = 5 * time.Second
	// DefaultRecvWindow is the recvWindow sent with signed requests.
	DefaultRecvWindow = 5 * time.Second
	// defaultReadTimeout is the WebSocket API's dead-connection limit when
	// the market has no PongDeadline.
	defaultReadTimeout = time.Minute
)

// Option configures Open.
type Option func(*options) error

type options struct {
	endpoint       string
	restURL        string
	streamURL      string
	wsapiURL       string
	httpClient     *http.Client
	keepAlive      time.Duration
	backoff        runtime.Backoff
	requestTimeout time.Duration
	closeTimeout   time.Duration
	recvWindow     time.Duration
	readTimeout    time.Duration
	queueSize      int
	now            func() time.Time
	logon          *bool
	handlers       []func(Event)
	logger         *slog.Logger
	runtimeOpts    []runtime.Option
}

func defaultOptions(m *runtime.Market) options {
	o := options{
		httpClient:     http.DefaultClient,
		backoff:        runtime.DefaultBackoff,
		requestTimeout: DefaultRequestTimeout,
		closeTimeout:   DefaultCloseTimeout,
		recvWindow:     DefaultRecvWindow,
		readTimeout:    m.Limits.PongDeadline,
		queueSize:      DefaultQueueSize,
		now:            time.Now,
	}
	if m.UserStream != nil {
		o.keepAlive = m.UserStream.KeepAlive
	}
	if o.readTimeout <= 0 {
		o.readTimeout = defaultReadTimeout
	}
	return o
}

// WithEndpoint selects the market's endpoints by name, e.g. "testnet": the
// listen-key REST host and the stream host, or the WebSocket API endpoint.
func WithEndpoint(name string) Option {
	return func(o *options) error {
		if name == "" {
			return errors.New("userdata: WithEndpoint: empty name")
		}
		o.endpoint = name
		return nil
	}
}

// WithRESTURL sets the base URL (http:// or https://) of the listen-key REST
// endpoints, e.g. a local simulator. It overrides WithEndpoint for REST.
func WithRESTURL(base string) Option {
	return urlOption("WithRESTURL", base, []string{"http", "https"}, func(o *options) { o.restURL = base })
}

// WithStreamURL sets the base URL (ws:// or wss://) of the stream host that
// carries listen-key user streams; routes and /stream are appended. It
// overrides WithEndpoint for the stream.
func WithStreamURL(base string) Option {
	return urlOption("WithStreamURL", base, []string{"ws", "wss"}, func(o *options) { o.streamURL = base })
}

// WithWSAPIURL sets the full URL (ws:// or wss://) of the WebSocket API
// (spot), e.g. ws://127.0.0.1:9001/ws-api/v3. It overrides WithEndpoint.
func WithWSAPIURL(u string) Option {
	return urlOption("WithWSAPIURL", u, []string{"ws", "wss"}, func(o *options) { o.wsapiURL = u })
}

func urlOption(name, raw string, schemes []string, set func(*options)) Option {
	return func(o *options) error {
		u, err := url.Parse(raw)
		if err != nil {
			return fmt.Errorf("userdata: %s: %w", name, err)
		}
		for _, s := range schemes {
			if u.Scheme == s {
				set(o)
				return nil
			}
		}
		return fmt.Errorf("userdata: %s: scheme %q, want %v", name, u.Scheme, schemes)
	}
}

// WithHTTPClient sets the client of the listen-key REST calls (default
// http.DefaultClient). Each call is also bounded by the request timeout.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("userdata: WithHTTPClient: nil client")
		}
		o.httpClient = c
		return nil
	}
}

// WithKeepAlive sets how often the listen key is extended (default the
// market's UserStream.KeepAlive, 30 minutes: half the key's 60-minute
// validity, so one failed attempt never lets it expire).
func WithKeepAlive(d time.Duration) Option {
	return positive("WithKeepAlive", d, func(o *options) { o.keepAlive = d })
}

// WithBackoff sets the delay between retries: reconnects of the WebSocket
// API, and listen-key creation or resubscription after a failure.
func WithBackoff(b runtime.Backoff) Option {
	return func(o *options) error {
		if b.Initial <= 0 || b.Max < b.Initial || b.Factor < 1 || b.Jitter < 0 || b.Jitter >= 1 {
			return errors.New("userdata: WithBackoff: want 0 < Initial <= Max, Factor >= 1, 0 <= Jitter < 1")
		}
		o.backoff = b
		return nil
	}
}

// WithRequestTimeout bounds each REST call and WebSocket API request
// (default 10 s).
func WithRequestTimeout(d time.Duration) Option {
	return positive("WithRequestTimeout", d, func(o *options) { o.requestTimeout = d })
}

// WithCloseTimeout bounds what Close says to the exchange (default 5 s).
func WithCloseTimeout(d time.Duration) Option {
	return positive("WithCloseTimeout", d, func(o *options) { o.closeTimeout = d })
}

// WithRecvWindow sets the recvWindow of signed requests (default 5 s; the
// exchange allows at most 60 s).
func WithRecvWindow(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 || d > time.Minute {
			return fmt.Errorf("userdata: WithRecvWindow: %v is not in (0, 60s]", d)
		}
		o.recvWindow = d
		return nil
	}
}

// WithReadTimeout sets how long the WebSocket API connection may receive
// nothing (no frame, no ping) before it is treated as dead and reconnected
// (default the market's PongDeadline). For listen-key markets it is passed
// to the runtime connection.
func WithReadTimeout(d time.Duration) Option {
	return positive("WithReadTimeout", d, func(o *options) { o.readTimeout = d })
}

// WithQueueSize sets how many decoded events wait for the handler
// (default 1024). When the queue is full the connection's reader waits:
// user events are never dropped, but a handler that stalls for long delays
// the pongs that keep the connection alive.
func WithQueueSize(n int) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("userdata: WithQueueSize: %d is not positive", n)
		}
		o.queueSize = n
		return nil
	}
}

// WithClock sets the clock of request timestamps (default time.Now), e.g.
// to correct for a known offset from the exchange's clock.
func WithClock(now func() time.Time) Option {
	return func(o *options) error {
		if now == nil {
			return errors.New("userdata: WithClock: nil clock")
		}
		o.now = now
		return nil
	}
}

// WithSessionLogon chooses how spot user data is subscribed with an Ed25519
// key: true (the default for Ed25519) logs the session on with
// session.logon and sends userDataStream.subscribe; false sends the signed
// userDataStream.subscribe.signature, the only way for HMAC and RSA keys.
func WithSessionLogon(on bool) Option {
	return func(o *options) error { o.logon = &on; return nil }
}

// OnEvent registers a handler for lifecycle events and background errors.
// Handlers run in registration order, one event at a time, on one
// goroutine. A handler must not call Close.
func OnEvent(fn func(Event)) Option {
	return func(o *options) error {
		if fn == nil {
			return errors.New("userdata: OnEvent: nil handler")
		}
		o.handlers = append(o.handlers, fn)
		return nil
	}
}

// WithLogger logs every lifecycle event: errors and gaps at Warn, the rest
// at Info. The log lines hold no secret.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return errors.New("userdata: WithLogger: nil logger")
		}
		o.logger = l
		return nil
	}
}

// WithRuntimeOptions passes options to the runtime connection that carries
// a listen-key user stream (futures and options), e.g. runtime.WithBackoff.
// Open sets the stream's URL or endpoint (use WithStreamURL and
// WithEndpoint of this package). Do not pass runtime.OnEvent: runtime
// events name their stream, which here is the listen key; OnEvent of this
// package gets them translated and scrubbed.
func WithRuntimeOptions(opts ...runtime.Option) Option {
	return func(o *options) error {
		o.runtimeOpts = append(o.runtimeOpts, opts...)
		return nil
	}
}

func positive(name string, d time.Duration, set func(*options)) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("userdata: %s: %v is not positive", name, d)
		}
		set(o)
		return nil
	}
}
