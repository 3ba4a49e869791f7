package natsbridge

import (
	"hash/fnv"
	"strconv"

	"github.com/marketwire/marketwire/runtime"
)

// MsgID returns the Nats-Msg-Id of a payload of a stream: the stream's
// subject (see Subject), a colon, and a key read from the payload's own
// sequence (runtime.Stream.Seq, declared per stream in the schema), so that
// every bridge that receives the same event from the exchange builds the
// same id and JetStream keeps one copy:
//
//   - consecutive, linked and increasing keys (trade ids, aggregate ids,
//     the final update id u of a depth diff, book-ticker update ids): the
//     last id, in decimal. It names one event of the stream.
//   - time keys (tickers, klines, mark prices: only the event time E
//     orders them): the time, '-', and the FNV-1a 64-bit hash of the payload
//     in hex. Two different events of one stream can share an event time
//     (two kline updates in one millisecond, an all-market array and the
//     next); the hash keeps them apart, where the symbol would not (the
//     stream already names it, and array streams carry many). The same event
//     received by two bridges is the same bytes, so it is deduplicated; were
//     the exchange ever to serialise one event differently on two
//     connections, both copies would be kept: the error is a duplicate,
//     never a loss.
//   - streams without a key (q.Kind is runtime.SeqNone): 'h' and the hash,
//     so identical payloads within the duplicate window are kept once.
func MsgID(subject string, q runtime.Seq, payload []byte) string {
	b := make([]byte, 0, len(subject)+24)
	b = append(b, subject...)
	b = append(b, ':')
	switch q.Kind {
	case runtime.SeqConsecutive, runtime.SeqLinked, runtime.SeqIncreasing:
		b = strconv.AppendInt(b, q.Last, 10)
	case runtime.SeqTime:
		b = strconv.AppendInt(b, q.Last, 10)
		b = append(b, '-')
		b = strconv.AppendUint(b, hash(payload), 16)
	default:
		b = append(b, 'h')
		b = strconv.AppendUint(b, hash(payload), 16)
	}
	return string(b)
}

func hash(p []byte) uint64 {
	h := fnv.New64a()
	h.Write(p)
	return h.Sum64()
}
