package userapi

import (
	"encoding/json"
	"net/http"
	"time"
)

// serveListenKey answers POST (create, or return and extend the account's
// valid key), PUT (extend) and DELETE (close) on the listen-key path. The
// account is the one of the X-MBX-APIKEY header; no request names the key.
func (s *Server) serveListenKey(w http.ResponseWriter, r *http.Request) {
	status, v := s.listenKeyAnswer(r)
	rec := Request{API: "REST", Method: r.Method, Path: r.URL.Path, Status: status}
	if e, ok := v.(*apiError); ok {
		rec.Code = e.Code
	}
	s.record(rec)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// listenKeyAnswer does what a listen-key request asks and returns the
// answer. It holds expiring, so that it never shows a key gone (or a new
// key) before the listenKeyExpired of an expiry under way was queued.
func (s *Server) listenKeyAnswer(r *http.Request) (int, any) {
	apiKey := r.Header.Get("X-MBX-APIKEY")
	if apiKey == "" {
		return errNoAPIKey.Status, errNoAPIKey
	}
	s.expiring.Lock()
	defer s.expiring.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[apiKey]
	if a == nil {
		return errBadAPIKey.Status, errBadAPIKey
	}
	options := s.name == "options"
	switch r.Method {
	case http.MethodPost:
		if a.key == "" {
			a.key = newListenKey()
			s.keys[a.key] = a
			s.issued[a.key] = true
		}
		key := s.extendLocked(a)
		if options {
			return http.StatusOK, map[string]any{"listenKey": key, "expiration": time.Now().Add(s.validity).UnixMilli()}
		}
		return http.StatusOK, map[string]any{"listenKey": key}
	case http.MethodPut:
		if f := s.failNext; f != nil {
			s.failNext = nil
			return f.Status, f
		}
		if a.key == "" {
			return errNoKey.Status, errNoKey
		}
		key := s.extendLocked(a)
		if options {
			return http.StatusOK, map[string]any{}
		}
		return http.StatusOK, map[string]any{"listenKey": key}
	case http.MethodDelete:
		if a.key != "" {
			delete(s.keys, a.key)
			a.key = ""
			if a.timer != nil {
				a.timer.Stop()
				a.timer = nil
			}
		}
		return http.StatusOK, map[string]any{}
	}
	return http.StatusMethodNotAllowed, &apiError{http.StatusMethodNotAllowed, -1000, "Method not allowed."}
}

// extendLocked restarts the validity of a's key and returns it. Called with
// s.mu held.
func (s *Server) extendLocked(a *account) string {
	key := a.key
	if a.timer != nil {
		a.timer.Stop()
	}
	if !s.closed {
		a.timer = time.AfterFunc(s.validity, func() {
			s.mu.Lock()
			if s.closed {
				s.mu.Unlock()
				return
			}
			s.wg.Add(1) // Close waits for an expiry in progress
			s.mu.Unlock()
			defer s.wg.Done()
			s.expire(a, key, true)
		})
	}
	return key
}
