package sim

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/marketwire/marketwire/orderbook"
)

// This file holds the REST depth snapshot a local order book starts from
// (orderbook.Spec: path, limit values and weights from the schema), served
// on the Server's own address, and the faults a book must survive: a
// snapshot lagging the stream, 429 replies, slow replies, and dropped or
// duplicated data frames.

// WithDepthSnapshots makes the server answer spec's REST depth snapshot
// (GET spec.Path?symbol=&limit=) from the Book that book returns for a
// symbol (nil: unknown symbol), with the limit values and request weights
// of the spec and the used weight in X-MBX-USED-WEIGHT-1M. A spec without
// a REST snapshot (no Path: snapshot streams only) serves nothing.
func WithDepthSnapshots(spec *orderbook.Spec, book func(symbol string) *Book) Option {
	return func(s *Server) {
		if spec == nil || spec.Path == "" {
			return
		}
		s.rest = &restServer{spec: spec, book: book, weightLimit: spec.WeightPerMinute, window: time.Minute, used: map[string][]restSpend{}}
	}
}

// WithRESTWeight sets the per-IP request weight the snapshot endpoint
// allows per window (default the spec's WeightPerMinute per minute; 0
// means no limit). A request beyond it gets a 429 with Retry-After and is
// counted in SnapshotStats.Violations.
func WithRESTWeight(n int, per time.Duration) Option {
	return func(s *Server) {
		if s.rest != nil {
			s.rest.weightLimit, s.rest.window = n, per
		}
	}
}

type restServer struct {
	spec        *orderbook.Spec
	book        func(string) *Book
	weightLimit int
	window      time.Duration

	mu         sync.Mutex
	used       map[string][]restSpend // client IP -> requests within the window
	lag        time.Duration
	fail       int
	retryAfter time.Duration
	delay      time.Duration
	stats      SnapshotStats
}

type restSpend struct {
	at     time.Time
	weight int
}

// SnapshotStats counts the depth snapshot requests the server answered.
type SnapshotStats struct {
	Requests    int         // snapshot requests, refused ones too
	Served      int         // snapshots served
	Weight      int         // weight of the requests counted against the limit
	ByLimit     map[int]int // requests by limit
	RateLimited int         // 429 replies, injected or over the weight limit
	Violations  int         // requests beyond the weight limit (each got a 429)
	// MaxWeight is the most weight one client IP used within a window.
	MaxWeight int
}

// serveREST answers r when it is a snapshot request and reports whether
// it did.
func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) bool {
	rs := s.rest
	if rs == nil || r.URL.Path != rs.spec.Path {
		return false
	}
	q := r.URL.Query()
	limit := rs.spec.Limits.Default
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || !rs.spec.Limits.Valid(n) {
			restError(w, http.StatusBadRequest, -1130, "Invalid data sent for a parameter.")
			return true
		}
		limit = n
	}
	weight := rs.spec.Limits.Weight(limit)
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	now := time.Now()
	rs.mu.Lock()
	rs.stats.Requests++
	if rs.stats.ByLimit == nil {
		rs.stats.ByLimit = map[int]int{}
	}
	rs.stats.ByLimit[limit]++
	spent := rs.used[ip]
	i := 0
	for i < len(spent) && now.Sub(spent[i].at) >= rs.window {
		i++
	}
	spent = append(spent[i:], restSpend{now, weight})
	rs.used[ip] = spent
	total := 0
	for _, sp := range spent {
		total += sp.weight
	}
	rs.stats.Weight += weight
	rs.stats.MaxWeight = max(rs.stats.MaxWeight, total)
	over := rs.weightLimit > 0 && total > rs.weightLimit
	injected := !over && rs.fail > 0
	retry := rs.retryAfter
	if over {
		rs.stats.Violations++
		retry = rs.window
	}
	if injected {
		rs.fail--
	}
	if over || injected {
		rs.stats.RateLimited++
	}
	lag, delay := rs.lag, rs.delay
	rs.mu.Unlock()
	w.Header().Set("X-MBX-USED-WEIGHT-1M", strconv.Itoa(total))
	if over || injected {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int((retry+time.Second-1)/time.Second))))
		restError(w, http.StatusTooManyRequests, -1003, "Too many requests; current limit of IP is exceeded.")
		return true
	}
	sym := q.Get("symbol")
	var b *Book
	if sym != "" {
		b = rs.book(strings.ToLower(sym))
	}
	if b == nil {
		restError(w, http.StatusBadRequest, -1121, "Invalid symbol.")
		return true
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-s.stop:
			t.Stop()
		case <-r.Context().Done():
			t.Stop()
		}
	}
	body := b.depth(limit, lag, rs.spec.UpdateID, time.Now())
	rs.mu.Lock()
	rs.stats.Served++
	rs.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
	return true
}

