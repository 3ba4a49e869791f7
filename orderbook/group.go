package orderbook

import (
	"context"
	"errors"
	"sync"

	"github.com/marketwire/marketwire/runtime"
)

// Group is a set of books that learn of their Conn's socket losses: pass
// its Observe to runtime.OnEvent when dialling the Conn, then Open the
// books through it. While a socket is lost its books are not Synced
// (Suspect), so that nobody reads a book that may be missing updates.
//
//	g := orderbook.NewGroup()
//	c, err := runtime.Dial(ctx, &mkt.Market, runtime.OnEvent(g.Observe))
//	...
//	b, err := g.Open(ctx, c, &mkt.OrderBook, "BTCUSDT")
type Group struct {
	mu     sync.Mutex
	books  map[*Book]string // book -> route of its diff stream
	closed bool
}

// NewGroup returns an empty Group.
func NewGroup() *Group { return &Group{books: map[*Book]string{}} }

// Open opens a book (see Open) that belongs to the group.
func (g *Group) Open(ctx context.Context, c *runtime.Conn, spec *Spec, symbol string, opts ...Option) (*Book, error) {
	b, err := Open(ctx, c, spec, symbol, opts...)
	if err != nil {
		return nil, err
	}
	return g.add(b)
}

// OpenSnapshot opens a book kept from a snapshot stream (see
// OpenSnapshot) that belongs to the group: while its socket is lost it is
// not Synced, and the next message that is not older syncs it again.
func (g *Group) OpenSnapshot(ctx context.Context, c *runtime.Conn, spec *Spec, symbol string, opts ...Option) (*Book, error) {
	b, err := OpenSnapshot(ctx, c, spec, symbol, opts...)
	if err != nil {
		return nil, err
	}
	return g.add(b)
}

func (g *Group) add(b *Book) (*Book, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		b.Close()
		return nil, ErrClosed
	}
	g.books[b] = b.stream.Route
	return b, nil
}

// Observe takes a Conn's lifecycle event: on runtime.EventDisconnected the
// books whose diff stream is on the lost socket's route become Suspect.
func (g *Group) Observe(e runtime.Event) {
	if e.Kind != runtime.EventDisconnected {
		return
	}
	g.mu.Lock()
	var lost []*Book
	for b, route := range g.books {
		if route == e.Route {
			lost = append(lost, b)
		}
	}
	g.mu.Unlock()
	for _, b := range lost {
		b.Suspect()
	}
}

// Books returns the group's open books.
func (g *Group) Books() []*Book {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]*Book, 0, len(g.books))
	for b := range g.books {
		out = append(out, b)
	}
	return out
}

// Close closes every book of the group; later Opens fail.
func (g *Group) Close() error {
	g.mu.Lock()
	g.closed = true
	books := g.books
	g.books = map[*Book]string{}
	g.mu.Unlock()
	var errs []error
	for b := range books {
		errs = append(errs, b.Close())
	}
	return errors.Join(errs...)
}
