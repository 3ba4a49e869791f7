package userdata

import (
	"errors"
	"fmt"
)

// Errors reported by the package. Test for them with errors.Is.
var (
	// ErrClosed is returned by calls on a closed Stream.
	ErrClosed = errors.New("userdata: stream closed")
	// ErrNoUserStream is returned by Open for a market without user data.
	ErrNoUserStream = errors.New("userdata: market has no user-data stream")
	// ErrKeyExpired is the reason of a key replacement after the exchange
	// sent listenKeyExpired.
	ErrKeyExpired = errors.New("userdata: listen key expired")
	// ErrStreamTerminated is the reason of a resubscription after the
	// exchange sent eventStreamTerminated.
	ErrStreamTerminated = errors.New("userdata: exchange terminated the subscription")
)

// Codes of exchange errors the package reacts to.
const (
	// CodeListenKeyUnknown: "This listenKey does not exist." (keep-alive of
	// an expired or closed key).
	CodeListenKeyUnknown = -1125
	// CodeBadSignature: "Signature for this request is not valid."
	CodeBadSignature = -1022
	// CodeBadAPIKey: "Invalid API-key, IP, or permissions for action."
	CodeBadAPIKey = -2015
)

// APIError is an error answer of the exchange: from the listen-key REST
// endpoints ({"code":-1125,"msg":"..."} with an HTTP status) or from the
// WebSocket API ({"status":400,"error":{"code":-1022,"msg":"..."}}).
type APIError struct {
	Op     string // what was asked, e.g. "POST /fapi/v1/listenKey" or "userDataStream.subscribe.signature"
	Status int    // HTTP status, or the WebSocket API's status field
	Code   int    // the exchange's error code; 0 when the answer had none
	Msg    string // the exchange's message
}

// Error names the operation, the status, the exchange's code and message.
func (e *APIError) Error() string {
	if e.Code == 0 && e.Msg == "" {
		return fmt.Sprintf("userdata: %s: status %d", e.Op, e.Status)
	}
	return fmt.Sprintf("userdata: %s: status %d: code %d: %s", e.Op, e.Status, e.Code, e.Msg)
}

// FrameError is a frame of the user stream that could not be delivered
// (malformed, or rejected by the decoder). It reaches OnEvent handlers as
// the Err of an EventError; the stream goes on. Unlike the runtime's frame
// errors it never quotes the frame, which can hold the listen key.
type FrameError struct {
	Err error // the reason
}

// Error gives the reason.
func (e *FrameError) Error() string {
	return "userdata: undeliverable user-stream frame: " + e.Err.Error()
}

// Unwrap returns the reason.
func (e *FrameError) Unwrap() error { return e.Err }
