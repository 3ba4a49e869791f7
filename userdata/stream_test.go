package userdata_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/generated/spot"
	"github.com/marketwire/marketwire/generated/usdm"
	"github.com/marketwire/marketwire/sim/userapi"
	"github.com/marketwire/marketwire/userdata"
	"github.com/marketwire/marketwire/wire"
)

var allMarkets = []string{"spot", "usdm", "coinm", "options"}

// Every user-event fixture of every market arrives from the simulator
// typed, with the values the generated decoder gives, in order; the kind
// the schema does not know arrives as *wire.UnknownEvent.
func TestEveryFixtureArrivesTyped(t *testing.T) {
	for _, market := range allMarkets {
		t.Run(market, func(t *testing.T) {
			t.Parallel()
			srv := server(t, market, []userapi.Account{hmacAccount()})
			r := newRecorder()
			open(t, srv, market, userdata.NewHMAC(apiKey, secret), r)
			fixtures := userapi.PushableFixtures(market)
			if len(fixtures) < 8 {
				t.Fatalf("only %d fixtures", len(fixtures))
			}
			if n := srv.PushFixtures(apiKey); n != len(fixtures) {
				t.Fatalf("pushed %d of %d fixtures", n, len(fixtures))
			}
			got := r.waitEvents(t, len(fixtures))
			unknown := 0
			for i, f := range fixtures {
				sameEvent(t, got[i], decodeUser(t, market, f.Data))
				if u, ok := got[i].(*wire.UnknownEvent); ok {
					unknown++
					if u.Kind != "SOMETHING_NEW" || f.Name != "unknown_kind" {
						t.Errorf("%s arrived as unknown event %q", f.Name, u.Kind)
					}
				}
			}
			if unknown != 1 {
				t.Errorf("%d unknown events, want 1", unknown)
			}
			if n := r.count(userdata.EventError); n != 0 {
				t.Errorf("%d errors: %v", n, r.life)
			}
		})
	}
}

// A kind the schema does not know is delivered, not an error.
func TestUnknownKindIsDelivered(t *testing.T) {
	for _, market := range []string{"spot", "usdm"} {
		t.Run(market, func(t *testing.T) {
			srv := server(t, market, []userapi.Account{hmacAccount()})
			r := newRecorder()
			open(t, srv, market, userdata.NewHMAC(apiKey, secret), r)
			raw := `{"e":"BRAND_NEW_KIND","E":1700000000000,"z":[1,2]}`
			srv.Push(apiKey, []byte(raw))
			srv.Push(apiKey, []byte(`{"e":"balanceUpdate","E":1,"a":"BTC","d":"1.5","T":2}`))
			got := r.waitEvents(t, 2)
			u, ok := got[0].(*wire.UnknownEvent)
			if !ok || u.Kind != "BRAND_NEW_KIND" || string(u.Raw) != raw {
				t.Fatalf("got %#v", got[0])
			}
		})
	}
}

