package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

type wireError struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}

const methodsList = "`SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`"

// errFrame is an error reply without an id, as the exchange sends when it
// cannot read the request.
func errFrame(code int, msg string) []byte {
	b, _ := json.Marshal(wireError{Code: code, Msg: msg})
	return b
}

// errReply is an error reply to the request with id.
func errReply(id uint64, code int, msg string) []byte {
	b, _ := json.Marshal(struct {
		Error wireError `json:"error"`
		ID    uint64    `json:"id"`
	}{wireError{code, msg}, id})
	return b
}

func result(id uint64, v any) []byte {
	b, _ := json.Marshal(struct {
		Result any    `json:"result"`
		ID     uint64 `json:"id"`
	}{v, id})
	return b
}

// lineCol turns a byte offset into the 1-based line and column serde reports.
func lineCol(b []byte, off int64) (int, int) {
	off = min(max(off, 0), int64(len(b)))
	line := 1 + bytes.Count(b[:off], []byte("\n"))
	col := int(off) - bytes.LastIndexByte(b[:off], '\n')
	return line, col - 1
}

// handle answers one control request.
func (c *conn) handle(b []byte) []byte {
	var req map[string]json.RawMessage
	if err := json.Unmarshal(b, &req); err != nil {
		var off int64
		if se, ok := err.(*json.SyntaxError); ok {
			off = se.Offset
		}
		line, col := lineCol(b, off)
		return errFrame(3, fmt.Sprintf("Invalid JSON: expected value at line %d column %d", line, col))
	}
	rawMethod, ok := req["method"]
	if !ok {
		line, col := lineCol(b, int64(len(b)))
		return errFrame(2, fmt.Sprintf("Invalid request: missing field `method` at line %d column %d", line, col))
	}
	var method string
	if json.Unmarshal(rawMethod, &method) != nil {
		return errFrame(2, "Invalid request: method must be a string")
	}
	switch method {
	case "SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY":
	default:
		end := bytes.Index(b, rawMethod) + len(rawMethod)
		line, col := lineCol(b, int64(end))
		return errFrame(2, fmt.Sprintf("Invalid request: unknown variant `%s`, expected one of %s at line %d column %d", method, methodsList, line, col))
	}
	var id uint64
	rawID, ok := req["id"]
	if !ok || json.Unmarshal(rawID, &id) != nil || bytes.ContainsAny(rawID, ".eE-") {
		return errFrame(2, "Invalid request: request ID must be an unsigned integer")
	}
	var params []json.RawMessage
	if p, ok := req["params"]; ok && string(p) != "null" {
		if json.Unmarshal(p, &params) != nil {
			return errReply(id, 2, "Invalid request: params must be an array")
		}
	}
	s := c.srv
	switch method {
	case "SUBSCRIBE", "UNSUBSCRIBE":
		names := make([]string, len(params))
		for i, p := range params {
			if json.Unmarshal(p, &names[i]) != nil || (method == "SUBSCRIBE" && !s.valid(names[i])) {
				return errReply(id, 2, "Invalid request: invalid stream")
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if method == "UNSUBSCRIBE" {
			for _, n := range names {
				s.unsubscribeLocked(c, n)
			}
			return result(id, nil)
		}
		if r := s.rejectNext; r != nil {
			s.rejectNext = nil
			return errReply(id, r.Code, r.Msg)
		}
		for _, n := range names {
			if r, ok := s.rejected[n]; ok {
				return errReply(id, r.Code, r.Msg)
			}
		}
		added := 0 // distinct streams new to c: a name repeated in the request counts once
		seen := make(map[string]bool, len(names))
		for _, n := range names {
			if !c.streams[n] && !seen[n] {
				added++
			}
			seen[n] = true
		}
		if s.streamLimit > 0 && len(c.streams)+added > s.streamLimit {
			s.violations.Streams++
			return errReply(id, 2, "Invalid request: too many streams")
		}
		for _, n := range names {
			s.subscribeLocked(c, n)
		}
		c.closeNext = s.policyLoop
		return result(id, nil)
	case "LIST_SUBSCRIPTIONS":
		s.mu.Lock()
		list := append([]string{}, c.order...)
		s.mu.Unlock()
		return result(id, list)
	case "SET_PROPERTY", "GET_PROPERTY":
		want := 2
		if method == "GET_PROPERTY" {
			want = 1
		}
		if len(params) > want {
			return errFrame(2, "Invalid request: too many parameters")
		}
		var name string
		if len(params) == 0 || json.Unmarshal(params[0], &name) != nil {
			return errFrame(2, "Invalid request: property name must be a string")
		}
		if name != "combined" {
			// The one error the exchange sends flat with the id.
			b, _ := json.Marshal(struct {
				wireError
				ID uint64 `json:"id"`
			}{wireError{0, "Unknown property"}, id})
			return b
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if method == "GET_PROPERTY" {
			return result(id, c.combined)
		}
		v := "missing"
		if len(params) == 2 {
			v = strings.TrimSpace(string(params[1]))
		}
		if v != "true" && v != "false" {
			return errFrame(1, "Invalid value type: expected Boolean")
		}
		c.combined = v == "true"
		return result(id, nil)
	}
	return nil
}
