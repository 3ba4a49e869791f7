package runtime

import (
	"errors"
	"fmt"
	"strings"
)

// Errors reported by the runtime. Test for them with errors.Is.
var (
	// ErrClosed is returned by calls on a closed Conn.
	ErrClosed = errors.New("runtime: connection closed")
	// ErrUnsubscribed ends a subscription that was unsubscribed.
	ErrUnsubscribed = errors.New("runtime: unsubscribed")
	// ErrSlowConsumer ends a CloseSubscription subscription whose queue overflowed.
	ErrSlowConsumer = errors.New("runtime: subscription queue overflowed")
	// ErrNoData is the cause of a disconnect when nothing arrived within the read timeout.
	ErrNoData = errors.New("runtime: nothing received within the read timeout")
	// ErrServerShutdown is the reason of a replacement caused by a shutdown notice (Dialect.Shutdown).
	ErrServerShutdown = errors.New("runtime: server announced shutdown")
	// ErrLifetime is the reason of a replacement before the connection lifetime ends.
	ErrLifetime = errors.New("runtime: connection reached its planned lifetime")
	// ErrUnknownStream is reported for a frame of a stream that is not subscribed.
	ErrUnknownStream = errors.New("runtime: frame for a stream that is not subscribed")
	// ErrMalformedFrame is reported for a frame that is not a valid envelope.
	ErrMalformedFrame = errors.New("runtime: malformed frame")
	// ErrUnknownFrame is reported for a frame that is valid JSON but neither
	// stream data, a reply nor a control frame of the venue's Dialect. It is
	// never handed to a decoder.
	ErrUnknownFrame = errors.New("runtime: frame the venue's dialect does not describe")
	// ErrAuthRequired is returned by Subscribe for a stream that needs a
	// login when the Conn has no token (WithAuthToken) or the venue no login.
	ErrAuthRequired = errors.New("runtime: stream needs authentication (dial with WithAuthToken)")
	// ErrRawMode is returned by calls that need a multiplexed socket in raw mode,
	// and by Dial when the venue has no stream-in-URL form.
	ErrRawMode = errors.New("runtime: not available with WithRawStreams")

	// errSocketGone makes Subscribe retry on a fresh socket after a raw
	// socket was released concurrently.
	errSocketGone = errors.New("runtime: socket released")
	// errShardFull makes Subscribe pick another socket of the route when
	// one filled up concurrently.
	errShardFull = errors.New("runtime: socket full")
	// errLinkClosed fails requests of a socket that went away.
	errLinkClosed = errors.New("runtime: socket closed")
)

// ServerError is an error frame of the exchange, such as
// {"error":{"code":2,"msg":"..."},"id":7}, {"code":2,"msg":"..."} or
// {"event":"error","message":"..."}. Code is -1 when the frame has none.
type ServerError struct {
	Code int
	Msg  string
}

// Error formats the code and message.
func (e *ServerError) Error() string {
	return fmt.Sprintf("runtime: server error %d: %s", e.Code, e.Msg)
}

// FrameError describes a frame that could not be delivered: malformed, for an
// unknown stream, or rejected by the stream's Decoder. It is reported through
// EventError; the connection goes on.
type FrameError struct {
	Route  string
	Stream string // empty when the frame had no readable stream name
	Frame  string // the start of the frame, at most 256 bytes
	Err    error
}

// Error names the stream (or quotes the frame) and the reason.
func (e *FrameError) Error() string {
	if e.Stream == "" {
		return fmt.Sprintf("runtime: frame %.64q: %v", e.Frame, e.Err)
	}
	return fmt.Sprintf("runtime: stream %q: %v", e.Stream, e.Err)
}

// Unwrap returns the reason.
func (e *FrameError) Unwrap() error { return e.Err }

// frameError builds a FrameError; the login token never appears in it.
func (c *Conn) frameError(route string, stream []byte, frame []byte, err error) *FrameError {
	if len(frame) > 256 {
		frame = frame[:256]
	}
	return &FrameError{Route: route, Stream: string(stream), Frame: c.redact(string(frame)), Err: err}
}

// redact removes the login token from s.
func (c *Conn) redact(s string) string {
	if t := c.opts.token; t != "" {
		s = strings.ReplaceAll(s, t, "<redacted>")
	}
	return s
}

// redactError removes the login token from a server error's message.
func (c *Conn) redactError(e *ServerError) error {
	e.Msg = c.redact(e.Msg)
	return e
}

// SubscribeError is the error of Conn.Subscribe: the stream and the cause.
type SubscribeError struct {
	Stream string
	Err    error
}

// Error names the stream and the cause, with one "runtime:" prefix.
func (e *SubscribeError) Error() string {
	return "runtime: subscribe " + e.Stream + ": " + strings.TrimPrefix(e.Err.Error(), "runtime: ")
}

// Unwrap returns the cause.
func (e *SubscribeError) Unwrap() error { return e.Err }
