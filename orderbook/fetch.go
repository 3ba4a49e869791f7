package orderbook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/marketwire/marketwire/wire"
)

// DefaultWeightPerMinute is the REST weight budget of a host whose Spec
// states none (WeightPerMinute 0): the smallest limit the exchange
// documents for its depth hosts is larger.
const DefaultWeightPerMinute = 1200

// weightHeaders are the reply headers that carry the weight the IP used in
// the current minute.
var weightHeaders = []string{"X-Mbx-Used-Weight-1m", "X-Mbx-Used-Weight"}

// Fetcher fetches depth snapshots from one REST host within its request
// weight budget, so that opening many books never exceeds the exchange's
// per-IP limit: a request waits until its weight fits in the budget of the
// last window (a minute by default), counting both the weight this Fetcher
// spent and the weight the host reports as used (X-MBX-USED-WEIGHT-1M).
// After a 429 or 418 reply every request waits for the Retry-After the
// reply gives (at least a second; two minutes for a 418 without one).
// Books of one host share a Fetcher by default; it is safe for concurrent
// use and starts no goroutine.
type Fetcher struct {
	spec   *Spec
	base   string
	client *http.Client
	budget int
	window time.Duration

	mu       sync.Mutex
	spent    []*spend  // this Fetcher's requests in flight or answered within the window
	reported int       // weight the host reported as used
	repAt    time.Time // when; it counts until the window has passed
	blocked  time.Time // no request before this (Retry-After)
	used     int       // total weight spent, for Stats
	limited  int       // 429 and 418 replies
	nreq     int       // requests sent
	users    int       // books of a shared Fetcher; the last to close closes its idle connections
}

// spend is one request's weight: it counts from when it is sent until a
// window after its reply. The host counts it from its arrival, which lies
// between the two, for a window: so whatever the transit times, every
// request the host counts when it receives a new one is still counted here
// when that one is sent, and the host never sees more than the budget.
type spend struct {
	sent, answered time.Time // answered is zero while in flight
	weight         int
}

// FetcherStats are the counters of a Fetcher.
type FetcherStats struct {
	Requests    int // snapshot requests sent
	Weight      int // their total weight
	RateLimited int // 429 and 418 replies
}

// NewFetcher returns a Fetcher of spec's snapshots from the REST host base
// (one of the Spec's REST URLs, or a simulator's; "" for the first). The budget
// is weight per window; 0 means the Spec's WeightPerMinute (else
// DefaultWeightPerMinute) per minute. client nil means http.DefaultClient.
func NewFetcher(spec *Spec, base string, budget int, window time.Duration, client *http.Client) (*Fetcher, error) {
	if err := spec.check(); err != nil {
		return nil, err
	}
	if base == "" {
		base = spec.REST[0].URL
	}
	if _, err := url.Parse(base); err != nil {
		return nil, fmt.Errorf("orderbook: REST base %q: %w", base, err)
	}
	if budget <= 0 {
		budget, window = spec.WeightPerMinute, time.Minute
		if budget <= 0 {
			budget = DefaultWeightPerMinute
		}
	}
	if window <= 0 {
		window = time.Minute
	}
	if client == nil {
		client = http.DefaultClient
	}
	return &Fetcher{spec: spec, base: strings.TrimRight(base, "/"), client: client, budget: budget, window: window}, nil
}

var (
	fetchersMu sync.Mutex
	fetchers   = map[string]*Fetcher{}
)

// sharedFetcher returns the process-wide Fetcher of a host with the
// default budget, counting one more user (see release).
func sharedFetcher(spec *Spec, base string) (*Fetcher, error) {
	fetchersMu.Lock()
	defer fetchersMu.Unlock()
	key := spec.Market.Name + " " + base
	f := fetchers[key]
	if f == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		var err error
		if f, err = NewFetcher(spec, base, 0, 0, &http.Client{Transport: t}); err != nil {
			return nil, err
		}
		fetchers[key] = f
	}
	f.users++
	return f, nil
}

// release ends one user of a shared Fetcher; after the last, its idle
// connections (and their goroutines) are closed.
func (f *Fetcher) release() {
	fetchersMu.Lock()
	defer fetchersMu.Unlock()
	if f.users--; f.users == 0 {
		f.client.CloseIdleConnections()
	}
}

// Stats returns the Fetcher's counters.
func (f *Fetcher) Stats() FetcherStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return FetcherStats{Requests: f.requests(), Weight: f.used, RateLimited: f.limited}
}

func (f *Fetcher) requests() int { return f.nreq }

// RateLimitError is a 429 or 418 reply: the host asks to wait RetryAfter.
type RateLimitError struct {
	Status     int
	RetryAfter time.Duration
	Body       string
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("orderbook: snapshot rate-limited (HTTP %d, retry after %v): %s", e.Status, e.RetryAfter, e.Body)
}

// snapshot is a decoded depth snapshot.
type snapshot struct {
	id         int64
	bids, asks []change
}

