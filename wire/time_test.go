package wire

import (
	"testing"
	"time"
)

func TestTimestamps(t *testing.T) {
	want := time.Date(2023, 1, 1, 0, 0, 0, 123456789, time.UTC)
	tests := []struct {
		got  time.Time
		want time.Time
		str  string
		s    string
	}{
		{Seconds(1672531200).Time(), want.Truncate(time.Second), Seconds(1672531200).String(), "2023-01-01T00:00:00Z"},
		{Millis(1672531200123).Time(), want.Truncate(time.Millisecond), Millis(1672531200123).String(), "2023-01-01T00:00:00.123Z"},
		{Micros(1672531200123456).Time(), want.Truncate(time.Microsecond), Micros(1672531200123456).String(), "2023-01-01T00:00:00.123456Z"},
		{Nanos(1672531200123456789).Time(), want, Nanos(1672531200123456789).String(), "2023-01-01T00:00:00.123456789Z"},
	}
	for i, tt := range tests {
		if !tt.got.Equal(tt.want) || tt.got.Location() != time.UTC {
			t.Errorf("%d: Time() = %v, want %v", i, tt.got, tt.want)
		}
		if tt.str != tt.s {
			t.Errorf("%d: String() = %q, want %q", i, tt.str, tt.s)
		}
	}
}