// The listen-key lifecycle: POST at Open, the key subscribed on the user
// route, DELETE at Close; Close is idempotent and EventClosed is last.
func TestListenKeyLifecycle(t *testing.T) {
	for _, market := range []string{"usdm", "coinm", "options"} {
		t.Run(market, func(t *testing.T) {
			srv := server(t, market, []userapi.Account{hmacAccount()})
			r := newRecorder()
			st := open(t, srv, market, userdata.NewHMAC(apiKey, secret), r)
			key := srv.ListenKey(apiKey)
			if key == "" {
				t.Fatal("no listen key was created")
			}
			conns := srv.Streams().OpenConns()
			if len(conns) != 1 || len(conns[0].Streams) != 1 || conns[0].Streams[0] != key {
				t.Fatalf("stream connections %+v", conns)
			}
			wantRoute := map[string]string{"usdm": "private", "options": "private", "coinm": ""}[market]
			if conns[0].Route != wantRoute {
				t.Errorf("route %q, want %q", conns[0].Route, wantRoute)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			if err := st.Close(); err != nil {
				t.Fatal("second Close:", err)
			}
			if srv.ListenKey(apiKey) != "" {
				t.Error("Close did not delete the listen key")
			}
			var methods []string
			for _, q := range srv.Requests() {
				methods = append(methods, q.Method)
				if q.Path != markets.All[market].Info.UserStream.ListenKeyPath {
					t.Errorf("request to %s", q.Path)
				}
			}
			if fmt.Sprint(methods) != "[POST DELETE]" {
				t.Errorf("requests %v, want [POST DELETE]", methods)
			}
			r.mu.Lock()
			last := r.life[len(r.life)-1]
			r.mu.Unlock()
			if last.Kind != userdata.EventClosed {
				t.Errorf("last event %v", last)
			}
			select {
			case <-st.Done():
			default:
				t.Error("Done not closed")
			}
		})
	}
}

// A key that expires mid-stream is replaced: a new key is subscribed, the
// old one unsubscribed, the window reported as a gap, and every event
// published after the new subscription arrives.
func TestExpiredKeyIsReplacedWithoutLoss(t *testing.T) {
	for _, market := range []string{"usdm", "coinm", "options"} {
		t.Run(market, func(t *testing.T) {
			t.Parallel()
			srv := server(t, market, []userapi.Account{hmacAccount()})
			r := newRecorder()
			open(t, srv, market, userdata.NewHMAC(apiKey, secret), r)
			ev := userEvent(market)
			for range 5 {
				srv.Push(apiKey, ev)
			}
			r.waitEvents(t, 5)

			before := time.Now()
			old := srv.Expire(apiKey)
			replaced := r.waitKind(t, userdata.EventKeyReplaced, 1)
			if !errors.Is(replaced.Err, userdata.ErrKeyExpired) {
				t.Errorf("reason %v", replaced.Err)
			}
			gap := r.waitKind(t, userdata.EventGap, 1)
			if gap.From.After(gap.To) || gap.To.Before(before) || !errors.Is(gap.Err, userdata.ErrKeyExpired) {
				t.Errorf("gap %v", gap)
			}
			key := srv.ListenKey(apiKey)
			if key == "" || key == old {
				t.Fatalf("key not replaced")
			}
			// The old key is unsubscribed once the new one is confirmed.
			deadline := time.Now().Add(wait)
			for {
				conns := srv.Streams().OpenConns()
				if len(conns) == 1 && fmt.Sprint(conns[0].Streams) == fmt.Sprint([]string{key}) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("subscriptions %+v", conns)
				}
				time.Sleep(time.Millisecond)
			}
			const n = 50
			for range n {
				if srv.Push(apiKey, ev) != 1 {
					t.Fatal("push reached no connection")
				}
			}
			got := r.waitEvents(t, 5+1+n) // 5 before, listenKeyExpired, n after
			time.Sleep(20 * time.Millisecond)
			if len(got) != 5+1+n || r.numEvents() != 5+1+n {
				t.Fatalf("%d events, want %d", r.numEvents(), 5+1+n)
			}
			if k, _, _ := wire.LookupString(mustJSON(t, got[5]), "e"); k != "listenKeyExpired" {
				t.Errorf("event 6 is %T", got[5])
			}
			if r.count(userdata.EventKeyReplaced) != 1 {
				t.Errorf("lifecycle %v", r.life)
			}
		})
	}
}

