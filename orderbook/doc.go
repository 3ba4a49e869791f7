// Package orderbook keeps the exact local order book of a symbol in sync
// from the exchange's REST depth snapshot and its diff-depth stream, or
// the top of the book from a snapshot stream (partial depth).
//
// Everything market-specific comes from the schema through a generated
// market package's OrderBook variable (a Spec): the snapshot's path, hosts,
// limit values and weights, the diff stream, and the rule that ties the
// two. The package names no venue.
//
//	c, err := runtime.Dial(ctx, &mkt.Market)
//	...
//	b, err := orderbook.Open(ctx, c, &mkt.OrderBook, "BTCUSDT")
//	...
//	defer b.Close()
//	var top orderbook.Snapshot
//	if err := b.Top(5, &top); err == nil { // nil only while Synced
//		fmt.Println(top.Bids[0].Price, top.Asks[0].Price)
//	}
//
// The diff stream may come from any runtime.Source of the market, not
// only a Conn, and the snapshot from any function (WithSnapshotSource)
// rather than the REST host: the algorithm below is the same. Package
// natsbridge uses both to keep books from a message bus (OpenBook).
//
// # Algorithm
//
// Let L be a snapshot's update id and [U, u] the update ids an event covers
// (pu, on linked streams, the u of the event before it). The Spec's
// FirstRule says which events L already contains: FirstNext (consecutive
// ids) makes events with u <= L stale and wants the first applied event to
// hold L+1 (U <= L+1 <= u); FirstCovering (linked ids) makes events with
// u < L stale and wants the first to hold L (U <= L <= u).
//
//  1. Subscribe to the diff stream and buffer its events, checking that
//     each follows the one before (U <= previous u + 1, or pu = previous
//     u); after a gap only the events after it are kept.
//  2. Once an event is buffered (or after WithFirstWait), fetch the
//     snapshot within the REST weight budget (Fetcher), or from the
//     snapshot source (WithSnapshotSource).
//  3. Drop the stale buffered events. If the first one left is newer than
//     the snapshot can reach (U > L+1, or U > L), the snapshot is older
//     than the stream: keep the buffer and fetch again after a growing
//     delay (EventStaleSnapshot). A snapshot host that lags the stream by
//     many seconds thus delays the sync but never discards the buffer.
//  4. Otherwise install the snapshot and apply the buffered events, then
//     the live ones. With no event buffered, the snapshot waits for the
//     next event, which must reach it. Only after that first event is the
//     book Synced: a book is never Synced on a snapshot alone.
//  5. While Synced, each event must follow the last applied one; events
//     with u at or before the book's id are duplicates and ignored. A gap
//     (EventGap), an unreadable event, a book whose best bid reaches its
//     best ask, or Resync starts a resync: back to 1 with the events from
//     the one that failed, after a growing delay when resyncs follow each
//     other closely.
//
// Quantities are absolute and 0 removes a level. Levels deeper than the
// snapshot's limit are unknown until an event sets them.
//
// # Snapshot streams
//
// OpenSnapshot keeps the same Book from one of the Spec's Snapshots, a
// stream whose every message holds the top levels of both sides whole
// (partial depth), with no REST snapshot and no diff buffer:
//
//	b, err := orderbook.OpenSnapshot(ctx, c, &mkt.OrderBook, "BTCUSDT", orderbook.WithLevels(20))
//
// Each message replaces both sides under the write lock. The book is
// Synced after the first valid message, at that message's update id. A
// message whose update id is older than the book's is rejected
// (EventBackwards, Stats.Backwards) and the book is unchanged; one with
// the same id replaces it. A crossed or unreadable message is rejected
// too: the book leaves Synced in the same critical section (EventResync
// with ErrCrossed or ErrBadEvent) until a good message arrives, so no
// reader sees it. The book holds only the stream's levels: reads deeper
// than them see nothing. The stream, its levels and the members holding
// the levels and the update id come from the schema's order_book
// snapshots (SnapshotSpec). A market whose order_book has snapshot streams
// only (a fixed-depth channel, or a depth stream with no diff stream that
// chains) gets a Spec with no diff stream and no REST snapshot: OpenSnapshot
// keeps its book, and Open refuses it with an error saying so.
//
// # Reads
//
// Reads (BestBid, BestAsk, Top, Snapshot, DepthToPrice, DepthToQty) take a
// read lock and answer only while the book is Synced; otherwise they fail
// with ErrNotSynced. An event is applied and checked for crossing under
// the write lock, and a crossed book leaves Synced in that same critical
// section, so no reader ever sees a crossed or half-applied book. Prices
// and quantities are exact fixed-point numbers (Fixed); no float is used.
//
// # Reconnects
//
// A socket that reconnects loses the events published meanwhile; the next
// event then shows the gap and the book resyncs. Group does better: fed
// the Conn's lifecycle events (runtime.OnEvent), it marks the books of a
// lost socket unverified (Suspect) so that reads fail while they cannot be
// current, and the first event after the reconnect either follows the book
// exactly (no snapshot needed) or starts a resync.
//
// # REST weight
//
// The books of one REST host share a Fetcher (WithFetcher to choose one),
// which spends at most the host's request weight per minute (the Spec's
// WeightPerMinute, read with the weight the host reports as used in its
// replies) and stops every request for the Retry-After of a 429 or 418.
// Opening many books therefore takes longer, never more weight: 500 books
// whose snapshots weigh 50 each take about four minutes at 6,000 a
// minute.
//
// # Data structure
//
// Each side holds (price, quantity) integer pairs in sorted blocks of at
// most 128 levels, the best level last, with the blocks' last keys in one
// small array: a change anywhere is two binary searches and a move of at
// most a block, and the top N levels are the last N. Chosen by measurement
// (BenchmarkSide40, BenchmarkApply20x20, BenchmarkTop20) against one flat
// sorted slice, which moves up to the whole side for a change deep in the
// book, and a map, which sets levels as fast but must sort on every read.
package orderbook
