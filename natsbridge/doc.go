// Package natsbridge carries marketwire's typed streams beyond one machine
// through NATS JetStream: bridges collect streams from the exchange once
// and publish them, and any number of programs on any host read them back
// with the same generated Subscribe helpers they use on the exchange.
//
// A Bridge subscribes streams through a runtime.Conn and publishes every
// payload, byte for byte as received, to a JetStream stream (DefaultStream,
// created with StreamConfig's defaults when missing), one subject per wire
// stream: mw.<market>.<stream>, both names escaped into one subject token
// each (EscapeToken: '.', '*', '>', '%', whitespace, control and non-ASCII
// bytes become %XX). Each message carries a Nats-Msg-Id built from the
// stream's own sequence key (MsgID), so two or more bridges publishing the
// same streams store each event once: JetStream drops the copies that
// arrive within the stream's duplicate window (DefaultDuplicateWindow, one
// minute), and stopping any bridge loses nothing. A stream's events go out
// in JetStream fast batches (nats-server 2.14+, AllowBatchPublish, which
// StreamConfig sets): sent without waiting, stored in order, and a batch
// ends at the first message the server does not store, whose rest the
// bridge publishes again one at a time; see Bridge for the order rules.
//
// A Source implements runtime.Source on the JetStream stream:
//
//	src, err := natsbridge.NewSource(nc, &spot.Market)
//	...
//	sub, err := spot.SubscribeAggTrade(ctx, src, spot.AggTradeParams{Symbol: "BTCUSDT"},
//		func(ev *spot.AggTradeEvent) { ... })
//
// so a strategy moves from the exchange to the cluster by changing how it
// connects. Each subscription reads its subject through an ordered consumer
// (per-stream order preserved, each message once), from now (StartNew), the
// beginning (StartAll), a time (StartAt) or a stream sequence
// (StartSequence). Payloads are delivered through a runtime.Feed: the
// queues, overflow policies, decode errors (runtime.EventError) and gap
// reports (runtime.EventGap) of a Conn.
//
// Local order books come from the cluster too, without the exchange's REST
// snapshot. A BookPublisher, next to a Bridge that publishes a symbol's
// diff stream, takes the snapshot of each Synced orderbook.Book it is given
// every period and stores it on mw.book.<market>.<SYMBOL> (BookSubject: four
// tokens, so never a wire stream's subject, and covered by mw.>), as
// compact JSON with exact decimal strings (AppendBookSnapshot), under the
// Nats-Msg-Id <subject>:<lastUpdateId>, so that two bridges' snapshots of
// one update id are stored once. OpenBook keeps the book elsewhere: its
// snapshot is the last one stored (GetLastMsgForSubject), its diff events
// the diff stream's history from BookLookback before that snapshot, then
// live ones, under the unchanged algorithm of package orderbook
// (orderbook.WithSnapshotSource). While no snapshot is stored, or after a
// gap in the stored diffs (a bridge restart), the book retries until a
// newer snapshot is stored, reporting each attempt as an event:
//
//	pub, err := natsbridge.NewBookPublisher(ctx, nc, 5*time.Second) // on the bridge's host
//	err = pub.Add(book)                                             // a Book kept on a Conn other than the Bridge's
//	...
//	b, err := natsbridge.OpenBook(ctx, src, &spot.OrderBook, "BTCUSDT") // anywhere
//
// Neither the generated packages nor package runtime import NATS; this
// package does.
package natsbridge
