# wgtools: wg and wg-quick in Go.
#
#   make            build bin/wg and bin/wg-quick (static, no cgo)
#   make test       install test prerequisites (apt, Go modules), vet, run every test
#   make test-vm    (root) the tests that need the WireGuard kernel module or
#                   systemd as PID 1, in a qemu VM booting Debian's kernel
#   make bench      benchmarks
#   make lint       gofmt, go vet, staticcheck (pinned in go.mod as a tool)
#   make install    install binaries, man pages, completions and systemd units
#   make uninstall  remove what install installs (never /etc/wireguard)
#   make demo       (root) a tunnel between two network namespaces, then teardown
#   make package    dist/: a .deb, an .rpm and an .apk that replace wireguard-tools
#                   (scripts/package; VERSION and SOURCE_DATE_EPOCH are honoured)
#
# Install knobs follow wireguard-tools' Makefile: PREFIX, DESTDIR, BINDIR,
# MANDIR, SYSCONFDIR, BASHCOMPDIR, SYSTEMDUNITDIR ($(PREFIX)/lib/systemd/system,
# or pkg-config's systemdsystemunitdir for PREFIX=/usr), and the switches
# WITH_WGQUICK, WITH_BASHCOMPLETION, WITH_SYSTEMDUNITS, plus ZSHCOMPDIR,
# FISHCOMPDIR, WITH_ZSHCOMPLETION and WITH_FISHCOMPLETION. Unlike the
# reference, every switch defaults to yes instead of probing the build host
# (wg-quick is a Go binary and needs no bash; completion and unit files are
# inert where nothing reads them); set one to no to leave that part out.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
PKG_CONFIG ?= pkg-config
# The units go where systemd reads them for this PREFIX: for /usr, the
# distribution's place (pkg-config's systemdsystemunitdir); otherwise
# $(PREFIX)/lib/systemd/system, which systemd reads before /usr/lib's for
# /usr/local. So a /usr/local install never writes over, nor its uninstall
# deletes, the files a package manager owns (wireguard-tools' units).
ifeq ($(PREFIX),/usr)
SYSTEMDUNITDIR ?= $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir systemd 2>/dev/null || echo /usr/lib/systemd/system)
else
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
endif
WITH_WGQUICK ?= yes
WITH_BASHCOMPLETION ?= yes
WITH_ZSHCOMPLETION ?= yes
WITH_FISHCOMPLETION ?= yes
WITH_SYSTEMDUNITS ?= yes
GO ?= go
GOFLAGS_BUILD ?= -trimpath -ldflags '-s -w'

export CGO_ENABLED ?= 0

.PHONY: all build test test-vm test-deps bench lint install uninstall demo fuzz package clean

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
	$(GO) vet -tags faultinject ./cmd/wg-quick
	$(GO) vet -tags vmtest ./cmd/...
	$(GO) test -count=1 -skip '^TestKillAtEveryStep$$' ./...
	@# The kill -9 matrix, on its own so that its counts are shown.
	@$(GO) test -count=1 -v -run '^TestKillAtEveryStep$$' ./cmd/wg-quick >kill-matrix.log 2>&1; rc=$$?; \
	grep -E 'kill -9 matrix|^(--- |ok|FAIL)' kill-matrix.log; \
	if [ $$rc != 0 ]; then cat kill-matrix.log; exit 1; fi

# test-vm boots Debian's stock kernel (which has wireguard.ko) under qemu
# with this machine's root filesystem shared read-only, and runs there what
# cannot run here: the kernel-device tests (stage kernel) and systemd as
# PID 1 with and without the module (stages systemd, nomodule). It installs
# qemu, busybox-static and kmod and fetches the kernel package itself; see
# scripts/vm/README.md. VM_STAGES narrows it.
VM_STAGES ?=
test-vm: test-deps
	./scripts/vm/test-vm $(VM_STAGES)

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

FUZZTIME ?= 10m
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseQuick -fuzztime $(FUZZTIME) ./internal/config

