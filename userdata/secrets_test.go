package userdata_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marketwire/marketwire/sim/userapi"
	"github.com/marketwire/marketwire/userdata"
)

// transcript collects every text a user of the package could print or log.
type transcript struct {
	mu    sync.Mutex
	texts []string
	logs  bytes.Buffer // slog text and JSON handlers write here
}

func (tr *transcript) add(format string, args ...any) {
	tr.mu.Lock()
	tr.texts = append(tr.texts, fmt.Sprintf(format, args...))
	tr.mu.Unlock()
}

func (tr *transcript) Write(p []byte) (int, error) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.logs.Write(p)
}

// onEvent prints each lifecycle event every way fmt can.
func (tr *transcript) onEvent(e userdata.Event) {
	tr.add("%v | %+v | %#v | %s", e, e, e, e)
	if e.Err != nil {
		tr.add("%v | %+v | %#v | %q", e.Err, e.Err, e.Err, e.Err)
	}
}

func (tr *transcript) options() []userdata.Option {
	return []userdata.Option{
		userdata.OnEvent(tr.onEvent),
		userdata.WithLogger(slog.New(slog.NewTextHandler(tr, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		userdata.WithLogger(slog.New(slog.NewJSONHandler(tr, nil))),
	}
}

// check fails if any text holds a secret, or 12 consecutive characters of
// a listen key or signature (a truncated frame would show only part of it).
func (tr *transcript) check(t *testing.T, whole []string, partial []string) {
	t.Helper()
	tr.mu.Lock()
	all := append(append([]string(nil), tr.texts...), tr.logs.String())
	tr.mu.Unlock()
	joined := strings.Join(all, "\n")
	if len(joined) < 500 {
		t.Fatalf("transcript too short to mean anything: %q", joined)
	}
	for _, s := range whole {
		if s != "" && strings.Contains(joined, s) {
			t.Errorf("secret %s… found in:\n%s", s[:4], excerpt(joined, s))
		}
	}
	for _, s := range partial {
		for i := 0; i+12 <= len(s); i++ {
			if sub := s[i : i+12]; strings.Contains(joined, sub) {
				t.Errorf("part of a secret (%s…) found in:\n%s", s[:4], excerpt(joined, sub))
				break
			}
		}
	}
}

func excerpt(s, sub string) string {
	i := strings.Index(s, sub)
	return s[max(0, i-200):min(len(s), i+len(sub)+50)]
}

// printCreds prints credentials in every way a program might.
func (tr *transcript) printCreds(c userdata.Credentials) {
	tr.add("%v %+v %#v %s %q %x %X %d %T", c, c, c, c, c, c, c, c, c)
	type config struct {
		Name  string
		Creds userdata.Credentials
		creds userdata.Credentials
		Ptr   *userdata.Credentials
	}
	cfg := config{"x", c, c, &c}
	tr.add("%v %+v %#v", cfg, cfg, cfg)
	b, err := json.Marshal(cfg)
	tr.add("%s %v", b, err)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("creds", "creds", c, "cfg", cfg)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("creds", "creds", c, "cfg", cfg)
	tr.add("%s", logs.String())
}

// A full run on a listen-key market: key expiry, a lost key, a reconnect,
// undeliverable frames that quote the key, and Close. No secret appears in
// any lifecycle event, error, log line or printed credentials.
func TestNoSecretsListenKey(t *testing.T) {
	tr := &transcript{}
	srv := server(t, "usdm", []userapi.Account{hmacAccount()})
	r := newRecorder()
	creds := userdata.NewHMAC(apiKey, secret)
	tr.printCreds(creds)
	st := open(t, srv, "usdm", creds, r, append(tr.options(), userdata.WithKeepAlive(40*time.Millisecond))...)
	tr.add("%v %+v %s", st, st, st)

	srv.Push(apiKey, userEvent("usdm"))
	r.waitEvents(t, 1)
	old := srv.Expire(apiKey)
	r.waitKind(t, userdata.EventGap, 1)
	srv.Forget(apiKey)
	r.waitKind(t, userdata.EventGap, 2)
	srv.DropConnections()
	r.waitKind(t, userdata.EventGap, 3)
	// The new key's subscription is refused once: that error quotes the
	// stream name, the key, in the runtime's text.
	srv.Streams().RejectNextSubscribe(2, "Invalid request: refused")
	srv.Expire(apiKey)
	r.waitKind(t, userdata.EventGap, 4)

	// Frames the runtime cannot deliver quote the key in their own errors.
	key := srv.ListenKey(apiKey)
	errs := r.count(userdata.EventError)
	srv.Streams().SendRaw([]byte(`{"stream":"` + key + `","data":{"e":"ORDER_TRADE_UPDATE","E":"not a number"}}`))
	srv.Streams().SendRaw([]byte(`{"stream":"` + old + `","data":{"e":"ORDER_TRADE_UPDATE","E":1}}`))
	srv.Streams().SendRaw([]byte(`{"stream":"` + key + `","data":{"e":"ORDER_TRADE_UPDATE","E":17`))
	r.waitKind(t, userdata.EventError, errs+3)
	srv.Push(apiKey, userEvent("usdm"))
	r.waitEvents(t, 4) // the first, two listenKeyExpired, and this one
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	tr.add("%v", st.Close())

	keys := srv.ListenKeys()
	if len(keys) != 4 {
		t.Fatalf("%d listen keys issued, want 4", len(keys))
	}
	tr.check(t, append([]string{apiKey, secret}, keys...), keys)
}

// A full run on spot over the WebSocket API: a rejected signature at Open
// and on a reconnect, a terminated subscription, and Close.
func TestNoSecretsWSAPI(t *testing.T) {
	tr := &transcript{}
	ed := userdata.NewEd25519(apiKey, edKey)
	tr.printCreds(ed)
	srv := server(t, "spot", []userapi.Account{hmacAccount()})
	r := newRecorder()
	creds := userdata.NewHMAC(apiKey, secret)
	tr.printCreds(creds)

	_, err := openErr(srv, "spot", userdata.NewHMAC(apiKey, "x"+secret), newRecorder(), tr.options()...)
	if err == nil {
		t.Fatal("wrong secret accepted")
	}
	tr.add("%v | %+v | %#v | %q", err, err, err, err)

	st := open(t, srv, "spot", creds, r, tr.options()...)
	tr.add("%v %+v %s", st, st, st)
	srv.Push(apiKey, userEvent("spot"))
	r.waitEvents(t, 1)

	srv.RejectNextSignature()
	srv.DropConnections()
	r.waitKind(t, userdata.EventError, 1) // the rejected resubscription
	r.waitKind(t, userdata.EventGap, 1)
	srv.Terminate(apiKey)
	r.waitKind(t, userdata.EventGap, 2)
	srv.Push(apiKey, userEvent("spot"))
	r.waitEvents(t, 3)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	var sigs []string
	for _, q := range srv.Requests() {
		if q.Signature != "" {
			sigs = append(sigs, q.Signature)
		}
	}
	if len(sigs) < 4 {
		t.Fatalf("%d signatures seen", len(sigs))
	}
	tr.check(t, append([]string{apiKey, secret, "x" + secret}, sigs...), sigs)
}
