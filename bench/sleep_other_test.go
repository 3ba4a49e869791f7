//go:build !linux

package bench

import "time"

// sleeper returns time.Sleep where nanosleep and timer slack are not at
// hand; paced runs then write in bursts (see frames/write).
func sleeper() func(time.Duration) { return time.Sleep }
