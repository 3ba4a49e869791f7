package userdata_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/sim/userapi"
	"github.com/marketwire/marketwire/userdata"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The example key and secret of Binance's documentation.
const (
	apiKey = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
	secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
)

// edKey is a fixed Ed25519 key, so tests need no randomness.
var edKey = ed25519.NewKeyFromSeed([]byte("marketwire userdata test seed 32"))

var fast = runtime.Backoff{Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond, Factor: 2}

const wait = 5 * time.Second

func hmacAccount() userapi.Account { return userapi.Account{APIKey: apiKey, Secret: secret} }

// server starts a simulator of the market that knows accounts.
func server(t *testing.T, market string, accounts []userapi.Account, opts ...userapi.Option) *userapi.Server {
	t.Helper()
	srv, err := userapi.New(market, accounts, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// recorder collects a stream's events and lifecycle events.
type recorder struct {
	mu     sync.Mutex
	events []markets.Payload
	life   []userdata.Event
	wake   chan struct{}
}

func newRecorder() *recorder { return &recorder{wake: make(chan struct{}, 1)} }

func (r *recorder) handle(p markets.Payload) {
	r.mu.Lock()
	r.events = append(r.events, p)
	r.mu.Unlock()
	r.signal()
}

func (r *recorder) onEvent(e userdata.Event) {
	r.mu.Lock()
	r.life = append(r.life, e)
	r.mu.Unlock()
	r.signal()
}

func (r *recorder) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// until waits for cond, checked under the lock after every change.
func (r *recorder) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.wake:
		case <-deadline.C:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("timed out waiting for %s; %d events; lifecycle: %v", what, len(r.events), r.life)
		}
	}
}

// waitEvents waits until n events arrived and returns them.
func (r *recorder) waitEvents(t *testing.T, n int) []markets.Payload {
	t.Helper()
	r.until(t, fmt.Sprintf("%d events", n), func() bool { return len(r.events) >= n })
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]markets.Payload(nil), r.events...)
}

// waitKind waits for the count-th lifecycle event of kind and returns it.
func (r *recorder) waitKind(t *testing.T, kind userdata.EventKind, count int) userdata.Event {
	t.Helper()
	var found userdata.Event
	r.until(t, fmt.Sprintf("%d× %v", count, kind), func() bool {
		n := 0
		for _, e := range r.life {
			if e.Kind == kind {
				n++
				if n == count {
					found = e
					return true
				}
			}
		}
		return false
	})
	return found
}

func (r *recorder) count(kind userdata.EventKind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.life {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

func (r *recorder) numEvents() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// open opens a stream of the market against srv.
func open(t *testing.T, srv *userapi.Server, market string, creds userdata.Credentials, r *recorder, opts ...userdata.Option) *userdata.Stream {
	t.Helper()
	st, err := openErr(srv, market, creds, r, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openErr(srv *userapi.Server, market string, creds userdata.Credentials, r *recorder, opts ...userdata.Option) (*userdata.Stream, error) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	all := append([]userdata.Option{
		userdata.WithRESTURL(srv.URL()),
		userdata.WithStreamURL(srv.StreamURL()),
		userdata.WithWSAPIURL(srv.WSAPIURL()),
		userdata.WithBackoff(fast),
		userdata.OnEvent(r.onEvent),
	}, opts...)
	return userdata.Open(ctx, markets.All[market].Info, creds, r.handle, all...)
}

// decodeUser decodes a payload as the market's DecodeUser does.
func decodeUser(t *testing.T, market string, data []byte) markets.Payload {
	t.Helper()
	v, err := markets.All[market].Dispatch["user"](data)
	if err != nil {
		t.Fatalf("%s: decode %s: %v", market, data, err)
	}
	return v
}

func sameEvent(t *testing.T, got, want markets.Payload) {
	t.Helper()
	if reflect.TypeOf(got) != reflect.TypeOf(want) {
		t.Fatalf("got %T, want %T", got, want)
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := got.MarshalJSON()
		w, _ := want.MarshalJSON()
		t.Fatalf("%T differs:\n got %s\nwant %s", got, g, w)
	}
}
