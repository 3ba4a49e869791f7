package userapi

import (
	"crypto"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/marketwire/marketwire/wire"
)

// session is one WebSocket API connection.
type session struct {
	s         *Server
	ws        *websocket.Conn
	wmu       sync.Mutex
	connected time.Time
	closed    chan struct{}
	closeOnce sync.Once

	// Guarded by s.mu.
	logon   *account
	subs    map[int64]*subscription
	nextSub int64
}

type subscription struct {
	a     *account
	logon bool // made with userDataStream.subscribe on a logged-on session
}

func (s *Server) serveWSAPI(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	ss := &session{s: s, ws: ws, connected: time.Now(), closed: make(chan struct{}), subs: map[int64]*subscription{}}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.Close()
		return
	}
	s.sessions[ss] = true
	s.wg.Add(1)
	if s.pingEvery > 0 {
		s.wg.Add(1)
		go ss.pingLoop()
	}
	s.mu.Unlock()
	go ss.readLoop()
}

func (ss *session) readLoop() {
	s := ss.s
	defer s.wg.Done()
	defer func() {
		ss.drop()
		s.mu.Lock()
		delete(s.sessions, ss)
		s.mu.Unlock()
	}()
	ss.ws.SetReadLimit(1 << 20)
	for {
		_, b, err := ss.ws.ReadMessage()
		if err != nil {
			return
		}
		reply, after := ss.handle(b)
		if !ss.write(reply) {
			return
		}
		for _, f := range after {
			if !ss.write(f) {
				return
			}
		}
	}
}

func (ss *session) pingLoop() {
	defer ss.s.wg.Done()
	t := time.NewTicker(ss.s.pingEvery)
	defer t.Stop()
	for {
		select {
		case <-ss.closed:
			return
		case now := <-t.C:
			if ss.ws.WriteControl(websocket.PingMessage, []byte(itoa(now.UnixMilli())), now.Add(5*time.Second)) != nil {
				ss.drop()
				return
			}
		}
	}
}

// write sends one frame; a failed write drops the session.
func (ss *session) write(frame []byte) bool {
	ss.wmu.Lock()
	defer ss.wmu.Unlock()
	select {
	case <-ss.closed:
		return false
	default:
	}
	_ = ss.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := ss.ws.WriteMessage(websocket.TextMessage, frame); err != nil {
		go ss.drop()
		return false
	}
	return true
}

// close ends the session with a close frame.
func (ss *session) close() {
	ss.closeOnce.Do(func() {
		msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "server closed")
		_ = ss.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		close(ss.closed)
		ss.ws.Close()
	})
}

// drop ends the session abruptly.
func (ss *session) drop() {
	ss.closeOnce.Do(func() {
		close(ss.closed)
		ss.ws.Close()
	})
}

type wsRequest struct {
	ID     json.RawMessage            `json:"id"`
	Method string                     `json:"method"`
	Params map[string]json.RawMessage `json:"params"`
}