func restError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":%d,"msg":%q}`, code, msg)
}

// RESTURL returns the http:// base URL of the snapshot endpoint after
// Start (orderbook.WithREST).
func (s *Server) RESTURL() string {
	return "http" + strings.TrimPrefix(s.url, "ws")
}

// SnapshotStats returns the snapshot requests counted so far.
func (s *Server) SnapshotStats() SnapshotStats {
	if s.rest == nil {
		return SnapshotStats{}
	}
	s.rest.mu.Lock()
	defer s.rest.mu.Unlock()
	st := s.rest.stats
	st.ByLimit = make(map[int]int, len(s.rest.stats.ByLimit))
	for k, v := range s.rest.stats.ByLimit {
		st.ByLimit[k] = v
	}
	return st
}

func (s *Server) restState(f func(*restServer)) {
	if s.rest == nil {
		return
	}
	s.rest.mu.Lock()
	defer s.rest.mu.Unlock()
	f(s.rest)
}

// LagSnapshots makes every snapshot show the book as it was d ago (as far
// as the book remembers), as a snapshot host that lags the stream does; 0
// ends it.
func (s *Server) LagSnapshots(d time.Duration) {
	s.restState(func(r *restServer) { r.lag = d })
}

// RateLimitSnapshots makes the next n snapshot requests fail with a 429
// whose Retry-After header says retryAfter (whole seconds, at least 1).
func (s *Server) RateLimitSnapshots(n int, retryAfter time.Duration) {
	s.restState(func(r *restServer) { r.fail, r.retryAfter = n, retryAfter })
}

// DelaySnapshots makes every snapshot reply wait d before the book is
// read (so that a reconnect can happen mid-sync); 0 ends it.
func (s *Server) DelaySnapshots(d time.Duration) {
	s.restState(func(r *restServer) { r.delay = d })
}

// dataFaults are the data-frame faults of one stream.
type dataFaults struct {
	drop, dup int
}

// DropNext makes the next n payloads of stream vanish for every
// connection (a gap in its sequence).
func (s *Server) DropNext(stream string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultsLocked(stream).drop += n
}

// DuplicateNext makes the next n payloads of stream go out twice.
func (s *Server) DuplicateNext(stream string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultsLocked(stream).dup += n
}

func (s *Server) faultsLocked(stream string) *dataFaults {
	if s.dataFaults == nil {
		s.dataFaults = map[string]*dataFaults{}
	}
	f := s.dataFaults[stream]
	if f == nil {
		f = &dataFaults{}
		s.dataFaults[stream] = f
	}
	return f
}

// copies returns how many times a published payload of stream goes out
// (0, 1 or 2), consuming one injected fault.
func (s *Server) copies(stream string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.dataFaults[stream]
	switch {
	case f == nil:
		return 1
	case f.drop > 0:
		f.drop--
		return 0
	case f.dup > 0:
		f.dup--
		return 2
	}
	return 1
}

// BookState returns the order book of symbol as of update id id, as the
// snapshot endpoint's Book has it (Book.StateAt); ok is false without
// WithDepthSnapshots, for an unknown symbol, or an id the book does not
// remember.
func (s *Server) BookState(symbol string, id int64) (st BookState, ok bool) {
	if s.rest == nil {
		return BookState{}, false
	}
	b := s.rest.book(strings.ToLower(symbol))
	if b == nil {
		return BookState{}, false
	}
	return b.StateAt(id)
}
