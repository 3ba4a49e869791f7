package natsbridge

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/marketwire/marketwire/runtime"
)

// Defaults of the JetStream stream a Bridge creates when it does not exist
// (see StreamConfig), and of the consumers of a Source.
const (
	// DefaultStream is the name of the JetStream stream.
	DefaultStream = "MARKETWIRE"
	// DefaultDuplicateWindow is how long JetStream remembers a Nats-Msg-Id.
	// It must cover the longest delay between the first and the last
	// bridge publishing one event: their lag behind the exchange
	// (milliseconds), plus a publish retried across a NATS server failure
	// or a leader election (seconds), plus a bridge's queue catching up
	// after it. A minute covers that with a wide margin. JetStream keeps
	// every id of the window in memory (about 100 bytes each), so a longer
	// window costs memory in proportion to the message rate: a minute at
	// 20,000 messages/s is about 120 MB.
	DefaultDuplicateWindow = time.Minute
	// DefaultMaxAge is how long the stream keeps messages: a day of
	// history to replay from (StartAt, StartSequence).
	DefaultMaxAge = 24 * time.Hour
	// DefaultAckWait bounds one publish attempt of a Bridge; a publish
	// that fails is retried with the same Nats-Msg-Id until it is
	// acknowledged or the Bridge is closed. A publish sent to a server that
	// just died is never answered, so this bounds the pause a server loss
	// causes; it is short because a retry of a message that was stored
	// after all costs only a duplicate, which JetStream drops.
	DefaultAckWait = time.Second
	// DefaultGapWait is how long a Bridge whose next event does not follow
	// the last one stored waits for other bridges to store the events
	// between (see Bridge). It covers another bridge catching up after a
	// NATS server failure.
	DefaultGapWait = 5 * time.Second
	// DefaultHeartbeat is the idle heartbeat of a Source's consumers: a
	// consumer lost with its server is recreated, from the message after
	// the last delivered, within about two heartbeats.
	DefaultHeartbeat = time.Second
)

// Option configures a Bridge or a Source.
type Option func(*options) error

type options struct {
	stream    string
	config    *jetstream.StreamConfig
	create    bool
	batches   bool
	ackWait   time.Duration
	gapWait   time.Duration
	onError   func(error)
	heartbeat time.Duration
	deliver   jetstream.DeliverPolicy
	startSeq  uint64
	startTime time.Time
	feedOpts  []runtime.Option
}

func buildOptions(opts []Option) (options, error) {
	o := options{stream: DefaultStream, create: true, batches: true, ackWait: DefaultAckWait, gapWait: DefaultGapWait, heartbeat: DefaultHeartbeat, deliver: jetstream.DeliverNewPolicy, onError: func(error) {}}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

// WithStream names the JetStream stream (DefaultStream when not given).
func WithStream(name string) Option {
	return func(o *options) error {
		if name == "" {
			return errors.New("natsbridge: WithStream: empty name")
		}
		o.stream = name
		return nil
	}
}

// WithStreamConfig is the configuration a Bridge creates the stream with
// when it does not exist, instead of StreamConfig's defaults (for example
// Replicas: 3 on a cluster). Its Name, when set, overrides WithStream; its
// Subjects must cover mw.>.
func WithStreamConfig(cfg jetstream.StreamConfig) Option {
	return func(o *options) error {
		if cfg.Name != "" {
			o.stream = cfg.Name
		}
		o.config = &cfg
		return nil
	}
}

// WithoutCreate makes NewBridge fail when the stream does not exist,
// instead of creating it.
func WithoutCreate() Option {
	return func(o *options) error { o.create = false; return nil }
}

// WithoutBatches makes a Bridge publish every message on its own, waiting
// for its acknowledgement, instead of in fast batches. That is what a
// Bridge does anyway when its JetStream stream does not allow fast batches
// (StreamConfig's AllowBatchPublish; nats-server 2.14 or later). One at a
// time costs a round trip per message, so a stream publishes a few
// thousand messages a second instead of tens of thousands.
func WithoutBatches() Option {
	return func(o *options) error { o.batches = false; return nil }
}

// WithAckWait bounds each publish attempt of a Bridge (DefaultAckWait).
func WithAckWait(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return errors.New("natsbridge: WithAckWait: not positive")
		}
		o.ackWait = d
		return nil
	}
}

// WithGapWait sets how long a Bridge waits for other bridges to store
// missing events before it publishes after the gap (DefaultGapWait).
func WithGapWait(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return errors.New("natsbridge: WithGapWait: negative")
		}
		o.gapWait = d
		return nil
	}
}

// OnError is called with each failed publish attempt of a Bridge (the
// publish is retried; Stats counts them) and each gap it publishes after,
// from the publishing goroutine.
func OnError(fn func(error)) Option {
	return func(o *options) error {
		if fn != nil {
			o.onError = fn
		}
		return nil
	}
}

// WithHeartbeat sets the idle heartbeat of a Source's consumers
// (DefaultHeartbeat), from 500 ms (JetStream's least) to 30 s. A consumer
// that has delivered nothing for 3 heartbeats while its subject has later
// messages stored is replaced (see Source).
func WithHeartbeat(d time.Duration) Option {
	return func(o *options) error {
		if d < 500*time.Millisecond || d > 30*time.Second {
			return fmt.Errorf("natsbridge: WithHeartbeat: %v is outside 500ms..30s", d)
		}
		o.heartbeat = d
		return nil
	}
}

// StartNew makes a Source deliver the messages published after each
// Subscribe: the default.
func StartNew() Option {
	return func(o *options) error { o.deliver = jetstream.DeliverNewPolicy; return nil }
}

// StartAll makes a Source deliver each stream from the oldest message the
// JetStream stream keeps.
func StartAll() Option {
	return func(o *options) error { o.deliver = jetstream.DeliverAllPolicy; return nil }
}

// StartAt makes a Source deliver each stream from the first message stored
// at or after t.
func StartAt(t time.Time) Option {
	return func(o *options) error {
		o.deliver, o.startTime = jetstream.DeliverByStartTimePolicy, t
		return nil
	}
}

// StartSequence makes a Source deliver each stream from its first message
// whose JetStream stream sequence is seq or more (the sequence a consumer
// reads in each message's metadata, and Bridge.Stats reports the last of).
func StartSequence(seq uint64) Option {
	return func(o *options) error {
		if seq == 0 {
			return errors.New("natsbridge: StartSequence: sequences start at 1")
		}
		o.deliver, o.startSeq = jetstream.DeliverByStartSequencePolicy, seq
		return nil
	}
}

// WithFeedOptions passes options to the runtime.Feed of a Source, such as
// runtime.OnEvent and runtime.WithDropReportInterval.
func WithFeedOptions(opts ...runtime.Option) Option {
	return func(o *options) error { o.feedOpts = append(o.feedOpts, opts...); return nil }
}

// StreamConfig returns the configuration a Bridge creates a missing stream
// with: the given name, the subjects mw.>, file storage, one replica, the
// duplicate window DefaultDuplicateWindow, messages kept for DefaultMaxAge
// (oldest discarded first).
func StreamConfig(name string) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:       name,
		Subjects:   []string{SubjectPrefix + ".>"},
		Storage:    jetstream.FileStorage,
		Replicas:   1,
		Duplicates: DefaultDuplicateWindow,
		MaxAge:     DefaultMaxAge,
		Discard:    jetstream.DiscardOld,
		// Lets bridges publish in fast batches (see Bridge).
		AllowBatchPublish: true,
	}
}
