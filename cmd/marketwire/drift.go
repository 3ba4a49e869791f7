package main

import (
	"context"
	"time"

	"github.com/marketwire/marketwire/wire"
)

// driftEvery is how often tail -drift prints the drift report while it
// runs (when there is something to report).
var driftEvery = time.Minute

// printDrift prints the drift report (wire.DriftReport: keys and event
// kinds the schema does not know, required keys payloads lacked, payloads
// of another event kind) on l, one line per entry, such as
//
//	drift: spot aggTrade: unknown key "X" (12 times, e.g. 42)
//
// and "drift: none" when it is empty and final is set. The report is the
// process's: every payload the generated decoders decoded.
func printDrift(l *eventLog, final bool) {
	r := wire.DriftReport()
	if len(r) == 0 {
		if final {
			l.printLines([]string{"drift: none"})
		}
		return
	}
	out := make([]string, len(r))
	for i, e := range r {
		out[i] = "drift: " + e.String()
	}
	l.printLines(out)
}

// watchDrift prints the drift report every driftEvery until ctx ends or
// the returned function is called, which waits for a print under way.
func watchDrift(ctx context.Context, l *eventLog) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(driftEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				printDrift(l, false)
			}
		}
	}()
	return func() { cancel(); <-done }
}
