package orderbook

import (
	"errors"
	"fmt"
	"time"
)

// State is where a Book stands. Only a Synced book answers reads.
type State int32

// The states of a Book.
const (
	// Syncing: the first synchronisation is under way (diff events are
	// buffered, the snapshot is being fetched or waits for its first event).
	Syncing State = iota + 1
	// Synced: the book is the exchange's book as of LastUpdateID.
	Synced
	// Resyncing: a gap, a crossed book or Resync made the book unusable; it
	// synchronises again as in Syncing.
	Resyncing
	// Closed: Close was called.
	Closed
)

// String returns the state's name.
func (s State) String() string {
	switch s {
	case Syncing:
		return "syncing"
	case Synced:
		return "synced"
	case Resyncing:
		return "resyncing"
	case Closed:
		return "closed"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// EventKind says what an Event reports.
type EventKind int

// The kinds of Event.
const (
	// EventSynced: the book is Synced at LastUpdateID; From..To are the
	// update ids the snapshot bridged since the book was last Synced (0, 0
	// on the first sync).
	EventSynced EventKind = iota + 1
	// EventResync: a resynchronisation starts; Err says why (ErrGap,
	// ErrCrossed, ErrBadEvent, ErrResync, ErrOverflow). For a book kept
	// from a snapshot stream (OpenSnapshot): a message was crossed or
	// unreadable and not installed; the book waits for the next one.
	EventResync
	// EventGap: updates From..To are missing from the diff stream (for a
	// linked stream, those after From-1 up to To, the event's previous id).
	EventGap
	// EventStaleSnapshot: the snapshot (LastUpdateID) is older than the
	// buffered events; the buffer is kept and the snapshot fetched again.
	EventStaleSnapshot
	// EventSnapshotError: fetching or decoding a snapshot failed; Err says
	// why (a *RateLimitError for 429 and 418). It is retried.
	EventSnapshotError
	// EventBackwards: a snapshot stream's message (OpenSnapshot) has an
	// update id (From, To) older than the book's (LastUpdateID); it was
	// rejected and the book is unchanged. Err is ErrBackwards.
	EventBackwards
)

// String returns the kind's name.
func (k EventKind) String() string {
	switch k {
	case EventSynced:
		return "synced"
	case EventResync:
		return "resync"
	case EventGap:
		return "gap"
	case EventStaleSnapshot:
		return "stale snapshot"
	case EventSnapshotError:
		return "snapshot error"
	case EventBackwards:
		return "backwards"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event reports a change of a Book's synchronisation. Fields that do not
// apply to the Kind are zero.
type Event struct {
	Kind         EventKind
	Symbol       string
	Time         time.Time
	LastUpdateID int64
	From, To     int64
	Err          error
}

// String formats the event for logs.
func (e Event) String() string {
	s := e.Kind.String() + " " + e.Symbol
	if e.LastUpdateID != 0 {
		s += fmt.Sprintf(" lastUpdateId=%d", e.LastUpdateID)
	}
	if e.From != 0 || e.To != 0 {
		s += fmt.Sprintf(" window=%d..%d", e.From, e.To)
	}
	if e.Err != nil {
		s += " err=" + e.Err.Error()
	}
	return s
}

// Errors of reads and reasons of resyncs.
var (
	// ErrNotSynced: the book is not Synced; State says what it is.
	ErrNotSynced = errors.New("orderbook: book not synced")
	// ErrGap: the diff stream skipped updates.
	ErrGap = errors.New("orderbook: gap in the diff stream")
	// ErrCrossed: an update left the best bid at or above the best ask.
	ErrCrossed = errors.New("orderbook: crossed book")
	// ErrBadEvent: a diff event or its levels could not be read.
	ErrBadEvent = errors.New("orderbook: unreadable diff event")
	// ErrResync: Resync was called (for example after the socket
	// reconnected).
	ErrResync = errors.New("orderbook: resync requested")
	// ErrOverflow: more diff events arrived during a synchronisation than
	// the buffer holds (WithBuffer); the oldest were dropped.
	ErrOverflow = errors.New("orderbook: sync buffer full")
	// ErrBackwards: a snapshot stream's message is older than the book.
	ErrBackwards = errors.New("orderbook: snapshot message older than the book")
	// ErrClosed: the book was closed.
	ErrClosed = errors.New("orderbook: book closed")
)
