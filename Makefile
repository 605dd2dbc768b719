# The two commands a newcomer needs are `make run` and `make test` (see README.md).
GO ?= go

.PHONY: run test build vet fuzz bench

run:
	$(GO) run ./cmd/ringo serve

build:
	$(GO) build -o ringo ./cmd/ringo

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

# Unit, in-process SIP and interop tests. Interop tests skip when their tools
# (sipp, baresip, sipvicious) are missing unless RINGO_INTEROP=require.
test: vet
	$(GO) test -race -count=1 -timeout 30m ./...

# Each fuzz target for a short while (longer: FUZZTIME=5m make fuzz).
FUZZTIME ?= 15s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# Whole-system benchmarks (not tests); see docs/benchmarks.md.
bench:
	./bench/sipp-bench.sh
