package userdata

import (
	"fmt"
	"time"
)

// EventKind says what an Event reports.
type EventKind int

// The lifecycle events of a Stream.
const (
	// EventSubscribed: the user stream is subscribed for the first time.
	EventSubscribed EventKind = iota + 1
	// EventKeepAlive: the listen key was extended (listen-key markets).
	EventKeepAlive
	// EventDisconnected: the connection carrying the user stream was lost;
	// Err is the cause. A reconnect follows.
	EventDisconnected
	// EventReconnected: the user stream is subscribed again after a lost
	// connection (Attempt counts the tries) or a subscription the exchange
	// ended. An EventGap follows.
	EventReconnected
	// EventKeyReplaced: a new listen key replaced one that expired or that
	// the exchange no longer knew; Err is the reason. An EventGap follows.
	EventKeyReplaced
	// EventGap: user events between From and To may be missing (the stream
	// was down or its key was being replaced); events after To are
	// delivered. Err is the reason. Resynchronise account state (balances,
	// open orders, positions) over REST if it matters.
	EventGap
	// EventError: a background error; the stream goes on (it retries with
	// backoff where that applies).
	EventError
	// EventClosed: the Stream is closed. It is the last event.
	EventClosed
)

// String returns the kind's name.
func (k EventKind) String() string {
	switch k {
	case EventSubscribed:
		return "subscribed"
	case EventKeepAlive:
		return "keep-alive"
	case EventDisconnected:
		return "disconnected"
	case EventReconnected:
		return "reconnected"
	case EventKeyReplaced:
		return "key replaced"
	case EventGap:
		return "gap"
	case EventError:
		return "error"
	case EventClosed:
		return "closed"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is one lifecycle event or background error of a Stream. It never
// holds a secret: errors are scrubbed of the API key, secret, signatures and
// listen keys before they get here.
type Event struct {
	Kind    EventKind
	Time    time.Time
	Market  string    // schema market name, e.g. "usdm"
	From    time.Time // EventGap: start of the window that may miss events
	To      time.Time // EventGap: end of that window
	Attempt int       // EventReconnected, EventError during retries
	Err     error
}

// String formats the event for logs.
func (e Event) String() string {
	s := e.Kind.String()
	if e.Market != "" {
		s += " market=" + e.Market
	}
	if e.Kind == EventGap {
		s += fmt.Sprintf(" from=%s to=%s (%v)", e.From.Format(timeFormat), e.To.Format(timeFormat), e.To.Sub(e.From).Round(time.Millisecond))
	}
	if e.Attempt != 0 {
		s += fmt.Sprintf(" attempt=%d", e.Attempt)
	}
	if e.Err != nil {
		s += " err=" + e.Err.Error()
	}
	return s
}

const timeFormat = "15:04:05.000"
