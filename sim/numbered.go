package sim

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// Numbered is a Source of numbered spot payloads for counting lost,
// duplicated and reordered events: every tick publishes one event per
// stream, numbered 1, 2, 3, … per stream. It serves
//
//	<symbol>@aggTrade   aggTrade with aggregate id a = n (f = l = n)
//	<symbol>@trade      trade with trade id t = n
//	<symbol>@depth      depthUpdate with U = 2n-1, u = 2n, so the next U is
//	                    the previous u + 1 (also @depth@100ms; every tick)
//
// for any lowercase symbol. The zero value is ready to use; a stream opened
// again (by another Server) continues its numbering.
type Numbered struct {
	mu   sync.Mutex
	last map[string]int64 // stream -> last event number published
}

// Open returns the numbered feed of stream, or an error for a stream
// Numbered does not serve.
func (n *Numbered) Open(stream string) (Feed, error) {
	sym, kind, ok := strings.Cut(stream, "@")
	switch {
	case !ok || sym == "" || sym != strings.ToLower(sym):
	case kind == "aggTrade", kind == "trade", kind == "depth", kind == "depth@100ms":
		sym = strings.ToUpper(sym)
		return FeedFunc(func(now time.Time) []byte {
			return numberedPayload(kind, sym, n.next(stream), now)
		}), nil
	}
	return nil, fmt.Errorf("sim: no numbered stream %q", stream)
}

func (n *Numbered) next(stream string) int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.last == nil {
		n.last = map[string]int64{}
	}
	n.last[stream]++
	return n.last[stream]
}

// Last returns the last id published on stream: the aggregate id a of an
// aggTrade stream, the trade id t of a trade stream, the u of a depth
// stream; 0 before its first event.
func (n *Numbered) Last(stream string) int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	if strings.Contains(stream, "@depth") {
		return 2 * n.last[stream]
	}
	return n.last[stream]
}

func numberedPayload(kind, sym string, id int64, now time.Time) []byte {
	ms := now.UnixMilli()
	px := price(10_000 + id%100)
	w := newJSON()
	switch kind {
	case "aggTrade":
		w.str("e", "aggTrade").num("E", ms).str("s", sym).num("a", id).str("p", px).str("q", "1.000").
			num("f", id).num("l", id).num("T", ms).bool("m", false).bool("M", true)
	case "trade":
		w.str("e", "trade").num("E", ms).str("s", sym).num("t", id).str("p", px).str("q", "1.000").
			num("T", ms).bool("m", false).bool("M", true)
	default: // depth
		w.str("e", "depthUpdate").num("E", ms).str("s", sym).num("U", 2*id-1).num("u", 2*id).
			levels("b", map[int64]int64{9_999: 1000 + id%7}, true, 0).
			levels("a", map[int64]int64{10_001: 1000 + id%5}, false, 0)
	}
	return w.close()
}