func mustJSON(t *testing.T, p interface{ MarshalJSON() ([]byte, error) }) []byte {
	t.Helper()
	b, err := p.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// userEvent is a small, valid user event of the market.
func userEvent(market string) []byte {
	switch market {
	case "spot":
		return []byte(`{"e":"balanceUpdate","E":1573200697110,"a":"BTC","d":"100.00000000","T":1573200697068}`)
	case "options":
		return []byte(`{"e":"RISK_LEVEL_CHANGE","E":1587727187525,"s":"REDUCE_ONLY","mb":"1534.11708371","mm":"254789.11708371"}`)
	}
	return []byte(`{"e":"ACCOUNT_CONFIG_UPDATE","E":1611646737479,"T":1611646737476,"ac":{"s":"BTCUSD_PERP","l":25}}`)
}

// Events the old key's subscription received but had not yet handed to a
// slow handler when the key is replaced are all delivered, before the new
// key's events: the runtime discards what is still queued when a
// subscription is unsubscribed, so the old key is drained first.
func TestReplacedKeyIsDrainedInOrder(t *testing.T) {
	srv := server(t, "usdm", []userapi.Account{hmacAccount()})
	entered, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var got []markets.Payload
	handle := func(p markets.Payload) {
		mu.Lock()
		got = append(got, p)
		first := len(got) == 1
		mu.Unlock()
		if first { // the handler is slow: the events below queue up
			close(entered)
			<-release
		}
	}
	r := newRecorder()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	st, err := userdata.Open(ctx, markets.All["usdm"].Info, userdata.NewHMAC(apiKey, secret), handle,
		userdata.WithRESTURL(srv.URL()), userdata.WithStreamURL(srv.StreamURL()),
		userdata.WithBackoff(fast), userdata.OnEvent(r.onEvent))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	event := func(i int) []byte {
		return []byte(fmt.Sprintf(`{"e":"ACCOUNT_CONFIG_UPDATE","E":1611646737479,"T":%d,"ac":{"s":"BTCUSDT","l":%d}}`, i, i))
	}
	srv.Push(apiKey, event(0))
	select {
	case <-entered:
	case <-time.After(wait):
		t.Fatal("no event")
	}
	const before, after = 10, 5
	for i := 1; i < before; i++ {
		srv.Push(apiKey, event(i))
	}
	old := srv.Expire(apiKey) // listenKeyExpired follows them on the old key
	var key string
	deadline := time.Now().Add(wait)
	for {
		if conns := srv.Streams().OpenConns(); len(conns) == 1 {
			if key = srv.ListenKey(apiKey); key != "" && key != old && slices.Contains(conns[0].Streams, key) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the new key was not subscribed")
		}
		time.Sleep(time.Millisecond)
	}
	for i := 0; i < after; i++ {
		if srv.Push(apiKey, event(100+i)) != 1 {
			t.Fatal("push reached no connection")
		}
	}
	// Let the new key's events reach the client while the handler is
	// still busy with the first event.
	time.Sleep(50 * time.Millisecond)
	close(release)

	want := before + 1 + after
	deadline = time.Now().Add(wait)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events, want %d; lifecycle %v", n, want, r.life)
		}
		time.Sleep(time.Millisecond)
	}
	r.waitKind(t, userdata.EventKeyReplaced, 1)
	mu.Lock()
	defer mu.Unlock()
	var order []string
	for _, p := range got {
		switch v := p.(type) {
		case *usdm.AccountConfigUpdateEvent:
			order = append(order, fmt.Sprint(int64(v.TransactionTime)))
		case *usdm.ListenKeyExpiredEvent:
			order = append(order, "expired")
		default:
			order = append(order, fmt.Sprintf("%T", p))
		}
	}
	wantOrder := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "expired", "100", "101", "102", "103", "104"}
	if !slices.Equal(order, wantOrder) {
		t.Fatalf("events %v\nwant %v", order, wantOrder)
	}
	if n := r.count(userdata.EventError); n != 0 {
		t.Errorf("errors: %v", r.life)
	}
}

// Keep-alives are sent on schedule and keep a short-lived key alive.
func TestKeepAliveOnSchedule(t *testing.T) {
	// The key lives 5 intervals without a keep-alive; the test runs for 10.
	const every = 50 * time.Millisecond
	srv := server(t, "usdm", []userapi.Account{hmacAccount()}, userapi.WithValidity(5*every))
	r := newRecorder()
	open(t, srv, "usdm", userdata.NewHMAC(apiKey, secret), r, userdata.WithKeepAlive(every))
	key := srv.ListenKey(apiKey)
	r.waitKind(t, userdata.EventKeepAlive, 10)
	var puts []time.Time
	for _, q := range srv.Requests() {
		if q.Method == http.MethodPut {
			if q.Status != 200 {
				t.Errorf("keep-alive answered %d %d", q.Status, q.Code)
			}
			puts = append(puts, q.Time)
		}
	}
	if len(puts) < 10 {
		t.Fatalf("%d keep-alives", len(puts))
	}
	for i := 1; i < len(puts); i++ {
		if d := puts[i].Sub(puts[i-1]); d < every*3/4 {
			t.Errorf("keep-alive %d came %v after the previous, want about %v", i, d, every)
		}
	}
	if srv.ListenKey(apiKey) != key || r.count(userdata.EventGap) != 0 {
		t.Fatalf("the key was not kept alive: %v", r.life)
	}
	srv.Push(apiKey, userEvent("usdm"))
	r.waitEvents(t, 1)
}