// reserve waits until weight fits the budget, then records it as sent;
// call answer with the result when the reply (or an error) is in.
func (f *Fetcher) reserve(ctx context.Context, weight int) (*spend, error) {
	if weight > f.budget {
		return nil, fmt.Errorf("orderbook: a snapshot of weight %d exceeds the budget of %d per %v", weight, f.budget, f.window)
	}
	for {
		f.mu.Lock()
		now := time.Now()
		wait := time.Until(f.blocked)
		if wait <= 0 {
			kept := f.spent[:0]
			mine, next := 0, time.Duration(0)
			for _, sp := range f.spent {
				if !sp.answered.IsZero() && now.Sub(sp.answered) >= f.window {
					continue
				}
				kept = append(kept, sp)
				mine += sp.weight
				if !sp.answered.IsZero() {
					if d := sp.answered.Add(f.window).Sub(now); next == 0 || d < next {
						next = d
					}
				}
			}
			clear(f.spent[len(kept):])
			f.spent = kept
			used := mine
			if now.Sub(f.repAt) < f.window {
				used = max(used, f.reported+f.sinceReport())
			}
			if used+weight <= f.budget {
				sp := &spend{sent: now, weight: weight}
				f.spent = append(f.spent, sp)
				f.used += weight
				f.nreq++
				f.mu.Unlock()
				return sp, nil
			}
			// Wait for a spend to leave the window, a reply, or the host's
			// report to expire.
			wait = f.window / 50
			if next > 0 {
				wait = min(wait, next)
			}
			if now.Sub(f.repAt) < f.window && used > mine {
				wait = min(wait, f.repAt.Add(f.window).Sub(now))
			}
			wait = max(wait, time.Millisecond)
		}
		f.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// answer marks a spend's reply as in.
func (f *Fetcher) answer(sp *spend) {
	f.mu.Lock()
	sp.answered = time.Now()
	f.mu.Unlock()
}

// sinceReport is the weight this Fetcher sent after the host's last
// report (not in it yet). Called with f.mu held.
func (f *Fetcher) sinceReport() int {
	n := 0
	for _, sp := range f.spent {
		if sp.sent.After(f.repAt) {
			n += sp.weight
		}
	}
	return n
}

// fetch gets one snapshot of symbol with limit levels per side.
func (f *Fetcher) fetch(ctx context.Context, symbol string, limit int) (*snapshot, error) {
	weight := f.spec.Limits.Weight(limit)
	if weight == 0 {
		return nil, fmt.Errorf("orderbook: limit %d is not accepted by %s", limit, f.spec.Path)
	}
	sp, err := f.reserve(ctx, weight)
	if err != nil {
		return nil, err
	}
	defer f.answer(sp)
	u := f.base + f.spec.Path + "?symbol=" + url.QueryEscape(strings.ToUpper(symbol)) + "&limit=" + strconv.Itoa(limit)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("orderbook: snapshot: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("orderbook: snapshot: %w", err)
	}
	f.observe(resp)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusTeapot:
		return nil, f.limitedBy(resp, body)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("orderbook: snapshot %s: HTTP %d: %s", u, resp.StatusCode, clip(body))
	}
	return decodeSnapshot(body, f.spec.UpdateID)
}

// observe records the used weight the host reports.
func (f *Fetcher) observe(resp *http.Response) {
	for _, h := range weightHeaders {
		if v := resp.Header.Get(h); v != "" {
			if n, err := strconv.Atoi(v); err == nil {
				f.mu.Lock()
				f.reported, f.repAt = n, time.Now()
				f.mu.Unlock()
			}
			return
		}
	}
}

// limitedBy blocks every request for the reply's Retry-After.
func (f *Fetcher) limitedBy(resp *http.Response, body []byte) error {
	d := time.Second
	if resp.StatusCode == http.StatusTeapot {
		d = 2 * time.Minute
	}
	if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s > 0 {
		d = time.Duration(s) * time.Second
	}
	f.mu.Lock()
	f.limited++
	if until := time.Now().Add(d); until.After(f.blocked) {
		f.blocked = until
	}
	f.mu.Unlock()
	return &RateLimitError{Status: resp.StatusCode, RetryAfter: d, Body: clip(body)}
}

func clip(b []byte) string {
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}

// decodeSnapshot decodes a snapshot reply: its update id member and the
// bids and asks, lists of [price, quantity].
func decodeSnapshot(body []byte, idKey string) (*snapshot, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("orderbook: snapshot: %w", err)
	}
	s := &snapshot{}
	if err := json.Unmarshal(raw[idKey], &s.id); err != nil || raw[idKey] == nil {
		return nil, fmt.Errorf("orderbook: snapshot: no integer %q member", idKey)
	}
	for _, k := range []string{"bids", "asks"} {
		var lv [][2]wire.Decimal
		if err := json.Unmarshal(raw[k], &lv); err != nil || raw[k] == nil {
			return nil, fmt.Errorf("orderbook: snapshot: member %q is not a list of [price, quantity]: %v", k, err)
		}
		out := make([]change, 0, len(lv))
		for _, l := range lv {
			c, err := newChange(k == "bids", l[0], l[1])
			if err != nil {
				return nil, fmt.Errorf("orderbook: snapshot %s: %w", k, err)
			}
			out = append(out, c)
		}
		if k == "bids" {
			s.bids = out
		} else {
			s.asks = out
		}
	}
	return s, nil
}

var errNotDiff = errors.New("orderbook: the diff stream delivered a value that is not a diff event")
