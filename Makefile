# llcr build, test and benchmark entry points. `make help` lists the targets.
#
# GOFLAGS from the environment is honoured by every go command as usual;
# BUILDFLAGS adds flags to `go build` only.

GO          ?= go
BUILDFLAGS  ?=
BIN         := bin/container
CNI_BIN     := bin/cni
PREFIX      ?= /usr/local
CNI_INSTALL ?= /usr/libexec/llcr/cni
# Reference plugins built from the pinned containernetworking/plugins module
# next to our own, so a runtime's CNI_PATH needs only bin/cni.
CNI_PLUGINS := \
	github.com/containernetworking/plugins/plugins/main/bridge \
	github.com/containernetworking/plugins/plugins/main/loopback \
	github.com/containernetworking/plugins/plugins/ipam/host-local \
	github.com/containernetworking/plugins/plugins/meta/portmap \
	github.com/containernetworking/plugins/plugins/meta/firewall \
	github.com/containernetworking/plugins/plugins/meta/tuning
ROOTFS      := build/rootfs
BUSYBOX     ?= /bin/busybox
TEST_TIMEOUT ?= 20m

# Packages needed on a fresh Debian/Ubuntu machine: busybox-static for the
# rootfs, iptables/iproute2 for networking, runc/crun/jq for the benchmark,
# gcc and libc6-dev for `go test -race` (cgo).
APT_PACKAGES := busybox-static iptables iproute2 runc crun jq hyperfine gcc libc6-dev make

.PHONY: all build cni install rootfs deps demo test test-unit test-e2e bench fmt vet clean help

all: build

# Always delegate to go: its build cache decides what is stale, so a
# file-based make rule here would only get it wrong.
build: cni
	$(GO) build -trimpath $(BUILDFLAGS) -o $(BIN) ./cmd/container
	$(GO) build -trimpath $(BUILDFLAGS) -o bin/llcr-init ./cmd/llcr-init

cni:
	@mkdir -p $(CNI_BIN)
	$(GO) build -trimpath $(BUILDFLAGS) -o $(CNI_BIN)/ ./cmd/llcr-veth $(CNI_PLUGINS)

install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/container
	install -D -m 0755 bin/llcr-init $(DESTDIR)/usr/libexec/llcr/llcr-init
	install -d $(DESTDIR)$(CNI_INSTALL)
	install -m 0755 $(CNI_BIN)/* $(DESTDIR)$(CNI_INSTALL)/

rootfs:
	@if [ ! -x "$(BUSYBOX)" ]; then \
		echo "error: $(BUSYBOX) is missing; install it with: apt-get install busybox-static (or run: make deps)" >&2; \
		exit 1; \
	fi
	BUSYBOX=$(BUSYBOX) scripts/mkrootfs.sh $(ROOTFS)

deps:
	DEBIAN_FRONTEND=noninteractive apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(APT_PACKAGES)
	$(GO) mod download

demo:
	$(MAKE) deps
	$(MAKE) build rootfs
	scripts/demo.sh $(BIN) $(ROOTFS)

test: build rootfs
	$(MAKE) test-unit
	$(MAKE) test-e2e

# -race needs cgo; CI installs gcc for it.
test-unit:
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $$($(GO) list ./... | grep -v -e '/e2e$$' -e '/e2e/')

# The e2e suite creates namespaces, cgroups and mounts: it needs root, and -p 1
# keeps its packages from competing for the same host resources.
test-e2e:
	LLCR_BIN=$(CURDIR)/$(BIN) LLCR_ROOTFS=$(CURDIR)/$(ROOTFS) \
		$(GO) test -count=1 -p 1 -timeout $(TEST_TIMEOUT) ./e2e/...

bench: build rootfs
	LLCR_BIN=$(CURDIR)/$(BIN) LLCR_ROOTFS=$(CURDIR)/$(ROOTFS) scripts/bench.sh

fmt:
	gofmt -l -w $$($(GO) list -f '{{.Dir}}' ./...)

vet:
	$(GO) vet ./...

clean:
	rm -rf bin build

help:
	@echo "make [build]  build $(BIN) and the CNI plugins"
	@echo "make cni      build the CNI plugins into $(CNI_BIN)"
	@echo "make install  install $(BIN) to $(PREFIX)/bin, plugins to $(CNI_INSTALL)"
	@echo "make rootfs   build the busybox rootfs in $(ROOTFS)"
	@echo "make deps     install system packages (apt) and Go modules"
	@echo "make demo     deps + build + rootfs, then run an isolated container"
	@echo "make test     unit tests (-race) and the e2e suite (needs root)"
	@echo "make bench    container start latency: llcr vs runc vs crun"
	@echo "make fmt|vet|clean"

# Pure cgroup v2: the unit tests of runtime/... and the e2e suite, as root in
# a qemu VM booted with cgroup_no_v1=all (scripts/vm/run.sh). Needs
# qemu-system-x86, cpio, busybox-static and e2fsprogs; fetches a Debian
# kernel package with apt-get download into build/vm.
.PHONY: test-v2
test-v2: build rootfs
	GO=$(GO) LLCR_BIN=$(CURDIR)/$(BIN) LLCR_ROOTFS=$(CURDIR)/$(ROOTFS) scripts/vm/run.sh
