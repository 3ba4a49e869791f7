// Package dispatch runs event handlers in order on one goroutine, so that
// the code emitting events never waits for them and never holds a lock
// while they run.
package dispatch

import "sync"

// Dispatcher delivers events to its handlers, in order, on its own
// goroutine. The queue is unbounded: emitting never blocks.
type Dispatcher[E any] struct {
	handlers []func(E)

	mu     sync.Mutex
	queue  []E
	closed bool
	wake   chan struct{}
	done   chan struct{}
}

// New starts a Dispatcher for handlers.
func New[E any](handlers []func(E)) *Dispatcher[E] {
	d := &Dispatcher[E]{handlers: handlers, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go d.run()
	return d
}

// Emit queues e for the handlers; after Close it does nothing.
func (d *Dispatcher[E]) Emit(e E) {
	if len(d.handlers) == 0 {
		return
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.queue = append(d.queue, e)
	d.mu.Unlock()
	Signal(d.wake)
}

// Close delivers the events already queued, then stops the goroutine and
// waits for it.
func (d *Dispatcher[E]) Close() {
	d.Stop()
	<-d.done
}

// Stop is Close without the wait, for a handler that closes its own
// dispatcher: the goroutine ends once the handler returns and the queued
// events are delivered.
func (d *Dispatcher[E]) Stop() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	Signal(d.wake)
}

func (d *Dispatcher[E]) run() {
	defer close(d.done)
	for {
		<-d.wake
		for {
			d.mu.Lock()
			q, closed := d.queue, d.closed
			d.queue = nil
			d.mu.Unlock()
			if len(q) == 0 {
				if closed {
					return
				}
				break
			}
			for _, e := range q {
				for _, h := range d.handlers {
					h(e)
				}
			}
		}
	}
}

// Signal wakes the goroutine waiting on a one-slot channel without blocking.
func Signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
