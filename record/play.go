package record

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/marketwire/marketwire/generated/markets"
	"github.com/marketwire/marketwire/runtime"
	"github.com/marketwire/marketwire/wire"
)

// Event is one recorded frame, decoded.
type Event struct {
	Time   time.Time // when the frame was received
	Stream string    // the stream it was delivered to
	// Payload is the value a subscription's handler gets, such as a
	// *spot.AggTradeEvent; type-switch on it.
	Payload markets.Payload
}

// Play reads a recording from r and calls fn with each frame decoded by its
// stream's generated decoder, in the order recorded: what the handlers of a
// live subscription would have received, without a socket. It stops at
// fn's first error and returns it, and fails on a frame that does not
// decode. A torn last block ends Play with ErrTruncated after every whole
// frame was delivered.
func Play(r io.Reader, fn func(Event) error) error {
	rd, err := NewReader(r)
	if err != nil {
		return err
	}
	defer rd.Close()
	m, ok := markets.All[rd.Header().Market]
	if !ok {
		return fmt.Errorf("record: unknown market %q", rd.Header().Market)
	}
	streams := map[string]runtime.Stream{}
	for i := 1; ; i++ {
		f, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		st, ok := streams[f.Stream]
		if !ok {
			if st, err = streamOf(m, f.Stream); err != nil {
				return err
			}
			streams[f.Stream] = st
		}
		v, err := decode(&m.Info.Dialect, st, f.Data)
		if err != nil {
			return fmt.Errorf("record: frame %d (%s): %w", i, f.Stream, err)
		}
		if err := fn(Event{Time: f.Time, Stream: f.Stream, Payload: v}); err != nil {
			return err
		}
	}
}

// StreamOf returns what the generated package of market subscribes for
// the named stream: its runtime.Stream, with the decoder Play uses.
func StreamOf(market, name string) (runtime.Stream, error) {
	m, ok := markets.All[market]
	if !ok {
		return runtime.Stream{}, fmt.Errorf("record: unknown market %q", market)
	}
	return streamOf(m, name)
}

func streamOf(m markets.Market, name string) (runtime.Stream, error) {
	p, err := m.ParseStream(name)
	if err != nil {
		return runtime.Stream{}, err
	}
	s, ok := p.(interface{ Stream() runtime.Stream })
	if !ok {
		return runtime.Stream{}, fmt.Errorf("record: %s: stream %s has no runtime form", m.Info.Name, name)
	}
	return s.Stream(), nil
}

// Payload returns the part of a recorded frame that st's decoder reads:
// the whole frame for a Whole stream, else the dialect's data member (the
// frame itself when it has none, as on a raw-stream connection).
func Payload(d *runtime.Dialect, st runtime.Stream, frame []byte) ([]byte, error) {
	if st.Whole || d.Data == "" {
		return frame, nil
	}
	v, found, err := wire.LookupRaw(frame, d.Data)
	if err != nil {
		return nil, err
	}
	if !found {
		return frame, nil
	}
	return v, nil
}

func decode(d *runtime.Dialect, st runtime.Stream, frame []byte) (markets.Payload, error) {
	in, err := Payload(d, st, frame)
	if err != nil {
		return nil, err
	}
	v, err := st.Decode(in)
	if err != nil {
		return nil, err
	}
	p, ok := v.(markets.Payload)
	if !ok {
		return nil, errors.New("decoder returned no payload")
	}
	return p, nil
}
