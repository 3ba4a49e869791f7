package runtime

import (
	"fmt"

	"time"
)

// EventKind says what an Event reports.
type EventKind int

// The lifecycle events.
const (
	// EventConnected: a socket is open for the first time (Route, URL).
	EventConnected EventKind = iota + 1
	// EventDisconnected: a socket was lost; Err is the cause. A reconnect follows.
	EventDisconnected
	// EventReconnected: a lost socket is open again; Attempt counts the tries.
	EventReconnected
	// EventResubscribed: Count streams were subscribed again after a reconnect
	// or on a replacement socket.
	EventResubscribed
	// EventReplaced: a socket was replaced proactively; Err is the reason
	// (ErrLifetime or ErrServerShutdown).
	EventReplaced
	// EventDropped: Subscription dropped Count events since the last report.
	EventDropped
	// EventSubscriptionClosed: Subscription ended on its own; Err says why.
	EventSubscriptionClosed
	// EventError: a background error. Err is a *FrameError for bad frames, a
	// *ServerError for a rejected resubscription, or a dial error.
	EventError
	// EventClosed: the Conn is closed. It is the last event.
	EventClosed
)

// String returns the kind's name.
func (k EventKind) String() string {
	switch k {
	case EventConnected:
		return "connected"
	case EventDisconnected:
		return "disconnected"
	case EventReconnected:
		return "reconnected"
	case EventResubscribed:
		return "resubscribed"
	case EventReplaced:
		return "replaced"
	case EventDropped:
		return "dropped"
	case EventSubscriptionClosed:
		return "subscription closed"
	case EventError:
		return "error"
	case EventClosed:
		return "closed"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is one lifecycle event or background error. Fields that do not apply
// to the Kind are zero.
type Event struct {
	Kind         EventKind
	Time         time.Time
	Route        string
	URL          string
	Stream       string
	Subscription *Subscription
	Count        uint64
	Attempt      int
	Err          error
}

// String formats the event for logs.
func (e Event) String() string {
	s := e.Kind.String()
	if e.Route != "" {
		s += " route=" + e.Route
	}
	if e.Stream != "" {
		s += " stream=" + e.Stream
	}
	if e.Count != 0 {
		s += fmt.Sprintf(" count=%d", e.Count)
	}
	if e.Attempt != 0 {
		s += fmt.Sprintf(" attempt=%d", e.Attempt)
	}
	if e.Err != nil {
		s += " err=" + e.Err.Error()
	}
	return s
}
