package runtime

import "io"

// arenaChunk is the size of the chunks an arena starts with.
const arenaChunk = 16 << 10

// arena is write-once memory for frames: each frame is read into the free
// tail of a chunk and never written again, so a Decoder may let the strings
// of its events alias the frame (see Decoder) and no frame is copied. A
// chunk is freed by the garbage collector once no event refers to it.
type arena struct{ buf []byte }

// read reads r to its end into fresh arena memory and returns it, with its
// capacity cut to its length.
func (a *arena) read(r io.Reader) ([]byte, error) {
	start := len(a.buf)
	for {
		if len(a.buf) == cap(a.buf) {
			n := len(a.buf) - start
			chunk := make([]byte, n, max(arenaChunk, 2*n))
			copy(chunk, a.buf[start:])
			a.buf, start = chunk, 0
		}
		m, err := r.Read(a.buf[len(a.buf):cap(a.buf)])
		a.buf = a.buf[:len(a.buf)+m]
		if err == io.EOF {
			return a.buf[start:len(a.buf):len(a.buf)], nil
		}
		if err != nil {
			return nil, err
		}
	}
}
