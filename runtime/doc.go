// Package runtime is the hand-written connection layer behind the generated
// market packages (generated/<market>): typed, reliable access to exchange
// WebSocket streams.
//
// The runtime knows no venue. Each Market carries its venue's Dialect,
// generated from the schema: where a socket connects, the subscribe and
// unsubscribe messages, how replies are matched, how a data frame finds its
// stream, which frames are control, the client's keep-alive message and the
// login. A Conn multiplexes streams over one socket per route, subscribes
// live, and demultiplexes each frame with a hand-written scanner that finds
// the routing key and the data span once, so payloads are decoded exactly
// once, by the stream's generated Decoder. It answers pings, sends the
// venue's keep-alives, detects silent connections, reconnects with backoff
// and logs in and resubscribes every stream exactly once per socket,
// replaces sockets before their lifetime ends or when the server announces
// a shutdown, and keeps its outgoing frames within the venue's message
// limit.
//
// Each Subscription has its own goroutine and a bounded queue, so one slow
// handler cannot stall the others; the overflow policy is chosen per
// subscription (DropOldest by default, see below). Lifecycle events and
// background errors reach OnEvent handlers in order on one goroutine.
//
// Usage, with a generated package mkt and one of its streams X (see
// examples/ for runnable programs):
//
//	c, err := runtime.Dial(ctx, &mkt.Market, runtime.OnEvent(func(e runtime.Event) {
//		log.Println("marketwire:", e)
//	}))
//	if err != nil {
//		return err
//	}
//	defer c.Close()
//	sub, err := mkt.SubscribeX(ctx, c, mkt.XParams{...},
//		func(ev *mkt.XEvent) { fmt.Println(ev) })
//	if err != nil {
//		return err
//	}
//	defer sub.Unsubscribe(ctx)
//
// # Default overflow policy
//
// DropOldest: market data loses value with age, so a consumer that falls
// behind is better served by the newest events than by a growing backlog;
// the reader never waits, so one slow handler cannot delay other streams or
// the pongs that keep the socket alive. Every drop is counted
// (Subscription.Dropped) and reported as EventDropped, coalesced to at most
// one event per subscription and WithDropReportInterval. Streams where a gap
// matters (order-book diffs) show it in their own sequence numbers, and the
// consumer resynchronises as the exchange documents. Choose Block only
// for handlers that are always fast, and CloseSubscription to fail loudly.
//
// # Reconnects and replacements
//
// A lost socket (error, close, or nothing received within the read timeout,
// by default Limits.PongDeadline) is reported as EventDisconnected and
// reopened with capped exponential backoff (WithBackoff); every stream is
// then subscribed again, in rate-limited batches, exactly once (events
// published while disconnected are lost). Ten minutes before
// Limits.ConnectionLifetime (WithReplaceAfter), or on a Dialect.Shutdown
// notice, the socket is replaced make-before-break: the new socket is opened
// and subscribed while the old one still delivers; each stream switches to
// the new socket at the first payload both have delivered (compared by
// hash), so the switch neither loses nor repeats events; after
// WithReplaceOverlap the old socket closes regardless, and only streams that
// had not switched by then can lose or repeat an event.
//
// # Concurrency
//
// Per socket: one supervisor goroutine (reconnects and replacements) and, per
// physical websocket, one reader and one writer; one goroutine per
// Subscription; one event dispatcher per Conn. Close waits for all of them.
package runtime
