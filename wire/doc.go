// Package wire is the small hand-written core that generated market-data
// bindings call to decode and encode exchange WebSocket payloads.
//
// # Allocation model
//
// A generated UnmarshalJSON calls [Decoder.Reset], which copies the payload
// once into a string. That copy is the only allocation made while decoding
// a fixed-size event: every string, [Decimal] and [Raw] value the
// [Decoder] returns is a substring of it. The one exception is a JSON string
// that contains escape sequences; it is unescaped into a new string.
//
// Because values share the copy, keeping any of them (a symbol, a price)
// keeps the whole payload copy alive. Clone a value with strings.Clone if
// you keep a small part of many large payloads for a long time.
//
// # Exactness
//
// Object keys are compared byte for byte, so "m" and "M" are different keys.
// Decimals keep their wire text; they are never rounded through float64.
// Malformed input makes a method return an error; it never panics.
//
// # Drift
//
// Generated decoders skip keys the schema does not know and dispatch
// functions return event kinds it does not know as an [UnknownEvent]; both
// are counted, with the payloads that lacked a required key or named
// another event, in a process-wide report: [DriftReport]. A decoder
// reaches it only from the branch of an unknown key and from its error
// return, so a payload whose keys are all known pays one pointer store
// (UnmarshalJSON setting [Decoder].Drift) and nothing else.
//
// # Encoding
//
// The Append functions write JSON values in the form the exchange uses, for
// generated MarshalJSON methods.
//
// # Stream names
//
// [Template] parses stream-name templates such as
// "<symbol>@depth<levels>[@<speed>]" and matches stream names against them.
package wire
