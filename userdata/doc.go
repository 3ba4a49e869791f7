// Package userdata delivers an account's user-data stream (orders, trades,
// balances, positions) of a Binance market as typed events, and keeps it
// alive.
//
// Usage:
//
//	creds := userdata.NewHMAC(os.Getenv("BINANCE_API_KEY"), os.Getenv("BINANCE_API_SECRET"))
//	st, err := userdata.Open(ctx, &usdm.Market, creds, func(p markets.Payload) {
//		switch ev := p.(type) {
//		case *usdm.OrderTradeUpdateEvent:
//			fmt.Println(ev.Order.Symbol, ev.Order.ExecutionType)
//		case *wire.UnknownEvent:
//			fmt.Println("new event kind", ev.Kind)
//		}
//	}, userdata.OnEvent(func(e userdata.Event) { log.Println(e) }))
//	if err != nil {
//		return err
//	}
//	defer st.Close()
//
// # Markets
//
// USDⓈ-M, COIN-M and options use a listen key: Open creates it over REST
// (POST with the X-MBX-APIKEY header), subscribes it as a stream on the
// market's user route (/private on USDⓈ-M and options) through a
// runtime.Conn, extends it every KeepAlive (30 minutes, half its 60-minute
// validity) and deletes it on Close. When the exchange sends
// listenKeyExpired, when a keep-alive fails (-1125 "This listenKey does not
// exist." or a network error) or when the exchange refuses the key on a
// resubscription, a key is created again and subscribed before the old one
// is unsubscribed; EventKeyReplaced and EventGap report it. After a lost
// socket the runtime resubscribes on its own, and the key is checked at once
// because a listenKeyExpired sent meanwhile is lost.
//
// Spot uses the WebSocket API: userDataStream.subscribe.signature signed
// with the key (HMAC-SHA256, Ed25519 or RSA), or, for Ed25519 keys,
// session.logon followed by userDataStream.subscribe. Events arrive as
// {"subscriptionId":N,"event":{...}} and are unwrapped; bare events and
// {"stream","data"} envelopes are accepted too. After a lost connection the
// session is opened, logged on and subscribed again; after
// eventStreamTerminated of its subscription it subscribes again.
//
// # Gaps
//
// The exchange does not replay user events. Whenever events may have been
// missed (socket lost, key expired, subscription terminated) an EventGap
// gives the window: events after its To are delivered, in order. Its From
// is the last moment the stream was known to deliver: the latest event or
// subscription, and on the WebSocket API the latest ping or pong of the
// subscribed session; on a quiet listen-key stream the window can be long.
// Fetch the account state over REST after a gap if it matters.
//
// # Secrets
//
// Credentials are opaque and print only a redacted form ("HMAC key
// vmPU…h8A"). Listen keys never leave the package; errors and events are
// scrubbed of the API key, secret, recent signatures and every listen key
// the Stream used, and runtime frame errors are re-wrapped without the
// frame text. Requests carry the API key only in the X-MBX-APIKEY header
// (REST) or the signed params (WebSocket API), never in a URL. Payloads are
// delivered as the exchange sent them: a listenKeyExpired event names the
// (expired) key in its ListenKey field, so print it with Redact.
//
// # Concurrency
//
// The handler runs one call at a time, in arrival order. Decoded events wait
// in a bounded queue (WithQueueSize); when it is full the connection's
// reader waits, so user events are never dropped. Lifecycle events reach
// OnEvent handlers in order on one goroutine. Close waits for every
// goroutine the Stream started.
package userdata
