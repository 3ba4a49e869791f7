package runtime

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
)

// TestArenaWriteOnce reads frames of many sizes, a byte at a time and
// whole, and checks that each comes back intact and that no later frame
// overwrote an earlier one.
func TestArenaWriteOnce(t *testing.T) {
	var a arena
	var frames, got [][]byte
	for i, size := range []int{0, 1, 100, arenaChunk - 1, arenaChunk, 3*arenaChunk + 7, 5, arenaChunk / 2, arenaChunk / 2} {
		f := bytes.Repeat([]byte{byte('a' + i)}, size)
		var r io.Reader = bytes.NewReader(f)
		if i%2 == 1 {
			r = iotest.OneByteReader(r)
		}
		b, err := a.read(r)
		if err != nil {
			t.Fatal(err)
		}
		if cap(b) != len(b) {
			t.Errorf("frame %d: capacity %d beyond its length %d", i, cap(b), len(b))
		}
		frames, got = append(frames, f), append(got, b)
	}
	for i := range frames {
		if !bytes.Equal(got[i], frames[i]) {
			t.Errorf("frame %d (%d bytes) changed after later reads", i, len(frames[i]))
		}
	}
}