// handle answers one request; after are frames to send after the answer.
func (ss *session) handle(b []byte) (reply []byte, after [][]byte) {
	s := ss.s
	var req wsRequest
	if err := json.Unmarshal(b, &req); err != nil {
		return response(nil, nil, &apiError{400, -1000, "Malformed request: " + err.Error()}), nil
	}
	if len(req.ID) == 0 {
		req.ID = json.RawMessage("null")
	}
	rec := Request{API: "WSAPI", Method: req.Method, Status: 200}
	if raw, has := req.Params["signature"]; has {
		_ = json.Unmarshal(raw, &rec.Signature)
	}
	fail := func(e *apiError) ([]byte, [][]byte) {
		rec.Status, rec.Code = e.Status, e.Code
		s.record(rec)
		return response(req.ID, nil, e), nil
	}
	ok := func(result any, after [][]byte) ([]byte, [][]byte) {
		s.record(rec)
		return response(req.ID, result, nil), after
	}
	switch req.Method {
	case "ping":
		return ok(struct{}{}, nil)
	case "time":
		return ok(map[string]int64{"serverTime": time.Now().UnixMilli()}, nil)
	case "session.logon":
		a, e := s.verify(req.Params)
		if e != nil {
			return fail(e)
		}
		if _, ed := a.PublicKey.(ed25519.PublicKey); !ed {
			return fail(&apiError{400, -4056, keyKind(a) + " API key is not supported."})
		}
		s.mu.Lock()
		ss.logon = a
		s.mu.Unlock()
		return ok(ss.status(), nil)
	case "session.status":
		return ok(ss.status(), nil)
	case "session.logout":
		s.mu.Lock()
		ss.logon = nil
		var ended []int64
		for id, sub := range ss.subs {
			if sub.logon {
				delete(ss.subs, id)
				ended = append(ended, id)
			}
		}
		s.mu.Unlock()
		return ok(ss.status(), terminated(ended))
	case "userDataStream.subscribe":
		s.mu.Lock()
		a := ss.logon
		s.mu.Unlock()
		if a == nil {
			return fail(errNotLoggedOn)
		}
		return ok(map[string]int64{"subscriptionId": ss.subscribe(a, true)}, nil)
	case "userDataStream.subscribe.signature":
		a, e := s.verify(req.Params)
		if e != nil {
			return fail(e)
		}
		return ok(map[string]int64{"subscriptionId": ss.subscribe(a, false)}, nil)
	case "userDataStream.unsubscribe":
		var ended []int64
		s.mu.Lock()
		if raw, has := req.Params["subscriptionId"]; has {
			id, err := strconv.ParseInt(string(raw), 10, 64)
			if err != nil || ss.subs[id] == nil {
				s.mu.Unlock()
				return fail(&apiError{400, -1102, "Parameter 'subscriptionId' is not a subscription of this session."})
			}
			delete(ss.subs, id)
			ended = append(ended, id)
		} else {
			for id := range ss.subs {
				delete(ss.subs, id)
				ended = append(ended, id)
			}
		}
		s.mu.Unlock()
		return ok(struct{}{}, terminated(ended))
	case "session.subscriptions":
		s.mu.Lock()
		list := []map[string]int64{}
		for id := range ss.subs {
			list = append(list, map[string]int64{"subscriptionId": id})
		}
		s.mu.Unlock()
		sort.Slice(list, func(i, j int) bool { return list[i]["subscriptionId"] < list[j]["subscriptionId"] })
		return ok(list, nil)
	}
	return fail(&apiError{400, -1000, fmt.Sprintf("Unknown method %q.", req.Method)})
}

func (ss *session) subscribe(a *account, logon bool) int64 {
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	id := ss.nextSub
	ss.nextSub++
	ss.subs[id] = &subscription{a: a, logon: logon}
	return id
}

func (ss *session) status() map[string]any {
	s := ss.s
	s.mu.Lock()
	defer s.mu.Unlock()
	st := map[string]any{
		"apiKey":           nil,
		"authorizedSince":  nil,
		"connectedSince":   ss.connected.UnixMilli(),
		"returnRateLimits": false,
		"serverTime":       time.Now().UnixMilli(),
		"userDataStream":   len(ss.subs) > 0,
	}
	if ss.logon != nil {
		st["apiKey"] = ss.logon.APIKey
		st["authorizedSince"] = time.Now().UnixMilli()
	}
	return st
}

// terminated returns the eventStreamTerminated frames of the ended ids.
func terminated(ids []int64) [][]byte {
	var out [][]byte
	for _, id := range ids {
		out = append(out, wrapEvent(id, terminatedEvent()))
	}
	return out
}

func terminatedEvent() []byte {
	return fmt.Appendf(nil, `{"e":"eventStreamTerminated","E":%d}`, time.Now().UnixMilli())
}

func wrapEvent(id int64, payload []byte) []byte {
	return fmt.Appendf(nil, `{"subscriptionId":%d,"event":%s}`, id, payload)
}

func response(id json.RawMessage, result any, e *apiError) []byte {
	if id == nil {
		id = json.RawMessage("null")
	}
	var v any
	if e != nil {
		v = struct {
			ID     json.RawMessage `json:"id"`
			Status int             `json:"status"`
			Error  *apiError       `json:"error"`
		}{id, e.Status, e}
	} else {
		v = struct {
			ID     json.RawMessage `json:"id"`
			Status int             `json:"status"`
			Result any             `json:"result"`
		}{id, 200, result}
	}
	b, _ := json.Marshal(v)
	return b
}

