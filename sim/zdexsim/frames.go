package zdexsim

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/marketwire/marketwire/generated"
)

// mustJSON encodes v without escaping <, > and &.
func mustJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // only fixed shapes are encoded
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func welcomeFrame(symbols []string) []byte {
	return mustJSON(struct {
		Event          string   `json:"event"`
		Channels       []string `json:"channels"`
		Symbols        []string `json:"symbols"`
		PollIntervalMs int      `json:"pollIntervalMs"`
	}{"connected", marketChannels, append([]string{}, symbols...), 2000})
}

// subscribedFrame acknowledges one subscription; symbol is "" for account.
func subscribedFrame(channel, symbol string) []byte {
	symbols := []string{}
	if symbol != "" {
		symbols = append(symbols, symbol)
	}
	return mustJSON(struct {
		Event    string   `json:"event"`
		Channels []string `json:"channels"`
		Symbols  []string `json:"symbols"`
	}{"subscribed", []string{channel}, symbols})
}

func authenticatedFrame() []byte {
	return mustJSON(struct {
		Event        string `json:"event"`
		AccountID    string `json:"accountId"`
		SubAccountID string `json:"subAccountId"`
	}{"authenticated", AccountID, SubAccountID})
}

func pongFrame(now time.Time) []byte {
	return mustJSON(struct {
		Event string `json:"event"`
		TS    int64  `json:"ts"`
	}{"pong", now.UnixMilli()})
}

func errorFrame(msg string) []byte {
	return mustJSON(struct {
		Event   string `json:"event"`
		Message string `json:"message"`
	}{"error", msg})
}

// frame builds {"channel":..,["symbol":..,]["event":..,]"data":data,"ts":now}.
func frame(channel, symbol, event string, data []byte, now time.Time) []byte {
	b := make([]byte, 0, len(data)+96)
	b = append(b, `{"channel":`...)
	b = append(b, mustJSON(channel)...)
	if symbol != "" {
		b = append(b, `,"symbol":`...)
		b = append(b, mustJSON(symbol)...)
	}
	if event != "" {
		b = append(b, `,"event":`...)
		b = append(b, mustJSON(event)...)
	}
	b = append(b, `,"data":`...)
	b = append(b, data...)
	b = append(b, `,"ts":`...)
	b = strconv.AppendInt(b, now.UnixMilli(), 10)
	return append(b, '}')
}

// marketFrame wraps a payload of stream "<channel>:<SYMBOL>".
func marketFrame(stream string, data []byte, now time.Time) []byte {
	channel, symbol, _ := strings.Cut(stream, ":")
	return frame(channel, symbol, "", data, now)
}

func stateFrame(state []byte, now time.Time) []byte {
	return frame(accountStream, "", "", state, now)
}

// event is one account event: its kind and bare payload.
type event struct {
	kind string
	data json.RawMessage
}

func eventFrame(ev event, now time.Time) []byte {
	return frame(accountStream, "", ev.kind, ev.data, now)
}

// accountEvents returns the account events the server cycles through: the
// recorded event frames of the zdex account group, one of each documented
// kind plus a notification.
func accountEvents() []event {
	var out []event
	for _, f := range generated.GroupFixtures("zdex", "account") {
		if ev, ok := parseEvent(f.Data); ok {
			out = append(out, ev)
		}
	}
	return out
}

func parseEvent(b []byte) (event, bool) {
	var f struct {
		Channel string          `json:"channel"`
		Event   string          `json:"event"`
		Data    json.RawMessage `json:"data"`
	}
	if json.Unmarshal(b, &f) != nil || f.Channel != accountStream || f.Event == "" || len(f.Data) == 0 {
		return event{}, false
	}
	var data bytes.Buffer // fixtures are indented; the venue sends one line
	if json.Compact(&data, f.Data) != nil {
		return event{}, false
	}
	return event{kind: f.Event, data: data.Bytes()}, true
}