// A keep-alive answered with -1125 (the exchange lost the key) makes the
// stream take a new key, with a gap, and events flow again.
func TestKeepAliveFailureReplacesKey(t *testing.T) {
	srv := server(t, "usdm", []userapi.Account{hmacAccount()})
	r := newRecorder()
	open(t, srv, "usdm", userdata.NewHMAC(apiKey, secret), r, userdata.WithKeepAlive(30*time.Millisecond))
	old := srv.Forget(apiKey)
	r.waitKind(t, userdata.EventGap, 1)
	e := r.waitKind(t, userdata.EventError, 1)
	var ae *userdata.APIError
	if !errors.As(e.Err, &ae) || ae.Code != userdata.CodeListenKeyUnknown || ae.Status != 400 {
		t.Fatalf("error %v", e.Err)
	}
	if key := srv.ListenKey(apiKey); key == "" || key == old {
		t.Fatal("key not replaced")
	}
	for range 10 {
		srv.Push(apiKey, userEvent("usdm"))
	}
	r.waitEvents(t, 10)
}

// A keep-alive that fails for another reason (HTTP 503) does not lose a key
// that is still valid: POST returns the same key, no gap.
func TestTransientKeepAliveFailureKeepsKey(t *testing.T) {
	srv := server(t, "coinm", []userapi.Account{hmacAccount()})
	r := newRecorder()
	open(t, srv, "coinm", userdata.NewHMAC(apiKey, secret), r, userdata.WithKeepAlive(30*time.Millisecond))
	key := srv.ListenKey(apiKey)
	srv.FailNextKeepAlive(503, 0, "")
	r.waitKind(t, userdata.EventError, 1)
	r.waitKind(t, userdata.EventKeepAlive, 2)
	if srv.ListenKey(apiKey) != key || r.count(userdata.EventGap) != 0 || r.count(userdata.EventKeyReplaced) != 0 {
		t.Fatalf("key changed: %v", r.life)
	}
	srv.Push(apiKey, userEvent("coinm"))
	r.waitEvents(t, 1)
}

// A dropped socket is reconnected and resubscribed by the runtime, reported
// as a gap; if the key was lost meanwhile it is replaced.
func TestReconnectAndKeyLostWhileDown(t *testing.T) {
	srv := server(t, "usdm", []userapi.Account{hmacAccount()})
	r := newRecorder()
	open(t, srv, "usdm", userdata.NewHMAC(apiKey, secret), r)

	srv.DropConnections()
	r.waitKind(t, userdata.EventDisconnected, 1)
	r.waitKind(t, userdata.EventReconnected, 1)
	r.waitKind(t, userdata.EventGap, 1)
	r.waitKind(t, userdata.EventKeepAlive, 1) // the key is checked after the reconnect
	srv.Push(apiKey, userEvent("usdm"))
	r.waitEvents(t, 1)

	// Now the key disappears while the socket is down: the resubscription
	// is refused and a new key is taken.
	old := srv.ListenKey(apiKey)
	srv.Forget(apiKey)
	srv.DropConnections()
	r.waitKind(t, userdata.EventKeyReplaced, 1)
	r.waitKind(t, userdata.EventGap, 2)
	if key := srv.ListenKey(apiKey); key == "" || key == old {
		t.Fatal("key not replaced")
	}
	for range 5 {
		srv.Push(apiKey, userEvent("usdm"))
	}
	r.waitEvents(t, 6)
}