# install: each part is guarded by its switch; the units get BINDIR
# substituted so that they start the binaries just installed.
install: build
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(MANDIR)/man8"
	install -m 0755 bin/wg "$(DESTDIR)$(BINDIR)/wg"
	install -m 0644 man/wg.8 "$(DESTDIR)$(MANDIR)/man8/wg.8"
	@if [ "$(WITH_BASHCOMPLETION)" = yes ]; then set -x; \
	install -d "$(DESTDIR)$(BASHCOMPDIR)" && \
	install -m 0644 completion/wg.bash "$(DESTDIR)$(BASHCOMPDIR)/wg"; fi
	@if [ "$(WITH_ZSHCOMPLETION)" = yes ]; then set -x; \
	install -d "$(DESTDIR)$(ZSHCOMPDIR)" && \
	install -m 0644 completion/_wg "$(DESTDIR)$(ZSHCOMPDIR)/_wg"; fi
	@if [ "$(WITH_FISHCOMPLETION)" = yes ]; then set -x; \
	install -d "$(DESTDIR)$(FISHCOMPDIR)" && \
	install -m 0644 completion/wg.fish "$(DESTDIR)$(FISHCOMPDIR)/wg.fish"; fi
	@if [ "$(WITH_WGQUICK)" = yes ]; then set -x; \
	install -m 0755 bin/wg-quick "$(DESTDIR)$(BINDIR)/wg-quick" && \
	install -m 0644 man/wg-quick.8 "$(DESTDIR)$(MANDIR)/man8/wg-quick.8" && \
	install -d -m 0700 "$(DESTDIR)$(SYSCONFDIR)/wireguard"; fi
	@if [ "$(WITH_WGQUICK)" = yes ] && [ "$(WITH_BASHCOMPLETION)" = yes ]; then set -x; \
	install -m 0644 completion/wg-quick.bash "$(DESTDIR)$(BASHCOMPDIR)/wg-quick"; fi
	@if [ "$(WITH_WGQUICK)" = yes ] && [ "$(WITH_ZSHCOMPLETION)" = yes ]; then set -x; \
	install -m 0644 completion/_wg-quick "$(DESTDIR)$(ZSHCOMPDIR)/_wg-quick"; fi
	@if [ "$(WITH_WGQUICK)" = yes ] && [ "$(WITH_FISHCOMPLETION)" = yes ]; then set -x; \
	install -m 0644 completion/wg-quick.fish "$(DESTDIR)$(FISHCOMPDIR)/wg-quick.fish"; fi
	@if [ "$(WITH_WGQUICK)" = yes ] && [ "$(WITH_SYSTEMDUNITS)" = yes ]; then \
	case "$(BINDIR)" in /*) ;; *) echo "BINDIR=$(BINDIR): the systemd units need an absolute path" >&2; exit 1;; esac; set -x; \
	install -d "$(DESTDIR)$(SYSTEMDUNITDIR)" && \
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/wg-quick@.service.in >"$(DESTDIR)$(SYSTEMDUNITDIR)/wg-quick@.service" && \
	chmod 0644 "$(DESTDIR)$(SYSTEMDUNITDIR)/wg-quick@.service" && \
	install -m 0644 systemd/wg-quick.target "$(DESTDIR)$(SYSTEMDUNITDIR)/wg-quick.target" && \
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/wg-quick-reresolve@.service.in >"$(DESTDIR)$(SYSTEMDUNITDIR)/wg-quick-reresolve@.service" && \
	chmod 0644 "$(DESTDIR)$(SYSTEMDUNITDIR)/wg-quick-reresolve@.service" && \
	install -m 0644 systemd/wg-quick-reresolve@.timer "$(DESTDIR)$(SYSTEMDUNITDIR)/wg-quick-reresolve@.timer"; fi

# uninstall removes every file install may have put in place, whatever the
# switches, and leaves $(SYSCONFDIR)/wireguard (it holds configurations).
uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/wg" "$(DESTDIR)$(BINDIR)/wg-quick" \
		"$(DESTDIR)$(MANDIR)/man8/wg.8" "$(DESTDIR)$(MANDIR)/man8/wg-quick.8" \
		"$(DESTDIR)$(BASHCOMPDIR)/wg" "$(DESTDIR)$(BASHCOMPDIR)/wg-quick" \
		"$(DESTDIR)$(ZSHCOMPDIR)/_wg" "$(DESTDIR)$(ZSHCOMPDIR)/_wg-quick" \
		"$(DESTDIR)$(FISHCOMPDIR)/wg.fish" "$(DESTDIR)$(FISHCOMPDIR)/wg-quick.fish" \
		"$(DESTDIR)$(SYSTEMDUNITDIR)/wg-quick@.service" "$(DESTDIR)$(SYSTEMDUNITDIR)/wg-quick.target" \
		"$(DESTDIR)$(SYSTEMDUNITDIR)/wg-quick-reresolve@.service" "$(DESTDIR)$(SYSTEMDUNITDIR)/wg-quick-reresolve@.timer"

# demo needs root: two network namespaces, a tunnel between them, a ping,
# and a teardown that runs even when a step fails.
demo: build
	./scripts/demo

# package builds the packages from the files install installs (PREFIX=/usr),
# with nfpm pinned in tools/go.mod; see scripts/package.
package:
	./scripts/package dist

clean:
	rm -rf bin dist
