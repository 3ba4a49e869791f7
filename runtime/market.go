package runtime

import "time"

// Market describes one exchange market: where to connect and the limits the
// exchange enforces. Each generated package exports one as its Market
// variable, built from schema/streams.yaml.
type Market struct {
	Name      string     // schema name of the market
	Venue     string     // schema name of the venue
	Dialect   Dialect    // how the venue's stream service is spoken
	Endpoints []Endpoint // the first is the default
	Routes    []string   // URL path routes (e.g. "public", "market"); empty when the market has none
	Limits    Limits
	// UserStream says how the market's user-data stream is reached; nil
	// when the market has none.
	UserStream *UserStream
}

// UserStream describes how a market's user-data (account) stream is opened.
type UserStream struct {
	REST          []Endpoint    // REST base URLs for the listen-key lifecycle, named like Endpoints
	ListenKeyPath string        // REST path that creates (POST), extends (PUT) and closes (DELETE) a listen key
	KeepAlive     time.Duration // how often to extend the key
	Validity      time.Duration // how long a key lives without being extended
	Route         string        // URL route of the user stream, e.g. "private"; "" for none
	WSAPI         []Endpoint    // WebSocket API endpoints where user data is subscribed by request
}

// Endpoint is a named base URL of a market, such as production or testnet.
type Endpoint struct {
	Name string
	URL  string
}

// Limits are the per-connection limits the exchange enforces.
type Limits struct {
	StreamsPerConnection     int           // most streams one connection may carry
	ControlMessagesPerSecond int           // most client frames (control, ping, pong) per second
	ConnectionLifetime       time.Duration // the exchange disconnects after this long
	PingInterval             time.Duration // how often the server pings
	PongDeadline             time.Duration // a connection that does not answer a ping for this long is dropped
	// ConnectionAttempts is the most new connections the exchange accepts
	// from one client within ConnectionWindow; 0 when it states none.
	ConnectionAttempts int
	ConnectionWindow   time.Duration
}

// Endpoint returns the URL of the named endpoint and whether it exists.
func (m *Market) Endpoint(name string) (string, bool) {
	for _, e := range m.Endpoints {
		if e.Name == name {
			return e.URL, true
		}
	}
	return "", false
}
