// Package userapi simulates the authenticated side of a Binance market for
// tests and examples: the listen-key REST endpoints (USDⓈ-M, COIN-M,
// options), user-data streams on the market's stream host, and the spot
// WebSocket API's user-data subscription with signature checks (HMAC-SHA256,
// Ed25519, RSA). One Server serves one market on one loopback port: REST,
// streams and the WebSocket API side by side.
//
// Tests push user events (Push, PushFixtures), and trigger the faults a
// client must survive: an expiring key (Expire), a key the exchange forgot
// (Forget), a failing keep-alive (FailNextKeepAlive), a rejected signature
// (RejectNextSignature), a terminated subscription (Terminate) and dropped
// connections (DropConnections).
package userapi

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/marketwire/marketwire/generated"
	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/synth"
	"github.com/marketwire/marketwire/wire"
)

// Account is one API key the simulator accepts. Set Secret for an HMAC key,
// or PublicKey (ed25519.PublicKey or *rsa.PublicKey) for an Ed25519 or RSA
// key.
type Account struct {
	APIKey    string
	Secret    string
	PublicKey crypto.PublicKey
}

// Option configures a Server.
type Option func(*Server)

// WithValidity sets how long a listen key lives without a keep-alive
// (default the market's UserStream.Validity, 60 minutes). When it passes
// the key expires as with Expire.
func WithValidity(d time.Duration) Option { return func(s *Server) { s.validity = d } }

// WithPing sets how often the WebSocket API pings its clients (default the
// market's PingInterval; 0 disables).
func WithPing(d time.Duration) Option { return func(s *Server) { s.pingEvery = d } }

// WithSeed sets the seed of the market-data simulator behind the streams.
func WithSeed(seed uint64) Option { return func(s *Server) { s.seed = seed } }

// WithStreamOptions passes options to the stream simulator (sim.Server),
// after the ones that make it accept listen keys.
func WithStreamOptions(opts ...sim.Option) Option {
	return func(s *Server) { s.streamOpts = append(s.streamOpts, opts...) }
}

// WithAddr sets the address Start listens on (default 127.0.0.1:0).
func WithAddr(addr string) Option { return func(s *Server) { s.addr = addr } }

// Request is one call the server answered, for tests that check what a
// client sent and when.
type Request struct {
	Time   time.Time
	API    string // "REST" or "WSAPI"
	Method string // HTTP method, or the WebSocket API method
	Path   string // REST path; "" for the WebSocket API
	Status int    // HTTP status or the WebSocket API status
	Code   int    // the error code answered, 0 on success
	// Signature is the signature a signed WebSocket API request carried,
	// so that tests can check a client never prints one.
	Signature string
}

// Server is a simulated authenticated market. The zero value is not usable;
// call New.
type Server struct {
	market     *runtime.Market
	name       string
	validity   time.Duration
	pingEvery  time.Duration
	seed       uint64
	addr       string
	streamOpts []sim.Option
	wsapiPath  string

	streams *sim.Server
	http    *http.Server
	url     string

	// expiring is held by an expiry from the key's invalidation until its
	// listenKeyExpired is queued, and by every listen-key request, so that
	// no answer shows the key gone before the event was queued on the
	// key's connections. It is taken before mu, never while holding mu or
	// the stream simulator's lock.
	expiring sync.Mutex

	mu         sync.Mutex
	accounts   map[string]*account // by API key
	keys       map[string]*account // valid listen key -> account
	issued     map[string]bool     // every listen key ever issued
	failNext   *apiError           // answer to the next keep-alive
	rejectSigs int                 // signatures to reject
	sessions   map[*session]bool
	requests   []Request
	closed     bool

	wg sync.WaitGroup
}

type account struct {
	Account
	key   string      // current listen key, "" when none
	timer *time.Timer // expires key
}

type apiError struct {
	Status int    `json:"-"`
	Code   int    `json:"code"`
	Msg    string `json:"msg"`
}

// The exchange's error answers the simulator uses.
var (
	errNoAPIKey    = &apiError{401, -2014, "API-key format invalid."}
	errBadAPIKey   = &apiError{401, -2015, "Invalid API-key, IP, or permissions for action."}
	errNoKey       = &apiError{400, -1125, "This listenKey does not exist."}
	errBadSig      = &apiError{400, -1022, "Signature for this request is not valid."}
	errTimestamp   = &apiError{400, -1021, "Timestamp for this request is outside of the recvWindow."}
	errNotLoggedOn = &apiError{401, -1002, "You are not authorized to execute this request."}
)

