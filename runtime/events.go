package runtime

import (
	"fmt"
	"sync"
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
	// EventGap: events of Stream are missing, as its sequence key shows
	// (Stream.Seq): for consecutive ids, From..To are the missing ids; for
	// linked ones (each event names its predecessor), the events after From-1
	// up to To are missing. Count > 1 when several gaps were merged into one
	// report (From of the first, To of the last).
	EventGap
	// EventPanic: a handler panicked. Err is a *PanicError with the value and
	// the stack. For a Subscription's handler the subscription ends with it
	// (EventSubscriptionClosed follows); for an OnEvent handler the event is
	// skipped for that handler. WithCrashOnPanic lets panics crash instead.
	EventPanic
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
	case EventGap:
		return "gap"
	case EventPanic:
		return "panic"
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
	Count        uint64 // EventResubscribed, EventDropped; for coalesced errors and gaps, how many were merged
	Attempt      int
	From, To     int64 // EventGap: the missing range
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
	if e.Kind == EventGap {
		s += fmt.Sprintf(" missing=%d..%d", e.From, e.To)
	}
	if e.Attempt != 0 {
		s += fmt.Sprintf(" attempt=%d", e.Attempt)
	}
	if e.Err != nil {
		s += " err=" + e.Err.Error()
	}
	return s
}

// reports coalesces repeated reports of one kind (a key such as the route
// and class of a bad frame, or a stream's gaps): the first of a key is
// emitted at once, later ones within the window are merged into one event
// with their Count, emitted when the window ends. A flood of bad frames thus
// costs a bounded number of events.
type reports struct {
	window time.Duration
	emit   func(Event)

	mu     sync.Mutex
	keys   map[string]*report
	timer  *time.Timer
	closed bool
}

type report struct {
	last time.Time // when the key was last emitted
	held Event     // merged reports since then
	n    uint64
}

func newReports(window time.Duration, emit func(Event)) *reports {
	return &reports{window: window, emit: emit, keys: map[string]*report{}}
}

// add emits e now, or merges it into the key's held report.
func (r *reports) add(key string, e Event) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	k := r.keys[key]
	if k == nil {
		k = &report{}
		r.keys[key] = k
	}
	if k.n == 0 && now.Sub(k.last) >= r.window {
		k.last = now
		e.Count = 1
		r.emit(e)
		return
	}
	if k.n == 0 {
		k.held = e
	} else {
		k.held.To, k.held.Err, k.held.Time = e.To, e.Err, e.Time
	}
	k.n++
	if r.timer == nil {
		r.timer = time.AfterFunc(r.window, r.flush)
	}
}

// flush emits the held reports and forgets keys quiet for a window.
func (r *reports) flush() {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.timer = nil
	if r.closed {
		return
	}
	r.drain(now)
}

func (r *reports) drain(now time.Time) {
	for key, k := range r.keys {
		switch {
		case k.n > 0:
			k.held.Count = k.n
			r.emit(k.held)
			k.last, k.n, k.held = now, 0, Event{}
		case now.Sub(k.last) >= r.window:
			delete(r.keys, key)
		}
	}
}

// close emits what is held and stops; later reports are dropped.
func (r *reports) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.timer != nil {
		r.timer.Stop()
	}
	r.drain(time.Now())
	r.closed = true
}
