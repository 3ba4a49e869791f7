package sim

import "time"

var klineIntervals = map[string]time.Duration{
	"1s": time.Second, "1m": time.Minute, "3m": 3 * time.Minute, "5m": 5 * time.Minute,
	"15m": 15 * time.Minute, "30m": 30 * time.Minute, "1h": time.Hour, "2h": 2 * time.Hour,
	"4h": 4 * time.Hour, "6h": 6 * time.Hour, "8h": 8 * time.Hour, "12h": 12 * time.Hour,
	"1d": 24 * time.Hour, "3d": 72 * time.Hour, "1w": 7 * 24 * time.Hour, "1M": 0,
}

// klineWindow returns the open and close time of the candle holding t.
func klineWindow(iv string, t time.Time) (time.Time, time.Time) {
	t = t.UTC()
	switch iv {
	case "1M":
		start := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 1, 0).Add(-time.Millisecond)
	case "1w": // weeks open on Monday; the Unix epoch was a Thursday
		const monday = 4 * 24 * time.Hour
		d := klineIntervals[iv]
		start := time.Unix(0, 0).Add(monday + t.Sub(time.Unix(0, 0).Add(monday)).Truncate(d)).UTC()
		return start, start.Add(d - time.Millisecond)
	}
	d := klineIntervals[iv]
	start := t.Truncate(d)
	return start, start.Add(d - time.Millisecond)
}

type candle struct {
	start, end      time.Time
	first, last     int64 // trade ids; -1 when no trade yet
	open, high, low int64
	close           int64
	volume, quote   int64 // lots; quote in 1e-5 units
	takerBuy        int64
	takerBuyQuote   int64
	trades          int64
}

func (f *bookFeed) newCandle(t time.Time) *candle {
	start, end := klineWindow(f.st.interval, t)
	p := f.b.mid
	if n := len(f.b.trades); n > 0 {
		p = f.b.trades[n-1].price
	}
	return &candle{start: start, end: end, first: -1, last: -1, open: p, high: p, low: p, close: p}
}

// ingest adds the trades since the last call to the current candle and
// returns a candle that closed, if any.
func (f *bookFeed) ingest() *candle {
	var closed *candle
	for _, t := range f.b.trades {
		if t.id <= f.lastTrade {
			continue
		}
		f.lastTrade = t.id
		if f.candle == nil {
			f.candle = f.newCandle(t.time)
		}
		if t.time.After(f.candle.end) {
			closed = f.candle
			f.candle = f.newCandle(t.time)
		}
		c := f.candle
		if c.first < 0 {
			c.first, c.open, c.high, c.low = t.id, t.price, t.price, t.price
		}
		c.last, c.close = t.id, t.price
		c.high, c.low = max(c.high, t.price), min(c.low, t.price)
		c.volume += t.qty
		c.quote += t.qty * t.price
		if !t.buyerIsMaker {
			c.takerBuy += t.qty
			c.takerBuyQuote += t.qty * t.price
		}
		c.trades++
	}
	return closed
}

func (f *bookFeed) kline(now time.Time) []byte {
	closed := f.ingest()
	c, final := f.candle, false
	if closed != nil {
		c, final = closed, true
	}
	if c == nil {
		f.candle = f.newCandle(now)
		c = f.candle
	}
	if !final && now.After(c.end) { // the window passed without trades
		c, final = f.candle, true
		f.candle = f.newCandle(now)
	}
	k := newJSON()
	k.num("t", c.start.UnixMilli()).num("T", c.end.UnixMilli()).str("s", f.b.sym).str("i", f.st.interval).
		num("f", c.first).num("L", c.last).str("o", price(c.open)).str("c", price(c.close)).
		str("h", price(c.high)).str("l", price(c.low)).str("v", qty(c.volume)).num("n", c.trades).
		bool("x", final).str("q", fixed(c.quote, 5)).str("V", qty(c.takerBuy)).str("Q", fixed(c.takerBuyQuote, 5)).str("B", "0")
	w := newJSON()
	w.str("e", "kline").num("E", now.UnixMilli()).str("s", f.b.sym).raw("k", k.close())
	return w.close()
}
