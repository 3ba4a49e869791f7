// Package runtime is the hand-written connection layer behind the generated
// market packages (generated/<market>): typed, reliable access to exchange
// WebSocket streams.
//
// The runtime knows no venue. Each Market carries its venue's Dialect,
// generated from the schema: where a socket connects, the subscribe and
// unsubscribe messages, how replies are matched, how a data frame finds its
// stream, which frames are control, the client's keep-alive message and the
// login. A Conn multiplexes streams over one socket per route (spread over
// as many sockets as the venue's streams-per-connection limit requires),
// subscribes live, and demultiplexes each frame with a hand-written scanner that finds
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
// subscription (DropOldest by default, see below). The socket's reader does
// the least it can for every frame: it finds the stream, reads the payload's
// sequence key without decoding it (Stream.SeqRaw) and queues the payload,
// gathering the payloads of one read from the network under one lock; the
// subscription's goroutine decodes it (Stream.Deferred, set on every
// generated stream), so the streams of one connection decode in parallel. Lifecycle events and
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
// # Other sources
//
// The generated helpers take a Source, which *Conn implements. A program
// that receives the same payloads another way (a message bus fed by a
// collector, a recording) implements Source on a Feed: it registers each
// subscription with Feed.Subscribe, passes every payload to Feed.Deliver,
// and gets the same queues, overflow policies, decode errors as events,
// gap reports, Unsubscribe and Close as a Conn gives.
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
// A lost socket (error, close, or nothing received within the read timeout)
// is reported as EventDisconnected and reopened: at once (with a little
// jitter) after a clean drop, with growing delays (WithBackoff) while
// attempts keep failing, including sockets lost soon after they subscribed
// (WithStableAfter), and never more often than the exchange's connection
// budget (Limits.ConnectionAttempts, shared by the Conns of a process). Every
// stream is then subscribed again exactly once, in rate-limited batches; when
// the server refuses a batch, it is split in halves until the refused streams
// are found, and only those end (EventSubscriptionClosed with their
// *ServerError). Events published while disconnected are lost; on streams
// whose sequence key reveals gaps (trade ids, diff-depth update ids) the
// missing range is reported as EventGap.
//
// A quiet socket is probed (a WebSocket ping, or the venue's ping message,
// per Dialect.ProbePing and Probe) so that a half-open connection is noticed
// within the read timeout and an eighth (9 s by default on venues that answer probes).
//
// Ten minutes before Limits.ConnectionLifetime (WithReplaceAfter), or on a
// Dialect.Shutdown notice, the socket is replaced make-before-break: the new
// socket is opened and subscribed while the old one still delivers, and each
// stream switches to the new socket where the two overlap by its sequence
// key (Stream.Seq), so that every event is delivered once and in order
// whatever the two sockets' lag. See the handoff type in handoff.go.
//
// # Handlers, Unsubscribe and Close
//
// A panic in a handler is recovered and reported as EventPanic with its
// stack (a *PanicError); a subscription whose handler panicked ends, the
// others go on. WithCrashOnPanic restores Go's default. When Unsubscribe or
// Close returns, the handlers they end are not running and are not called
// again: events still queued are dropped and counted (Subscription.Dropped).
// Both may be called from a handler; they then return without waiting for
// that handler's own call.
//
// # Bounded resources
//
// Every subscription queue is bounded in events (WithQueueSize, 65,536 by
// default; the ring is made with the first event, 8 long, and grows when needed) and bytes
// (WithQueueBytes, 16 MiB). When a queue is full the reader first yields
// the processor to the subscription's goroutine a few times (it is often
// waiting for a core, not slow, and drains the whole queue at once); only
// then does the overflow policy apply. Repeated errors of one kind (malformed frames, frames of
// unknown streams, payloads a decoder rejects) and a stream's gaps are
// coalesced into one event per WithDropReportInterval, whose Count says how
// many it stands for; Conn.Stats counts every one.
//
// # Frame memory
//
// A link reads each frame into the free tail of a 16 KiB chunk that is never
// written again, and the generated decoders let the strings and decimals of
// an event alias it: no frame is copied. An event kept after its handler
// returns stays valid; it keeps its chunk alive, so to keep one field of
// many events for long, copy it (strings.Clone). After a frame larger than
// 1 MiB the link starts a new chunk.
//
// The generated decoders (Stream.NewDecoder) carve new events, and their
// slices such as price levels, from slabs of about 16 KiB, one allocation
// per slab instead of one per event; a kept event keeps its slab alive in
// the same way. With WithBorrow a handler borrows its events instead: each
// is valid until the handler returns, after which a later event is decoded
// into the same memory, and a warm subscription allocates nothing per
// message. WithInline goes further: the handler runs on the reader
// goroutine itself, with no queue and no hand-off, for the lowest latency,
// at the price of holding up the connection's other streams while it runs.
//
// # Concurrency
//
// Per socket: one supervisor goroutine (reconnects and replacements) and, per
// physical websocket, one reader and one writer; one goroutine per
// Subscription; one event dispatcher per Conn. Close waits for all of them.
package runtime
