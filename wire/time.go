package wire

import "time"

// Seconds is a count of seconds since the Unix epoch.
type Seconds int64

// Millis is a count of milliseconds since the Unix epoch.
type Millis int64

// Micros is a count of microseconds since the Unix epoch.
type Micros int64

// Nanos is a count of nanoseconds since the Unix epoch.
type Nanos int64

// Time returns the instant in UTC.
func (t Seconds) Time() time.Time { return time.Unix(int64(t), 0).UTC() }

// Time returns the instant in UTC.
func (t Millis) Time() time.Time { return time.UnixMilli(int64(t)).UTC() }

// Time returns the instant in UTC.
func (t Micros) Time() time.Time { return time.UnixMicro(int64(t)).UTC() }

// Time returns the instant in UTC.
func (t Nanos) Time() time.Time { return time.Unix(0, int64(t)).UTC() }

// String formats the instant as RFC 3339 with nanoseconds, in UTC.
func (t Seconds) String() string { return t.Time().Format(time.RFC3339Nano) }

// String formats the instant as RFC 3339 with nanoseconds, in UTC.
func (t Millis) String() string { return t.Time().Format(time.RFC3339Nano) }

// String formats the instant as RFC 3339 with nanoseconds, in UTC.
func (t Micros) String() string { return t.Time().Format(time.RFC3339Nano) }

// String formats the instant as RFC 3339 with nanoseconds, in UTC.
func (t Nanos) String() string { return t.Time().Format(time.RFC3339Nano) }
