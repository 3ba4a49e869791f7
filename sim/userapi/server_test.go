package userapi_test

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/marketwire/marketwire/sim"
	"github.com/marketwire/marketwire/sim/userapi"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	apiKey = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
	secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
)

var edKey = ed25519.NewKeyFromSeed([]byte("marketwire userapi test seed  32"))

func start(t *testing.T, market string, opts ...userapi.Option) *userapi.Server {
	t.Helper()
	srv, err := userapi.New(market, []userapi.Account{
		{APIKey: apiKey, Secret: secret},
		{APIKey: "ed" + apiKey, PublicKey: edKey.Public()},
	}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func call(t *testing.T, srv *userapi.Server, method, path, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL()+path, nil)
	if key != "" {
		req.Header.Set("X-MBX-APIKEY", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func TestListenKeyREST(t *testing.T) {
	srv := start(t, "usdm")
	const p = "/fapi/v1/listenKey"
	if st, body := call(t, srv, "POST", p, ""); st != 401 || body != `{"code":-2014,"msg":"API-key format invalid."}` {
		t.Errorf("no key: %d %s", st, body)
	}
	if st, body := call(t, srv, "POST", p, "nope"); st != 401 || !strings.Contains(body, `-2015`) {
		t.Errorf("bad key: %d %s", st, body)
	}
	if st, body := call(t, srv, "PUT", p, apiKey); st != 400 || body != `{"code":-1125,"msg":"This listenKey does not exist."}` {
		t.Errorf("PUT without a key: %d %s", st, body)
	}
	st, body := call(t, srv, "POST", p, apiKey)
	var ans struct{ ListenKey string }
	if json.Unmarshal([]byte(body), &ans); st != 200 || len(ans.ListenKey) != 64 || srv.ListenKey(apiKey) != ans.ListenKey {
		t.Fatalf("POST: %d %s", st, body)
	}
	if _, again := call(t, srv, "POST", p, apiKey); again != body {
		t.Errorf("second POST gave %s, want the same key", again)
	}
	if st, got := call(t, srv, "PUT", p, apiKey); st != 200 || got != body {
		t.Errorf("PUT: %d %s", st, got)
	}
	srv.FailNextKeepAlive(503, -1001, "Internal error")
	if st, got := call(t, srv, "PUT", p, apiKey); st != 503 || !strings.Contains(got, "-1001") {
		t.Errorf("failed PUT: %d %s", st, got)
	}
	if st, _ := call(t, srv, "DELETE", p, apiKey); st != 200 || srv.ListenKey(apiKey) != "" {
		t.Errorf("DELETE: %d", st)
	}
	if n := len(srv.Requests()); n != 8 {
		t.Errorf("%d requests recorded", n)
	}
}

func TestOptionsAnswers(t *testing.T) {
	srv := start(t, "options")
	_, body := call(t, srv, "POST", "/eapi/v1/listenKey", apiKey)
	if !strings.Contains(body, `"expiration"`) {
		t.Errorf("POST %s", body)
	}
	if _, body := call(t, srv, "PUT", "/eapi/v1/listenKey", apiKey); body != `{}` {
		t.Errorf("PUT %s", body)
	}
}

// A key not kept alive expires by itself, with listenKeyExpired pushed on
// its stream.
func TestValidityExpires(t *testing.T) {
	// A listen-key stream is published by hand (sim.WithManual): the stream
	// server reports no source failing to open it.
	var notes atomic.Int32
	srv := start(t, "usdm", userapi.WithValidity(50*time.Millisecond),
		userapi.WithStreamOptions(sim.WithLogf(func(string, ...any) { notes.Add(1) })))
	defer func() {
		if n := notes.Load(); n != 0 {
			t.Errorf("%d notices from the stream server", n)
		}
	}()
	_, body := call(t, srv, "POST", "/fapi/v1/listenKey", apiKey)
	var ans struct{ ListenKey string }
	json.Unmarshal([]byte(body), &ans)
	ws, _, err := websocket.DefaultDialer.Dial(srv.StreamURL()+"/private/stream?streams="+ans.ListenKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, frame, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"stream":"` + ans.ListenKey + `","data":{"e":"listenKeyExpired"`
	if !strings.HasPrefix(string(frame), want) {
		t.Fatalf("frame %s", frame)
	}
	if srv.ListenKey(apiKey) != "" {
		t.Error("key still valid")
	}
	// An expired key cannot be subscribed.
	if _, resp, err := websocket.DefaultDialer.Dial(srv.StreamURL()+"/private/stream?streams="+ans.ListenKey, nil); err == nil || resp.StatusCode != 400 {
		t.Errorf("subscribing an expired key: %v", err)
	}
}

type wsClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialAPI(t *testing.T, srv *userapi.Server) *wsClient {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(srv.WSAPIURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return &wsClient{t, ws}
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	if err := c.ws.WriteJSON(v); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsClient) read() string {
	c.t.Helper()
	c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := c.ws.ReadMessage()
	if err != nil {
		c.t.Fatal(err)
	}
	return string(b)
}

func hmacSign(payload string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(payload))
	return hex.EncodeToString(m.Sum(nil))
}

func TestWSAPISignatures(t *testing.T) {
	srv := start(t, "spot", userapi.WithPing(0))
	c := dialAPI(t, srv)
	ts := time.Now().UnixMilli()
	payload := fmt.Sprintf("apiKey=%s&timestamp=%d", apiKey, ts)
	sub := func(id, key string, ts int64, sig string) {
		c.send(map[string]any{"id": id, "method": "userDataStream.subscribe.signature",
			"params": map[string]any{"apiKey": key, "timestamp": ts, "signature": sig}})
	}
	sub("bad", apiKey, ts, hmacSign(payload+"x"))
	if got := c.read(); got != `{"id":"bad","status":400,"error":{"code":-1022,"msg":"Signature for this request is not valid."}}` {
		t.Errorf("bad signature: %s", got)
	}
	sub("old", apiKey, ts-10_000, hmacSign(fmt.Sprintf("apiKey=%s&timestamp=%d", apiKey, ts-10_000)))
	if got := c.read(); !strings.Contains(got, `-1021`) {
		t.Errorf("old timestamp: %s", got)
	}
	sub("who", "unknown-key", ts, "00")
	if got := c.read(); !strings.Contains(got, `"status":401`) || !strings.Contains(got, `-2015`) {
		t.Errorf("unknown key: %s", got)
	}
	srv.RejectNextSignature()
	sub("rej", apiKey, ts, hmacSign(payload))
	if got := c.read(); !strings.Contains(got, `-1022`) {
		t.Errorf("rejected: %s", got)
	}
	sub("ok", apiKey, ts, strings.ToUpper(hmacSign(payload)))
	if got := c.read(); got != `{"id":"ok","status":200,"result":{"subscriptionId":0}}` {
		t.Fatalf("subscribe: %s", got)
	}
	if srv.Push(apiKey, []byte(`{"e":"balanceUpdate","E":1}`)) != 1 {
		t.Fatal("push reached nobody")
	}
	if got := c.read(); got != `{"subscriptionId":0,"event":{"e":"balanceUpdate","E":1}}` {
		t.Errorf("event: %s", got)
	}
	c.send(map[string]any{"id": 7, "method": "userDataStream.unsubscribe"})
	if got := c.read(); got != `{"id":7,"status":200,"result":{}}` {
		t.Errorf("unsubscribe: %s", got)
	}
	if got := c.read(); !strings.HasPrefix(got, `{"subscriptionId":0,"event":{"e":"eventStreamTerminated"`) {
		t.Errorf("after unsubscribe: %s", got)
	}
}

func TestWSAPILogon(t *testing.T) {
	srv := start(t, "spot", userapi.WithPing(0))
	c := dialAPI(t, srv)
	c.send(map[string]any{"id": "s", "method": "userDataStream.subscribe"})
	if got := c.read(); !strings.Contains(got, `-1002`) {
		t.Errorf("subscribe before logon: %s", got)
	}
	ts := time.Now().UnixMilli()
	// HMAC keys cannot log on.
	c.send(map[string]any{"id": "h", "method": "session.logon", "params": map[string]any{
		"apiKey": apiKey, "timestamp": ts, "signature": hmacSign(fmt.Sprintf("apiKey=%s&timestamp=%d", apiKey, ts))}})
	if got := c.read(); !strings.Contains(got, `"status":400`) || !strings.Contains(got, "HMAC_SHA256 API key is not supported.") {
		t.Errorf("HMAC logon: %s", got)
	}
	key := "ed" + apiKey
	payload := fmt.Sprintf("apiKey=%s&timestamp=%d", key, ts)
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(edKey, []byte(payload)))
	c.send(map[string]any{"id": "l", "method": "session.logon", "params": map[string]any{"apiKey": key, "timestamp": ts, "signature": sig}})
	if got := c.read(); !strings.Contains(got, `"status":200`) || !strings.Contains(got, `"apiKey":"`+key+`"`) {
		t.Fatalf("logon: %s", got)
	}
	c.send(map[string]any{"id": "s", "method": "userDataStream.subscribe"})
	if got := c.read(); got != `{"id":"s","status":200,"result":{"subscriptionId":0}}` {
		t.Fatalf("subscribe: %s", got)
	}
	if srv.Terminate(key) != 1 {
		t.Fatal("nothing terminated")
	}
	if got := c.read(); !strings.HasPrefix(got, `{"subscriptionId":0,"event":{"e":"eventStreamTerminated"`) {
		t.Errorf("terminate: %s", got)
	}
	if srv.Push(key, []byte(`{"e":"x"}`)) != 0 {
		t.Error("terminated subscription still receives")
	}
}

func TestPushableFixtures(t *testing.T) {
	for _, m := range []string{"spot", "usdm", "coinm", "options"} {
		fs := userapi.PushableFixtures(m)
		if len(fs) < 8 {
			t.Errorf("%s: %d fixtures", m, len(fs))
		}
		for _, f := range fs {
			if f.Name == "event_stream_terminated" {
				t.Errorf("%s: terminated fixture is pushable", m)
			}
		}
	}
}
