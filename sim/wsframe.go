package sim

import "encoding/binary"

// AppendTextFrame appends payload as one final, unmasked WebSocket text
// frame, as a server sends it. Feeds that pre-build their frames (the
// benchmarks' floor feeds) write the result straight to the connection.
func AppendTextFrame(dst, payload []byte) []byte {
	dst = append(dst, 0x81)
	switch n := len(payload); {
	case n < 126:
		dst = append(dst, byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, payload...)
}
