package sim

import "time"

var klineIntervals = map[string]time.Duration{
	"1s": time.Second, "1m": time.Minute, "3m": 3 * time.Minute, "5m": 5 * time.Minute,
	"15m": 15 * time.Minute, "30m": 30 * time.Minute, "1h": time.Hour, "2h": 2 * time.Hour,
	"4h": 4 * time.Hour, "6h": 6 * time.Hour, "8h": 8 * time.Hour, "12h": 12 * time.Hour,
	"1d": 24 * time.Hour, "3d": 72 * time.Hour, "1w": 7 * 24 * time.Hour, "1M": 0,
}

// KlineWindow returns the open time and the close time (the last
// millisecond) of the candle of interval iv (the exchange's names: 1s, 1m,
// ..., 1d, 3d, 1w, 1M) that holds t, in UTC: candles open at multiples of
// their interval since the Unix epoch, weeks on Monday, months on the 1st.
// ok is false for an unknown interval.
func KlineWindow(iv string, t time.Time) (open, close time.Time, ok bool) {
	if _, ok := klineIntervals[iv]; !ok {
		return time.Time{}, time.Time{}, false
	}
	open, close = klineWindow(iv, t)
	return open, close, true
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

// maxPendingCandles bounds the closed candles a kline feed holds back when
// candles close faster than it publishes (an interval shorter than the
// publish tick); the oldest are dropped beyond it.
const maxPendingCandles = 64

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

// newCandle returns an empty candle of the window holding t, whose prices
// are all p.
func (f *bookFeed) newCandle(t time.Time, p int64) *candle {
	start, end := klineWindow(f.st.interval, t)
	return &candle{start: start, end: end, first: -1, last: -1, open: p, high: p, low: p, close: p}
}

// roll closes the current candle and opens the next window's, which starts
// at the previous close price.
func (f *bookFeed) roll() {
	c := f.candle
	f.pending = append(f.pending, c)
	if len(f.pending) > maxPendingCandles {
		f.pending = f.pending[len(f.pending)-maxPendingCandles:]
	}
	f.candle = f.newCandle(c.end.Add(time.Millisecond), c.close)
}

// ingest adds the trades since the last call to the candles, and closes
// every candle whose window ended by now (those without trades too, as the
// exchange does), queueing it in f.pending.
func (f *bookFeed) ingest(now time.Time) {
	if f.candle == nil {
		p := f.b.mid
		if n := len(f.b.trades); n > 0 {
			p = f.b.trades[n-1].price
		}
		f.candle = f.newCandle(now, p)
	}
	for _, t := range f.b.trades {
		if t.id <= f.lastTrade {
			continue
		}
		f.lastTrade = t.id
		if t.time.Before(f.candle.start) { // traded before the feed opened
			continue
		}
		f.skipTo(t.time)
		for t.time.After(f.candle.end) {
			f.roll()
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
	f.skipTo(now)
	for now.After(f.candle.end) {
		f.roll()
	}
}

// skipTo drops the windows before t that could not be published anyway
// (more than maxPendingCandles of them), so that a long pause between two
// calls does not close candles one by one.
func (f *bookFeed) skipTo(t time.Time) {
	d := klineIntervals[f.st.interval]
	if d == 0 || t.Sub(f.candle.end) <= maxPendingCandles*d {
		return
	}
	f.pending = f.pending[:0]
	f.candle = f.newCandle(t.Add(-maxPendingCandles*d), f.candle.close)
}

// kline returns the next kline event: the oldest candle that closed and was
// not yet published (x true), else, when paced is false, the current one.
func (f *bookFeed) kline(now time.Time, paced bool) []byte {
	f.ingest(now)
	c, final := f.candle, false
	if len(f.pending) > 0 {
		c, final = f.pending[0], true
		f.pending = f.pending[1:]
	} else if paced {
		return nil
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
