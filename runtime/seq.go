package runtime

// SeqKind says what a stream's sequence key tells about the order of its
// events and about gaps between them.
type SeqKind uint8

// The kinds of sequence key (declared per stream in the schema).
const (
	// SeqNone: the stream's events carry nothing that orders them.
	SeqNone SeqKind = iota
	// SeqConsecutive: ids grow by exactly one from event to event, so an
	// event whose First is not the previous Last + 1 follows a gap (trade
	// ids, aggregate trade ids, diff-depth U and u on some venues).
	SeqConsecutive
	// SeqLinked: each event names the Last of its predecessor in Prev, so an
	// event whose Prev is not the previous Last follows a gap (futures
	// diff-depth pu).
	SeqLinked
	// SeqIncreasing: ids strictly increase but may skip values (book-ticker
	// update ids); order is known, gaps are not.
	SeqIncreasing
	// SeqTime: the event time in milliseconds, which never decreases but may
	// repeat; order is known, gaps are not.
	SeqTime
)

// String returns the kind's schema name.
func (k SeqKind) String() string {
	switch k {
	case SeqConsecutive:
		return "consecutive"
	case SeqLinked:
		return "linked"
	case SeqIncreasing:
		return "increasing"
	case SeqTime:
		return "time"
	}
	return "none"
}

// Seq is the position of one event in its stream, read from the payload
// fields that the schema declares as the stream's sequence key. An event
// that covers several ids (a diff-depth update, an array of trades) spans
// First..Last; a single id has First == Last.
type Seq struct {
	Kind        SeqKind
	First, Last int64
	Prev        int64 // SeqLinked only: the Last of the previous event
}
