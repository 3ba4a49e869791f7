package bench

import (
	"runtime"
	"syscall"
	"time"
)

// sleeper locks the calling goroutine to its thread, sets the thread's
// timer slack to 1 ns (PR_SET_TIMERSLACK) and returns a sleep that blocks
// the thread in nanosleep, which is precise to some tens of microseconds
// where time.Sleep rounds to the netpoller's millisecond. The caller must
// not unlock the thread: it ends with the goroutine.
func sleeper() func(time.Duration) {
	runtime.LockOSThread()
	const prSetTimerSlack = 29
	_, _, _ = syscall.Syscall(syscall.SYS_PRCTL, prSetTimerSlack, 1, 0)
	return func(d time.Duration) {
		if d <= 0 {
			return
		}
		ts := syscall.NsecToTimespec(int64(d))
		_ = syscall.Nanosleep(&ts, nil)
	}
}
