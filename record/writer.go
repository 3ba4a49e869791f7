package record

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Writer appends frames to a recording. Frames are gathered in memory and
// written as one compressed block by Flush, or when BlockSize bytes have
// gathered; call Flush at least every second for the format's guarantee. It
// is safe for concurrent use.
type Writer struct {
	w   io.Writer
	enc *zstd.Encoder

	flushMu sync.Mutex // serialises blocks, so they are written in order

	mu     sync.Mutex // guards the fields below
	buf    []byte     // records not yet written
	err    error      // the first write error (or errClosed); every later call returns it
	closed bool
	stats  Stats
}

var errClosed = errors.New("record: writer closed")

// Stats counts what a Writer has recorded.
type Stats struct {
	Frames  int64 // frames recorded
	Bytes   int64 // their bytes, uncompressed
	Written int64 // bytes written to the file, header included
}

// NewWriter writes the header of a new recording to w and returns a Writer
// of its blocks.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	meta, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	b := append([]byte(magic), 0, 0, 0, 0, 0, 0)
	binary.BigEndian.PutUint16(b[len(magic):], Version)
	binary.BigEndian.PutUint32(b[len(magic)+2:], uint32(len(meta)))
	b = append(b, meta...)
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	return &Writer{w: w, enc: enc, stats: Stats{Written: int64(len(b))}}, nil
}

// Write adds one frame; it copies f.Data.
func (w *Writer) Write(f Frame) error {
	w.mu.Lock()
	if w.err != nil {
		w.mu.Unlock()
		return w.err
	}
	w.buf = binary.AppendVarint(w.buf, f.Time.UnixNano())
	w.buf = binary.AppendUvarint(w.buf, uint64(len(f.Stream)))
	w.buf = append(w.buf, f.Stream...)
	w.buf = binary.AppendUvarint(w.buf, uint64(len(f.Data)))
	w.buf = append(w.buf, f.Data...)
	w.stats.Frames++
	w.stats.Bytes += int64(len(f.Data))
	full := len(w.buf) >= BlockSize
	w.mu.Unlock()
	if full {
		return w.Flush()
	}
	return nil
}

// Flush writes the frames gathered so far as one block, in one write.
func (w *Writer) Flush() error {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	w.mu.Lock()
	recs, err := w.buf, w.err
	w.buf = nil
	w.mu.Unlock()
	if err != nil || len(recs) == 0 {
		return err
	}
	block := w.enc.EncodeAll(recs, make([]byte, 4, 4+len(recs)/4))
	binary.BigEndian.PutUint32(block, uint32(len(block)-4))
	n, err := w.w.Write(block)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stats.Written += int64(n)
	if err != nil && w.err == nil {
		w.err = fmt.Errorf("record: %w", err)
	}
	return w.err
}

// Close flushes the last frames; later calls fail. It does not close the
// underlying writer.
func (w *Writer) Close() error {
	err := w.Flush()
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.closed = true
		w.enc.Close()
		if w.err == nil {
			w.err = errClosed
		}
	}
	return err
}

// Stats returns the counters so far.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}