func keyKind(a *account) string {
	switch a.PublicKey.(type) {
	case *rsa.PublicKey:
		return "RSA"
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return "HMAC_SHA256"
}

// verify checks a signed request's apiKey, timestamp (within recvWindow,
// default 5000 ms, at most 60000) and signature over the sorted params.
func (s *Server) verify(params map[string]json.RawMessage) (*account, *apiError) {
	text := map[string]string{}
	for k, raw := range params {
		v := strings.TrimSpace(string(raw))
		if strings.HasPrefix(v, `"`) {
			var str string
			if json.Unmarshal(raw, &str) != nil {
				return nil, &apiError{400, -1100, fmt.Sprintf("Illegal characters found in parameter '%s'.", k)}
			}
			v = str
		}
		text[k] = v
	}
	for _, k := range []string{"apiKey", "timestamp", "signature"} {
		if text[k] == "" {
			return nil, &apiError{400, -1102, fmt.Sprintf("Mandatory parameter '%s' was not sent, was empty/null, or malformed.", k)}
		}
	}
	s.mu.Lock()
	a := s.accounts[text["apiKey"]]
	reject := s.rejectSigs > 0
	if reject && a != nil {
		s.rejectSigs--
	}
	s.mu.Unlock()
	if a == nil {
		return nil, errBadAPIKey
	}
	ts, err := strconv.ParseInt(text["timestamp"], 10, 64)
	if err != nil {
		return nil, &apiError{400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."}
	}
	window := 5000.0
	if w, has := text["recvWindow"]; has {
		window, err = strconv.ParseFloat(w, 64)
		if err != nil || window <= 0 || window > 60000 || math.IsNaN(window) {
			return nil, &apiError{400, -1131, "recvWindow must be less than 60000"}
		}
	}
	now := time.Now().UnixMilli()
	if !(ts < now+1000 && float64(now-ts) <= window) {
		return nil, errTimestamp
	}
	if reject || !checkSignature(a, text) {
		return nil, errBadSig
	}
	return a, nil
}

func checkSignature(a *account, params map[string]string) bool {
	names := make([]string, 0, len(params))
	for k := range params {
		if k != "signature" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = k + "=" + params[k]
	}
	payload := []byte(strings.Join(parts, "&"))
	sig := params["signature"]
	switch pub := a.PublicKey.(type) {
	case nil:
		got, err := hex.DecodeString(strings.ToLower(sig))
		if err != nil {
			return false
		}
		m := hmac.New(sha256.New, []byte(a.Secret))
		m.Write(payload)
		return hmac.Equal(got, m.Sum(nil))
	case ed25519.PublicKey:
		got, err := base64.StdEncoding.DecodeString(sig)
		return err == nil && ed25519.Verify(pub, payload, got)
	case *rsa.PublicKey:
		got, err := base64.StdEncoding.DecodeString(sig)
		if err != nil {
			return false
		}
		sum := sha256.Sum256(payload)
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], got) == nil
	}
	return false
}

// pushAPI sends payload to every WebSocket API subscription of the account.
// An eventStreamTerminated payload also ends those subscriptions.
func (s *Server) pushAPI(apiKey string, payload []byte) int {
	kind, _, _ := wire.LookupString(payload, "e")
	end := kind == "eventStreamTerminated"
	type target struct {
		ss *session
		id int64
	}
	var targets []target
	s.mu.Lock()
	for ss := range s.sessions {
		for id, sub := range ss.subs {
			if sub.a.APIKey == apiKey {
				targets = append(targets, target{ss, id})
				if end {
					delete(ss.subs, id)
				}
			}
		}
	}
	s.mu.Unlock()
	n := 0
	for _, t := range targets {
		if t.ss.write(wrapEvent(t.id, payload)) {
			n++
		}
	}
	return n
}

// Terminate ends every WebSocket API subscription of the account with
// eventStreamTerminated, as the exchange does when a subscription ends on
// its side, and returns how many there were.
func (s *Server) Terminate(apiKey string) int {
	return s.pushAPI(apiKey, terminatedEvent())
}
