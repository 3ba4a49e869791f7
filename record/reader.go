package record

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Reader reads the frames of a recording in the order they were written.
type Reader struct {
	r      *bufio.Reader
	dec    *zstd.Decoder
	header Header
	recs   []byte // the rest of the current block's records
	err    error
}

// NewReader reads the header of a recording. It fails with ErrNotRecording
// for other input and names the version of a newer recording.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head := make([]byte, len(magic)+6)
	if _, err := io.ReadFull(br, head); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ErrNotRecording
		}
		return nil, err
	}
	if string(head[:len(magic)]) != magic {
		return nil, ErrNotRecording
	}
	if v := binary.BigEndian.Uint16(head[len(magic):]); v != Version {
		return nil, fmt.Errorf("recording format version %d, this reader knows version %d", v, Version)
	}
	n := binary.BigEndian.Uint32(head[len(magic)+2:])
	if n > maxMetadata {
		return nil, fmt.Errorf("recording header of %d bytes: damaged", n)
	}
	meta := make([]byte, n)
	if _, err := io.ReadFull(br, meta); err != nil {
		return nil, ErrTruncated
	}
	rd := &Reader{r: br}
	if err := json.Unmarshal(meta, &rd.header); err != nil {
		return nil, fmt.Errorf("recording header: %w", err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxDecoded))
	if err != nil {
		return nil, err
	}
	rd.dec = dec
	return rd, nil
}

// Header returns the recording's header.
func (r *Reader) Header() Header { return r.header }

// Next returns the next frame. It returns io.EOF at the end of a complete
// recording and ErrTruncated at the end of one whose last block is torn.
// The frame's Data stays valid; it may be kept.
func (r *Reader) Next() (Frame, error) {
	for len(r.recs) == 0 {
		if r.err != nil {
			return Frame{}, r.err
		}
		r.recs, r.err = r.block()
	}
	f, rest, err := parseRecord(r.recs)
	if err != nil {
		r.recs, r.err = nil, err
		return Frame{}, err
	}
	r.recs = rest
	return f, nil
}

// Close releases the decoder. It does not close the underlying reader.
func (r *Reader) Close() {
	r.dec.Close()
	r.recs, r.err = nil, errors.New("record: reader closed")
}

// block reads and decompresses the next block.
func (r *Reader) block() ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r.r, size[:]); err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		if err == io.ErrUnexpectedEOF {
			return nil, ErrTruncated
		}
		return nil, err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n > maxBlock {
		return nil, fmt.Errorf("record: block of %d bytes: damaged recording", n)
	}
	comp := make([]byte, n)
	if _, err := io.ReadFull(r.r, comp); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, ErrTruncated
		}
		return nil, err
	}
	recs, err := r.dec.DecodeAll(comp, nil)
	if err != nil {
		return nil, fmt.Errorf("record: damaged block: %w", err)
	}
	return recs, nil
}

var errRecord = errors.New("record: damaged record")

// parseRecord splits the first record off b.
func parseRecord(b []byte) (Frame, []byte, error) {
	t, n := binary.Varint(b)
	if n <= 0 {
		return Frame{}, nil, errRecord
	}
	b = b[n:]
	stream, b, ok := field(b)
	if !ok {
		return Frame{}, nil, errRecord
	}
	data, b, ok := field(b)
	if !ok {
		return Frame{}, nil, errRecord
	}
	return Frame{Time: time.Unix(0, t), Stream: string(stream), Data: data[:len(data):len(data)]}, b, nil
}

// field splits a uvarint-prefixed field off b.
func field(b []byte) (v, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}
