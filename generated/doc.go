// Package generated holds, in one subdirectory per market, the bindings that
// marketwire/gen emits from schema/streams.yaml: typed events and enums,
// stream parameter types and name builders, decoders and encoders.
//
// Everything below this directory except testdata and this package's own
// files is generated; edit the schema and run `make generate` instead.
package generated

//go:generate go run ../gen/cmd/mwgen -schema ../schema/streams.yaml -out . -import github.com/marketwire/marketwire/generated
