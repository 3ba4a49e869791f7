package sim

import (
	"fmt"
	"time"
)

// Source makes the payloads of streams. The server opens each stream once,
// when it is first subscribed, and shares the Feed among all connections, so
// every connection sees the same payload sequence. From then on the feed
// advances at every tick whether or not anyone is subscribed, as on the
// exchange.
type Source interface {
	// Open returns the feed of one stream, or an error if the source does
	// not know the stream.
	Open(stream string) (Feed, error)
}

// Feed produces a stream's payloads. The server calls Next from one
// goroutine at every publish tick with the tick's time; a nil result means
// nothing to publish at this tick. The payload must be the bare JSON payload
// (the server adds the combined envelope) and must not change afterwards.
type Feed interface {
	Next(now time.Time) []byte
}

// SourceFunc adapts a function to Source.
type SourceFunc func(stream string) (Feed, error)

// Open calls f.
func (f SourceFunc) Open(stream string) (Feed, error) { return f(stream) }

// FeedFunc adapts a function to Feed.
type FeedFunc func(now time.Time) []byte

// Next calls f.
func (f FeedFunc) Next(now time.Time) []byte { return f(now) }

// Sources tries each source in turn and uses the first that opens the stream.
type Sources []Source

// Open returns the first feed that opens.
func (ss Sources) Open(stream string) (Feed, error) {
	for _, s := range ss {
		if f, err := s.Open(stream); err == nil {
			return f, nil
		}
	}
	return nil, fmt.Errorf("sim: no source for stream %q", stream)
}

// Replay is a source of fixture payloads per stream name: each stream's feed
// cycles through its payloads, one per tick.
type Replay map[string][][]byte

// Open returns the cycling feed of one stream.
func (r Replay) Open(stream string) (Feed, error) {
	payloads := r[stream]
	if len(payloads) == 0 {
		return nil, fmt.Errorf("sim: no fixtures for stream %q", stream)
	}
	i := 0
	return FeedFunc(func(time.Time) []byte {
		p := payloads[i%len(payloads)]
		i++
		return p
	}), nil
}
