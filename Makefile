# marketwire — see README.md.
GO ?= go
SCHEMA := schema/streams.yaml

.PHONY: generate verify-generated golden test check bench bench-book demo demo-book demo-dex demo-zdex demo-tail demo-nats

## generate: regenerate generated/ from the schema
generate:
	$(GO) run ./gen/cmd/mwgen -schema $(SCHEMA) -out generated

## verify-generated: fail when generated/ is not what the schema produces
verify-generated:
	$(GO) run ./gen/cmd/mwgen -schema $(SCHEMA) -out generated -verify

## golden: after an intended schema change, regenerate and rewrite the fixtures' golden values (generated/golden_values_test.go)
golden: generate
	$(GO) test ./generated -run '^TestFixtures$$' -count=1 -tags golden_update -update

# The golden values are Go literals of the generated types: a field removed
# or renamed in the schema stops them compiling, which vet reports first.
GOLDEN_HINT := generated/golden_values_test.go does not match the schema; if the schema change is intended, run: make golden

## test: the full test suite, with the race detector (what CI runs)
test: verify-generated
	@out=$$($(GO) vet ./generated 2>&1) || { printf '%s\n' "$$out"; if printf '%s\n' "$$out" | grep -q 'golden_values_test.go'; then echo "$(GOLDEN_HINT)"; fi; exit 1; }
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

# staticcheck, pinned (.ci/run installs the same version); 2026.2.x supports Go 1.26.
STATICCHECK ?= staticcheck
STATICCHECK_VERSION := v0.8.2
# Findings that are only uses of a deprecated generated field or type (the
# schema marks them deprecated as the exchange does; tests still decode them).
STATICCHECK_GENERATED_DEPRECATED := marketwire/generated/[a-z]+\.[A-Za-z0-9]+\)?(\.[A-Za-z0-9]+)? is deprecated: .*\(SA1019\)$$

## check: test, plus formatting and staticcheck (no finding but uses of deprecated generated fields)
check: test
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@command -v $(STATICCHECK) >/dev/null 2>&1 || { echo "staticcheck not found; install it with: go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)"; exit 1; }
	@out=$$($(STATICCHECK) ./... 2>&1); status=$$?; \
	rest=$$(printf '%s\n' "$$out" | grep -Ev '$(STATICCHECK_GENERATED_DEPRECATED)' | grep -v '^$$'); \
	if [ -n "$$rest" ] || { [ $$status -ne 0 ] && [ -z "$$out" ]; }; then echo "staticcheck:"; echo "$$rest"; exit 1; fi; \
	echo "staticcheck: no findings (besides $$(printf '%s\n' "$$out" | grep -cE '$(STATICCHECK_GENERATED_DEPRECATED)') uses of deprecated generated fields)"

## demo: a few seconds of typed trades from the embedded exchange simulator
demo:
	$(GO) run ./examples/trades -for 5s

## demo-book: a few seconds of a local order book's top-5 ladder from the embedded simulator
demo-book:
	$(GO) run ./examples/book -for 5s

## demo-dex: a few seconds of typed Binance DEX trades, depth, blocks and account events from its simulator
demo-dex:
	$(GO) run ./examples/dex -for 5s

## demo-zdex: a few seconds of typed ZDEX ticker, book and account events from its simulator
demo-zdex:
	$(GO) run ./examples/zdex -for 5s

## demo-tail: a few seconds of marketwire tail (typed lines from the embedded simulator)
demo-tail:
	$(GO) run ./cmd/marketwire tail -for 5s btcusdt@aggTrade btcusdt@bookTicker

## demo-nats: an embedded NATS JetStream server, two bridges publishing the same trades, a consumer printing them typed (one bridge stops halfway; nothing is lost)
demo-nats:
	$(GO) run ./examples/natsdemo -for 6s

## bench: decode benchmarks (next to goccy/go-json and encoding/json) and end to end against a pre-serialized feed (bench/: next to a bare read, gorilla+goccy; latency; 1,000 streams); natsbridge/: through an embedded JetStream
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./generated/ ./wire/ ./bench/ ./natsbridge/

## bench-book: order-book benchmarks (apply a 20+20 diff, read the top 20, memory per 5,000-level book; flat slice and map baselines)
bench-book:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./orderbook/
