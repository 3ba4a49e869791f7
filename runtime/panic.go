package runtime

import (
	"fmt"
	goruntime "runtime"
	"runtime/debug"
)

// PanicError is a panic recovered from a handler: a Subscription's handler
// or an OnEvent handler. See EventPanic and WithCrashOnPanic.
type PanicError struct {
	Where string // which handler, e.g. "handler of stream btcusdt@trades"
	Value any    // the value passed to panic
	Stack []byte // the panicking goroutine's stack
}

// Error names the handler and the panic value.
func (e *PanicError) Error() string {
	return fmt.Sprintf("runtime: %s panicked: %v", e.Where, e.Value)
}

func newPanicError(where string, v any) *PanicError {
	return &PanicError{Where: where, Value: v, Stack: debug.Stack()}
}

// goid returns the current goroutine's id, read from the first line of its
// stack trace ("goroutine 42 [running]:"). Close and Unsubscribe use it to
// tell whether a handler called them, so that they never wait for the call
// they are part of. It costs about a microsecond and is not on any per-event
// path.
func goid() uint64 {
	var buf [40]byte
	n := goruntime.Stack(buf[:], false)
	var id uint64
	for _, c := range buf[len("goroutine "):n] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}
