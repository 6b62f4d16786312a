# wgtools: wg and wg-quick in Go.
#
#   make            build bin/wg and bin/wg-quick (static, no cgo)
#   make test       install test prerequisites (apt, Go modules), vet, run every test
#   make bench      benchmarks
#   make lint       gofmt, go vet, staticcheck (pinned in go.mod as a tool)
#   make install    install into $(DESTDIR)$(BINDIR)
#
# Install knobs follow wireguard-tools' Makefile.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
GO ?= go
GOFLAGS_BUILD ?= -trimpath -ldflags '-s -w'

export CGO_ENABLED ?= 0

.PHONY: all build test test-deps bench lint install uninstall fuzz clean

all: build

build:
	$(GO) build $(GOFLAGS_BUILD) -o bin/wg ./cmd/wg
	$(GO) build $(GOFLAGS_BUILD) -o bin/wg-quick ./cmd/wg-quick

# test-deps installs what the tests compare against and run in (the reference
# wg/wg-quick, wireguard-go, iproute2, ...); it is a no-op when present.
test-deps:
	./scripts/install-test-deps

test: test-deps
	$(GO) vet ./...
	GOOS=darwin $(GO) vet ./...
	$(GO) test -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

FUZZTIME ?= 10m
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseQuick -fuzztime $(FUZZTIME) ./internal/config

install: build
	install -d "$(DESTDIR)$(BINDIR)"
	install -m 0755 bin/wg "$(DESTDIR)$(BINDIR)/wg"
	install -m 0755 bin/wg-quick "$(DESTDIR)$(BINDIR)/wg-quick"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/wg" "$(DESTDIR)$(BINDIR)/wg-quick"

clean:
	rm -rf bin