// Spot with an HMAC key: one signed userDataStream.subscribe.signature, and
// userDataStream.unsubscribe on Close.
func TestSpotHMACSubscribe(t *testing.T) {
	srv := server(t, "spot", []userapi.Account{hmacAccount()})
	r := newRecorder()
	st := open(t, srv, "spot", userdata.NewHMAC(apiKey, secret), r)
	srv.Push(apiKey, userEvent("spot"))
	got := r.waitEvents(t, 1)
	if _, ok := got[0].(*spot.BalanceUpdateEvent); !ok {
		t.Fatalf("got %T", got[0])
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if m := wsMethods(srv); m != "[userDataStream.subscribe.signature:200 userDataStream.unsubscribe:200]" {
		t.Fatalf("requests %s", m)
	}
}

func wsMethods(srv *userapi.Server) string {
	var out []string
	for _, q := range srv.Requests() {
		if q.API == "WSAPI" {
			out = append(out, fmt.Sprintf("%s:%d", q.Method, q.Status))
		}
	}
	return fmt.Sprint(out)
}

// A wrong secret or a signature the exchange rejects fails Open with the
// exchange's code and message, and no secret in the text.
func TestSpotBadSignature(t *testing.T) {
	srv := server(t, "spot", []userapi.Account{hmacAccount()})
	check := func(err error) {
		t.Helper()
		var ae *userdata.APIError
		if !errors.As(err, &ae) || ae.Code != userdata.CodeBadSignature || ae.Status != 400 || ae.Msg != "Signature for this request is not valid." {
			t.Fatalf("error %v", err)
		}
		want := "userdata: userDataStream.subscribe.signature: status 400: code -1022: Signature for this request is not valid."
		if err.Error() != want {
			t.Errorf("error text %q, want %q", err, want)
		}
	}
	_, err := openErr(srv, "spot", userdata.NewHMAC(apiKey, "wrong-"+secret), newRecorder())
	check(err)

	srv.RejectNextSignature()
	_, err = openErr(srv, "spot", userdata.NewHMAC(apiKey, secret), newRecorder())
	check(err)

	// The next attempt succeeds.
	open(t, srv, "spot", userdata.NewHMAC(apiKey, secret), newRecorder())
}

// An Ed25519 key logs the session on and subscribes without a signature;
// WithSessionLogon(false) uses the signed subscription instead.
func TestSpotEd25519(t *testing.T) {
	srv := server(t, "spot", []userapi.Account{{APIKey: apiKey, PublicKey: edKey.Public()}})
	creds := userdata.NewEd25519(apiKey, edKey)
	r := newRecorder()
	st := open(t, srv, "spot", creds, r)
	srv.PushFixtures(apiKey)
	r.waitEvents(t, len(userapi.PushableFixtures("spot")))
	st.Close()
	if m := wsMethods(srv); m != "[session.logon:200 userDataStream.subscribe:200 userDataStream.unsubscribe:200]" {
		t.Fatalf("requests %s", m)
	}

	srv2 := server(t, "spot", []userapi.Account{{APIKey: apiKey, PublicKey: edKey.Public()}})
	r2 := newRecorder()
	open(t, srv2, "spot", creds, r2, userdata.WithSessionLogon(false))
	srv2.Push(apiKey, userEvent("spot"))
	r2.waitEvents(t, 1)
	if m := wsMethods(srv2); m != "[userDataStream.subscribe.signature:200]" {
		t.Fatalf("requests %s", m)
	}

	if _, err := openErr(srv2, "spot", userdata.NewHMAC(apiKey, secret), newRecorder(), userdata.WithSessionLogon(true)); err == nil {
		t.Fatal("session logon with an HMAC key was accepted")
	}
}

// An RSA key signs userDataStream.subscribe.signature.
func TestSpotRSA(t *testing.T) {
	key := rsaKey(t)
	srv := server(t, "spot", []userapi.Account{{APIKey: apiKey, PublicKey: &key.PublicKey}})
	r := newRecorder()
	open(t, srv, "spot", userdata.NewRSA(apiKey, key), r)
	srv.Push(apiKey, userEvent("spot"))
	r.waitEvents(t, 1)
	if m := wsMethods(srv); m != "[userDataStream.subscribe.signature:200]" {
		t.Fatalf("requests %s", m)
	}
}

// After a dropped WebSocket API connection the stream reconnects, logs on,
// subscribes again and reports the gap; events after it all arrive.
func TestSpotResubscribesAfterDrop(t *testing.T) {
	for _, ed := range []bool{false, true} {
		t.Run(fmt.Sprint("ed25519=", ed), func(t *testing.T) {
			acct, creds := hmacAccount(), userdata.NewHMAC(apiKey, secret)
			if ed {
				acct, creds = userapi.Account{APIKey: apiKey, PublicKey: edKey.Public()}, userdata.NewEd25519(apiKey, edKey)
			}
			srv := server(t, "spot", []userapi.Account{acct})
			r := newRecorder()
			open(t, srv, "spot", creds, r)
			srv.Push(apiKey, userEvent("spot"))
			r.waitEvents(t, 1)
			if srv.DropConnections() != 1 {
				t.Fatal("no connection to drop")
			}
			r.waitKind(t, userdata.EventDisconnected, 1)
			r.waitKind(t, userdata.EventReconnected, 1)
			r.waitKind(t, userdata.EventGap, 1)
			const n = 20
			for range n {
				if srv.Push(apiKey, userEvent("spot")) != 1 {
					t.Fatal("push reached no subscription")
				}
			}
			r.waitEvents(t, 1+n)
			want := "[userDataStream.subscribe.signature:200 userDataStream.subscribe.signature:200]"
			if ed {
				want = "[session.logon:200 userDataStream.subscribe:200 session.logon:200 userDataStream.subscribe:200]"
			}
			if m := wsMethods(srv); m != want {
				t.Fatalf("requests %s", m)
			}
		})
	}
}

// eventStreamTerminated of the stream's subscription is delivered typed,
// then the stream subscribes again on the same connection.
func TestSpotResubscribesAfterTermination(t *testing.T) {
	srv := server(t, "spot", []userapi.Account{hmacAccount()})
	r := newRecorder()
	open(t, srv, "spot", userdata.NewHMAC(apiKey, secret), r)
	if srv.Terminate(apiKey) != 1 {
		t.Fatal("no subscription to terminate")
	}
	got := r.waitEvents(t, 1)
	if _, ok := got[0].(*spot.EventStreamTerminatedEvent); !ok {
		t.Fatalf("got %T", got[0])
	}
	e := r.waitKind(t, userdata.EventReconnected, 1)
	if !errors.Is(e.Err, userdata.ErrStreamTerminated) {
		t.Errorf("reason %v", e.Err)
	}
	r.waitKind(t, userdata.EventGap, 1)
	srv.Push(apiKey, userEvent("spot"))
	r.waitEvents(t, 2)
	if n := len(srv.Streams().Conns()); n != 0 {
		t.Errorf("%d stream connections for spot", n)
	}
	if r.count(userdata.EventDisconnected) != 0 {
		t.Errorf("reconnected instead of resubscribing: %v", r.life)
	}
}

// Open rejects what cannot work before touching the network.
func TestOpenValidates(t *testing.T) {
	r := newRecorder()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cases := []struct {
		name  string
		creds userdata.Credentials
		opts  []userdata.Option
	}{
		{"zero credentials", userdata.Credentials{}, nil},
		{"no API key", userdata.NewHMAC("", secret), nil},
		{"no secret", userdata.NewHMAC(apiKey, ""), nil},
		{"bad REST URL", userdata.NewHMAC(apiKey, secret), []userdata.Option{userdata.WithRESTURL("ftp://x")}},
		{"bad stream URL", userdata.NewHMAC(apiKey, secret), []userdata.Option{userdata.WithStreamURL("http://x")}},
		{"bad keep-alive", userdata.NewHMAC(apiKey, secret), []userdata.Option{userdata.WithKeepAlive(0)}},
		{"recvWindow too long", userdata.NewHMAC(apiKey, secret), []userdata.Option{userdata.WithRecvWindow(2 * time.Minute)}},
		{"unknown endpoint", userdata.NewHMAC(apiKey, secret), []userdata.Option{userdata.WithEndpoint("nowhere")}},
	}
	for _, c := range cases {
		_, err := userdata.Open(ctx, &usdm.Market, c.creds, r.handle, c.opts...)
		if err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