// New returns a server for the named market (a key of markets.All) that
// accepts the given accounts. It starts no goroutine that needs Close until
// Start, except the stream simulator's publisher.
func New(market string, accounts []Account, opts ...Option) (*Server, error) {
	mk, ok := markets.All[market]
	if !ok {
		return nil, fmt.Errorf("userapi: unknown market %q", market)
	}
	m := mk.Info
	if m.UserStream == nil {
		return nil, fmt.Errorf("userapi: market %q has no user stream", market)
	}
	s := &Server{
		market:    m,
		name:      market,
		validity:  m.UserStream.Validity,
		pingEvery: m.Limits.PingInterval,
		addr:      "127.0.0.1:0",
		accounts:  map[string]*account{},
		keys:      map[string]*account{},
		issued:    map[string]bool{},
		sessions:  map[*session]bool{},
		wsapiPath: "/ws-api/v3",
	}
	if s.validity <= 0 {
		s.validity = time.Hour
	}
	if len(m.UserStream.WSAPI) > 0 {
		if u, err := url.Parse(m.UserStream.WSAPI[0].URL); err == nil && u.Path != "" {
			s.wsapiPath = u.Path
		}
	}
	for _, o := range opts {
		o(s)
	}
	for _, a := range accounts {
		if a.APIKey == "" {
			return nil, errors.New("userapi: account without an API key")
		}
		switch a.PublicKey.(type) {
		case nil:
			if a.Secret == "" {
				return nil, errors.New("userapi: account needs a Secret or a PublicKey")
			}
		case ed25519.PublicKey, *rsa.PublicKey:
		default:
			return nil, fmt.Errorf("userapi: unsupported public key %T", a.PublicKey)
		}
		s.accounts[a.APIKey] = &account{Account: a}
	}
	streamOpts := append([]sim.Option{
		sim.WithValid(func(stream string) bool {
			if s.validKey(stream) {
				return true
			}
			_, err := mk.ParseStream(stream)
			return err == nil
		}),
		// Listen-key streams carry only what Push and expiries publish.
		sim.WithManual(s.isKey),
		sim.WithRoute(func(stream string) string {
			if s.isKey(stream) {
				return m.UserStream.Route
			}
			if p, err := mk.ParseStream(stream); err == nil {
				return p.Route()
			}
			return ""
		}),
	}, s.streamOpts...)
	srv, err := synth.Server(market, s.seed, streamOpts...)
	if err != nil {
		return nil, err
	}
	s.streams = srv
	return s, nil
}

// Start listens on a loopback address and serves in the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return err
	}
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.url = ln.Addr().String()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.http.Serve(ln)
	}()
	return nil
}

// URL returns the http:// base URL of the REST endpoints after Start.
func (s *Server) URL() string { return "http://" + s.url }

// StreamURL returns the ws:// base URL of the market streams after Start.
func (s *Server) StreamURL() string { return "ws://" + s.url }

// WSAPIURL returns the ws:// URL of the WebSocket API after Start.
func (s *Server) WSAPIURL() string { return "ws://" + s.url + s.wsapiPath }

// Streams returns the stream simulator, for its faults and statistics.
func (s *Server) Streams() *sim.Server { return s.streams }

// Close stops the server, closes every connection and waits for all of its
// goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for _, a := range s.accounts {
		if a.timer != nil {
			a.timer.Stop()
		}
	}
	sessions := s.openSessions()
	s.mu.Unlock()
	if s.http != nil {
		_ = s.http.Close()
	}
	for _, ss := range sessions {
		ss.close()
	}
	s.streams.Close()
	s.wg.Wait()
}

// ServeHTTP serves the listen-key endpoint, the WebSocket API and, on every
// other path, the market streams.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case s.market.UserStream.ListenKeyPath != "" && p == s.market.UserStream.ListenKeyPath:
		s.serveListenKey(w, r)
	case len(s.market.UserStream.WSAPI) > 0 && p == s.wsapiPath:
		s.serveWSAPI(w, r)
	default:
		s.streams.ServeHTTP(w, r)
	}
}

// Requests returns every call answered so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *Server) record(r Request) {
	r.Time = time.Now()
	s.mu.Lock()
	s.requests = append(s.requests, r)
	s.mu.Unlock()
}

// ListenKey returns the account's valid listen key, or "".
func (s *Server) ListenKey(apiKey string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.accounts[apiKey]; a != nil {
		return a.key
	}
	return ""
}

