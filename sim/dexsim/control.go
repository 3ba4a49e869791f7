package dexsim

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// allSymbols is the symbol of the all-market topics.
const allSymbols = "$all"

// kind says how a topic is subscribed.
type kind int

const (
	kindUnknown  kind = iota
	kindSymbol        // per symbol: "symbols":["BNB_BTCB-1DE",...]
	kindAll           // all markets: "symbols":["$all"]
	kindPersonal      // per address: "address":"bnb1..."
)

var klineIntervals = map[string]bool{
	"1m": true, "3m": true, "5m": true, "15m": true, "30m": true,
	"1h": true, "2h": true, "4h": true, "6h": true, "8h": true, "12h": true,
	"1d": true, "3d": true, "1w": true, "1M": true,
}

// personalTopics are the topics of the personal stream, in URL order.
var personalTopics = []string{"accounts", "orders", "transfers"}

func topicKind(topic string) kind {
	switch topic {
	case "trades", "marketDiff", "marketDepth", "marketDepth100", "marketDepth500", "marketDepth1000",
		"ticker", "miniTicker":
		return kindSymbol
	case "allTickers", "allMiniTickers", "blockheight":
		return kindAll
	case "accounts", "orders", "transfers":
		return kindPersonal
	}
	if iv, ok := strings.CutPrefix(topic, "kline_"); ok && klineIntervals[iv] {
		return kindSymbol
	}
	return kindUnknown
}

// topicOf returns the topic of a marketwire stream name: what follows the
// last '@'. It is the "stream" of the stream's frames.
func topicOf(stream string) string {
	return stream[strings.LastIndexByte(stream, '@')+1:]
}

// splitPersonal splits <address>@<personal topic>.
func splitPersonal(stream string) (address, topic string, ok bool) {
	i := strings.LastIndexByte(stream, '@')
	if i < 0 || topicKind(stream[i+1:]) != kindPersonal {
		return "", "", false
	}
	return stream[:i], stream[i+1:], true
}

// isAddress reports whether a looks like a bech32 Binance Chain address
// (bnb1... on mainnet, tbnb1... on testnet). The checksum is not verified.
func isAddress(a string) bool {
	rest, ok := strings.CutPrefix(a, "bnb1")
	if !ok {
		rest, ok = strings.CutPrefix(a, "tbnb1")
	}
	if !ok || rest == "" {
		return false
	}
	for _, r := range rest {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'z') {
			return false
		}
	}
	return true
}

// symbolFits reports whether sym may be subscribed with a topic of kind k:
// "$all" for all-market topics, a plain symbol otherwise.
func symbolFits(k kind, sym string) bool {
	if k == kindAll {
		return sym == allSymbols
	}
	return sym != "" && !strings.ContainsAny(sym, "@/$ \t\r\n")
}

// urlStreams returns the marketwire stream names of one stream given in the
// URL: <symbol>@<topic>, $all@<topic>, or <address> for the three personal
// topics.
func urlStreams(name string) ([]string, bool) {
	i := strings.LastIndexByte(name, '@')
	if i < 0 {
		if !isAddress(name) {
			return nil, false
		}
		out := make([]string, len(personalTopics))
		for j, t := range personalTopics {
			out[j] = name + "@" + t
		}
		return out, true
	}
	k := topicKind(name[i+1:])
	if k != kindSymbol && k != kindAll || !symbolFits(k, name[:i]) {
		return nil, false
	}
	return []string{name}, true
}

// request is a control message. Unknown keys are ignored.
type request struct {
	Method  string   `json:"method"`
	Topic   string   `json:"topic"`
	Symbols []string `json:"symbols"`
	Address string   `json:"address"`
}

// handle acts on one control message and reports whether it was valid. The
// DEX answers nothing either way.
func (c *conn) handle(b []byte) bool {
	var req request
	if err := json.Unmarshal(b, &req); err != nil {
		return false
	}
	switch req.Method {
	case "subscribe":
		return c.subscribe(req)
	case "unsubscribe":
		return c.unsubscribe(req)
	case "keepAlive":
		c.keptAt.Store(time.Now().UnixNano())
		c.mu.Lock()
		c.keepAlives++
		c.mu.Unlock()
		return true
	case "close":
		c.close("close requested", closeMsg(websocket.CloseNormalClosure, ""))
		return true
	}
	return false
}

// subscribe adds the streams of a subscribe message. Streams the source
// cannot serve are skipped and make the message count as invalid.
func (c *conn) subscribe(req request) bool {
	s := c.srv
	k := topicKind(req.Topic)
	if k == kindUnknown && len(req.Symbols) > 0 {
		k = kindSymbol // a topic beyond the documented ones exists when the source serves it
	}
	switch k {
	case kindPersonal:
		if !isAddress(req.Address) {
			return false
		}
		return c.subscribePersonal(req.Address, req.Topic)
	case kindSymbol, kindAll:
		if len(req.Symbols) == 0 {
			return false
		}
		ok := true
		var streams []string
		for _, sym := range req.Symbols {
			st := sym + "@" + req.Topic
			if !symbolFits(k, sym) || !s.openFeed(st) {
				ok = false
				continue
			}
			streams = append(streams, st)
		}
		s.mu.Lock()
		for _, st := range streams {
			s.subscribeLocked(c, st)
		}
		s.mu.Unlock()
		return ok
	}
	return false
}

// subscribePersonal subscribes topic for address. A connection has one
// address: a new one replaces the old, and the personal topics already
// subscribed move to the new address.
func (c *conn) subscribePersonal(address, topic string) bool {
	s := c.srv
	stream := address + "@" + topic
	if !s.openFeed(stream) {
		return false
	}
	// Only this goroutine changes the connection's subscriptions, so what
	// is read here still holds when the lock is taken again below.
	s.mu.Lock()
	old := c.address
	var carried []string
	if address != old {
		for t := range c.personal {
			if t != topic {
				carried = append(carried, t)
			}
		}
	}
	s.mu.Unlock()
	topics := []string{topic}
	for _, t := range carried {
		if s.openFeed(address + "@" + t) {
			topics = append(topics, t)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if address != old {
		for t := range c.personal {
			s.unsubscribeLocked(c, old+"@"+t)
		}
		clear(c.personal)
		c.address = address
	}
	for _, t := range topics {
		c.personal[t] = true
		s.subscribeLocked(c, address+"@"+t)
	}
	return true
}

// unsubscribe drops a topic for the given symbols, or for every symbol (or
// the address) when none are given.
func (c *conn) unsubscribe(req request) bool {
	s := c.srv
	k := topicKind(req.Topic)
	if k == kindUnknown {
		return false
	}
	for _, sym := range req.Symbols {
		if k == kindPersonal || !symbolFits(k, sym) {
			return false
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case k == kindPersonal:
		if c.personal[req.Topic] {
			delete(c.personal, req.Topic)
			s.unsubscribeLocked(c, c.address+"@"+req.Topic)
			if len(c.personal) == 0 {
				c.address = ""
			}
		}
	case len(req.Symbols) == 0:
		for st := range c.streams {
			if topicOf(st) == req.Topic {
				s.unsubscribeLocked(c, st)
			}
		}
	default:
		for _, sym := range req.Symbols {
			s.unsubscribeLocked(c, sym+"@"+req.Topic)
		}
	}
	return true
}
