package runtime

import "context"

// Source is what the generated Subscribe helpers need from a connection:
// subscribe streams and deliver their decoded events to Subscriptions.
// *Conn is the Source of a market's own WebSocket service; a program that
// receives the same payloads another way (a message bus, a recording)
// implements Source with a Feed, and the same typed helpers work on it.
type Source interface {
	// Subscribe subscribes to one stream and calls handle with each decoded
	// event, in order, on the subscription's own goroutine (see
	// Conn.Subscribe).
	Subscribe(ctx context.Context, st Stream, handle func(any), opts ...SubscribeOption) (*Subscription, error)
	// SubscribeAll subscribes to every stream of streams and waits until
	// each one is confirmed or refused (see Conn.SubscribeAll).
	SubscribeAll(ctx context.Context, streams []Stream, handle func(any), opts ...SubscribeOption) ([]*Subscription, error)
	// Market returns the market whose streams the Source delivers (nil for
	// a nil Source).
	Market() *Market
}

var _ Source = (*Conn)(nil)
