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
	rec := Request{API: "REST", Method: r.Method, Path: r.URL.Path}
	answer := func(status int, v any) {
		rec.Status = status
		if e, ok := v.(*apiError); ok {
			rec.Code = e.Code
		}
		s.record(rec)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	apiKey := r.Header.Get("X-MBX-APIKEY")
	if apiKey == "" {
		answer(errNoAPIKey.Status, errNoAPIKey)
		return
	}
	s.mu.Lock()
	a := s.accounts[apiKey]
	if a == nil {
		s.mu.Unlock()
		answer(errBadAPIKey.Status, errBadAPIKey)
		return
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
		s.mu.Unlock()
		if options {
			answer(http.StatusOK, map[string]any{"listenKey": key, "expiration": time.Now().Add(s.validity).UnixMilli()})
		} else {
			answer(http.StatusOK, map[string]any{"listenKey": key})
		}
	case http.MethodPut:
		if f := s.failNext; f != nil {
			s.failNext = nil
			s.mu.Unlock()
			answer(f.Status, f)
			return
		}
		if a.key == "" {
			s.mu.Unlock()
			answer(errNoKey.Status, errNoKey)
			return
		}
		key := s.extendLocked(a)
		s.mu.Unlock()
		if options {
			answer(http.StatusOK, map[string]any{})
		} else {
			answer(http.StatusOK, map[string]any{"listenKey": key})
		}
	case http.MethodDelete:
		if a.key != "" {
			delete(s.keys, a.key)
			a.key = ""
			if a.timer != nil {
				a.timer.Stop()
				a.timer = nil
			}
		}
		s.mu.Unlock()
		answer(http.StatusOK, map[string]any{})
	default:
		s.mu.Unlock()
		answer(http.StatusMethodNotAllowed, &apiError{http.StatusMethodNotAllowed, -1000, "Method not allowed."})
	}
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
