// Package record writes and reads marketwire recordings, the raw frames of
// exchange WebSocket streams with the time each was received, and plays
// them back in process through the generated decoders (Play), for
// backtests without a socket. The marketwire command records with it
// ("marketwire record") and serves recordings to any client through the
// simulators ("marketwire replay").
//
// # Format, version 1
//
// A recording is a header followed by blocks. Integers are big-endian.
//
//	file    = header block*
//	header  = magic version length metadata
//	magic   = the 8 bytes "\x89MWR\r\n\x1a\n"
//	version = uint16, 1
//	length  = uint32, the length of metadata
//	metadata = a JSON object (Header): market, streams, source, created
//	block   = size zstd
//	size    = uint32, the length of zstd
//	zstd    = one Zstandard frame, with its content checksum, whose content is record*
//	record  = time stream frame
//	time    = varint (zig-zag, as encoding/binary.AppendVarint): Unix nanoseconds of receipt
//	stream  = uvarint length, then the stream's name (as subscribed, e.g. btcusdt@aggTrade)
//	frame   = uvarint length, then the WebSocket text frame exactly as received
//
// The file is append-only: a writer only ever adds whole blocks at the end,
// each in one write, and every block decodes on its own. A recorder that
// writes a block at least every second and is killed loses at most the
// frames of its last second; a torn last block is reported as ErrTruncated
// after every whole block has been read. A reader rejects a newer version.
//
// Frames are kept whole (envelope included) so that nothing the exchange
// sent is lost; Payload finds the part a stream's decoder reads.
package record

import (
	"errors"
	"time"
)

// Version is the format version this package writes and reads.
const Version = 1

// magic starts every recording.
const magic = "\x89MWR\r\n\x1a\n"

// BlockSize is how many bytes of records a Writer gathers before it writes
// a block without waiting for Flush.
const BlockSize = 1 << 20

// Limits a Reader applies, so that a damaged file cannot exhaust memory.
const (
	maxMetadata = 1 << 20
	maxBlock    = 64 << 20  // compressed
	maxDecoded  = 512 << 20 // decompressed
)

// Header describes a recording; it is stored as JSON after the magic.
type Header struct {
	Market  string    `json:"market"`           // schema name of the market, e.g. "spot"
	Streams []string  `json:"streams"`          // the streams recorded, as subscribed
	Source  string    `json:"source,omitempty"` // where from: "simulator", an endpoint name or a URL
	Created time.Time `json:"created"`          // when recording began
}

// Frame is one recorded WebSocket frame.
type Frame struct {
	Time   time.Time // when it was received
	Stream string    // the stream it was delivered to
	Data   []byte    // the frame as received
}

// Errors a Reader returns.
var (
	// ErrNotRecording: the input does not start with a recording's magic.
	ErrNotRecording = errors.New("not a marketwire recording")
	// ErrTruncated: the recording ends inside a block, as when the
	// recorder was killed while writing it; every whole block before it
	// has been read.
	ErrTruncated = errors.New("recording ends with a torn block (was the recorder killed?)")
)
