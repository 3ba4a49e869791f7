// Package bench measures marketwire's path from socket to typed handler
// against the transport floor. It holds tests and benchmarks only (this file
// exists so that the package has a non-test file).
//
// The instrument is an in-process WebSocket feed (feed_test.go) that
// serializes K distinct data frames once, WebSocket headers included, and
// then writes that buffer straight to the TCP connection: after the
// handshake and the subscribe replies it does no work per message. Against
// it:
//
//   - BenchmarkFloor: for each payload (spot aggTrade, kline, bookTicker,
//     depth20, USD-M 20×20 depthUpdate, ZDEX ticker) the bare read (gorilla
//     NextReader into one reused buffer, with the 16 KiB read buffer of the
//     runtime's links), gorilla ReadMessage + goccy/go-json
//     into plain structs, and marketwire through the generated Subscribe
//     helper with default options. One op is one frame, so ns/op, B/op and
//     allocs/op are per message; x-bare is the ratio to the bare read of the
//     same payload in the same run. Every variant checks that it received
//     exactly the frames sent (count and sum of ids, or payload bytes for the
//     bare read) and fails otherwise: a dropped event fails the benchmark.
//   - BenchmarkLatency: the feed paces frames at 10,000 and 100,000 msg/s,
//     stamping each write; p50/p99/p99.9 of write → handler call (write →
//     return of the read for the bare reader).
//   - BenchmarkScale: one connection carrying 1 or 1,000 aggTrade streams,
//     frames round-robin over the streams, at full speed.
//   - BenchmarkManyStreams: issue 11's scale figures. 10,000 streams
//     subscribed from cold through the spot simulator (sim.Server) with the
//     market's own limits: time to all confirmed, connections, the
//     simulator's count of limit violations; then every connection dropped
//     at once and the time until all flow again. Then the feed paced at
//     50,000 msg/s over 1 and over 10,000 streams: process CPU per message
//     and its ratio to the single stream's, and memory per idle stream.
//   - TestBurst and TestRawDials: the burst and raw-mode checks of issue
//     10 (200,000 frames at full speed into a counting handler, all
//     delivered; 200 raw dials that lose nothing).
//
// Run: go test -run '^$' -bench . -benchmem ./bench/ (or make bench).
package bench