// ListenKeys returns every listen key the server ever issued, sorted.
func (s *Server) ListenKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.issued))
	for k := range s.issued {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (s *Server) validKey(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[name] != nil
}

// isKey reports whether name is a listen key the server ever issued.
func (s *Server) isKey(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued[name]
}

// Push sends one user event of the account to every subscriber: on the
// stream of its listen key (listen-key markets), or wrapped as
// {"subscriptionId":N,"event":...} to every WebSocket API subscription of
// the account (spot). It returns how many connections it reached.
func (s *Server) Push(apiKey string, payload []byte) int {
	if s.market.UserStream.ListenKeyPath == "" {
		return s.pushAPI(apiKey, payload)
	}
	key := s.ListenKey(apiKey)
	if key == "" {
		return 0
	}
	return s.streams.Publish(key, payload)
}

// PushFixtures pushes every user-event fixture of the market
// (generated.UserFixtures), in file-name order, and returns how many
// reached a connection. Spot's eventStreamTerminated fixture is skipped:
// it would end the subscription (use Terminate).
func (s *Server) PushFixtures(apiKey string) int {
	n := 0
	for _, f := range PushableFixtures(s.name) {
		if s.Push(apiKey, f.Data) > 0 {
			n++
		}
	}
	return n
}

// PushableFixtures returns the user-event fixtures PushFixtures sends.
func PushableFixtures(market string) []generated.UserFixture {
	var out []generated.UserFixture
	for _, f := range generated.UserFixtures(market) {
		if kind, _, _ := wire.LookupString(f.Data, "e"); kind == "eventStreamTerminated" {
			continue
		}
		out = append(out, f)
	}
	return out
}

// Expire expires the account's listen key now: the key becomes invalid
// (keep-alive answers -1125, SUBSCRIBE is refused, POST creates a new key),
// then listenKeyExpired is pushed on it. No listen-key request is answered
// in between: a client learns from REST that the key is gone only after the
// event was queued on its connection. It returns the expired key, or ""
// when there was none.
func (s *Server) Expire(apiKey string) string { return s.invalidate(apiKey, true) }

// Forget invalidates the account's listen key silently, as if the exchange
// had lost it: nothing is pushed, the next keep-alive answers -1125. It
// returns the key, or "".
func (s *Server) Forget(apiKey string) string { return s.invalidate(apiKey, false) }

// invalidate expires the account's current listen key, pushing
// listenKeyExpired when notify is set, and returns the key ("" when none).
func (s *Server) invalidate(apiKey string, notify bool) string {
	s.mu.Lock()
	a := s.accounts[apiKey]
	if a == nil || a.key == "" {
		s.mu.Unlock()
		return ""
	}
	key := a.key
	s.mu.Unlock()
	s.expire(a, key, notify)
	return key
}

// expire invalidates key of a, if it is still its key, then optionally
// pushes listenKeyExpired on it, with listen-key requests held off until
// then.
func (s *Server) expire(a *account, key string, notify bool) {
	s.expiring.Lock()
	defer s.expiring.Unlock()
	s.mu.Lock()
	if a.key != key {
		s.mu.Unlock()
		return
	}
	a.key = ""
	delete(s.keys, key)
	if a.timer != nil {
		a.timer.Stop()
		a.timer = nil
	}
	s.mu.Unlock()
	if notify {
		ev := fmt.Sprintf(`{"e":"listenKeyExpired","E":%d,"listenKey":%q}`, time.Now().UnixMilli(), key)
		s.streams.Publish(key, []byte(ev))
	}
}

// FailNextKeepAlive makes the next PUT of the listen-key endpoint fail with
// this HTTP status and {"code":code,"msg":msg}.
func (s *Server) FailNextKeepAlive(status, code int, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = &apiError{status, code, msg}
}

// RejectNextSignature makes the next signed WebSocket API request fail
// with -1022 "Signature for this request is not valid.", whatever its
// signature.
func (s *Server) RejectNextSignature() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejectSigs++
}

// DropConnections closes every stream and WebSocket API connection
// abruptly and returns how many there were.
func (s *Server) DropConnections() int {
	n := s.streams.DropConnections()
	s.mu.Lock()
	sessions := s.openSessions()
	s.mu.Unlock()
	for _, ss := range sessions {
		ss.drop()
	}
	return n + len(sessions)
}

func (s *Server) openSessions() []*session {
	out := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		out = append(out, ss)
	}
	return out
}

// newListenKey returns 64 random alphanumeric characters.
func newListenKey() string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b [64]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = chars[int(b[i])%len(chars)]
	}
	return string(b[:])
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
