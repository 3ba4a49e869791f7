package dispatch

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestOrderAndClose checks that events reach every handler in order and that
// Close delivers what was queued before returning.
func TestOrderAndClose(t *testing.T) {
	var a, b []int
	d := New([]func(int){
		func(i int) { a = append(a, i) },
		func(i int) { b = append(b, i) },
	})
	for i := 0; i < 1000; i++ {
		d.Emit(i)
	}
	d.Close()
	d.Emit(1000) // after Close: dropped
	if len(a) != 1000 || len(b) != 1000 {
		t.Fatalf("delivered %d and %d events, want 1000", len(a), len(b))
	}
	for i := range a {
		if a[i] != i || b[i] != i {
			t.Fatalf("event %d delivered as %d, %d", i, a[i], b[i])
		}
	}
}
