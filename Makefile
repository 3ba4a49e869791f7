# marketwire — see README.md.
GO ?= go
SCHEMA := schema/streams.yaml

.PHONY: generate verify-generated test check bench demo demo-dex demo-zdex demo-tail

## generate: regenerate generated/ from the schema
generate:
	$(GO) run ./gen/cmd/mwgen -schema $(SCHEMA) -out generated

## verify-generated: fail when generated/ is not what the schema produces
verify-generated:
	$(GO) run ./gen/cmd/mwgen -schema $(SCHEMA) -out generated -verify

## test: the full test suite, with the race detector (what CI runs)
test: verify-generated
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

## check: test, plus formatting
check: test
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## demo: a few seconds of typed trades from the embedded exchange simulator
demo:
	$(GO) run ./examples/trades -for 5s

## demo-dex: a few seconds of typed Binance DEX trades, depth, blocks and account events from its simulator
demo-dex:
	$(GO) run ./examples/dex -for 5s

## demo-zdex: a few seconds of typed ZDEX ticker, book and account events from its simulator
demo-zdex:
	$(GO) run ./examples/zdex -for 5s

## demo-tail: a few seconds of marketwire tail (typed lines from the embedded simulator)
demo-tail:
	$(GO) run ./cmd/marketwire tail -for 5s btcusdt@aggTrade btcusdt@bookTicker

## bench: decode benchmarks (next to goccy/go-json and encoding/json) and end to end against a pre-serialized feed (bench/: next to a bare read, gorilla+goccy; latency; 1,000 streams)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./generated/ ./wire/ ./bench/
