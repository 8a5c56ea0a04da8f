# teelab - QEMU-backed integration lab for the Linux TEE subsystem and OP-TEE
#
#   make               build ./teelab
#   make check         unit tests + one real end-to-end boot (what CI runs)
#   make unit          unit tests only (cmocka, TAP through prove)
#   make e2e           every end-to-end test (boots the real stack)
#   make bench         speed targets (cached xtest-smoke run under 10 s)
#   make nightly       the nightly matrix in parallel + its report (NIGHTLY_FLAGS="-j 1 --compare DIR")
#   make deps          install the host packages (Debian bookworm, as root)
#   make install PREFIX=/usr/local DESTDIR=

PREFIX ?= /usr/local
DATADIR ?= $(PREFIX)/share/teelab
BINDIR ?= $(PREFIX)/bin
CC ?= cc
PKGS := libarchive yaml-0.1 jansson libcrypto libssh libvirt libvirt-qemu
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wno-format-nonliteral -Wundef -Wpointer-arith -Werror
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) -D_GNU_SOURCE \
	-DTEELAB_DATADIR='"$(DATADIR)"' $(shell pkg-config --cflags $(PKGS)) \
	-DTEELAB_LIBVIRT_DRIVERS='"$(shell pkg-config --variable=libdir libvirt)/libvirt/connection-driver"'
LIBS := $(shell pkg-config --libs $(PKGS)) -lfdt -lpthread

B := build
LAB_SRCS := $(wildcard lab/*.c)
LIB_SRCS := $(filter-out lab/main.c,$(LAB_SRCS))
LIB_OBJS := $(LIB_SRCS:lab/%.c=$(B)/lab/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
# testutil.o is shared by every unit test
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)

all: teelab

teelab: $(B)/lab/main.o $(B)/libteelab.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

$(B)/libteelab.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/lab/%.o: lab/%.c $(wildcard lab/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(B)/tests/testutil.o $(B)/libteelab.a $(wildcard lab/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -iquote lab -o $@ $< $(B)/tests/testutil.o $(B)/libteelab.a $(LIBS) -lcmocka

$(B)/tests/testutil.o: tests/unit/testutil.c tests/unit/testutil.h lab/util.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -iquote lab -c -o $@ $<

unit: $(UNIT_BINS)
	CMOCKA_MESSAGE_OUTPUT=TAP TEELAB_SRCDIR=$(CURDIR) prove -f --exec '' $(UNIT_BINS)

# One real boot: CI's end-to-end budget (see README "Tests").
E2E_CI := tests/e2e/xtest-smoke.t tests/e2e/errors.t tests/e2e/guest.t tests/e2e/scmi.t \
	tests/e2e/scmi-rpmb.t tests/e2e/system-invocation.t tests/e2e/kexec-shm.t tests/e2e/matrix.t \
	tests/e2e/libvirt.t
e2e-ci: teelab
	TEELAB_SRCDIR=$(CURDIR) prove -v -f --exec bash $(E2E_CI)

e2e: teelab
	TEELAB_SRCDIR=$(CURDIR) prove -v -f --exec bash tests/e2e/*.t

check: teelab $(UNIT_BINS)
	CMOCKA_MESSAGE_OUTPUT=TAP TEELAB_SRCDIR=$(CURDIR) prove -f \
		--exec 'tests/exec-test' $(UNIT_BINS) $(E2E_CI)

bench: teelab
	bash tests/bench.sh

# The nightly matrix (configs/matrix/nightly.yaml); the report's path is printed last.
nightly: teelab
	./teelab run --matrix nightly $(NIGHTLY_FLAGS)

# Debian suite of this host (host-packages.txt has per-suite lines)
SUITE ?= $(shell . /etc/os-release 2>/dev/null && echo $$VERSION_CODENAME)
# The suite's packages from configs/host-packages.txt (see its header)
HOST_PKGS = $(shell awk -v s='$(SUITE)' ' \
	{ sub(/\#.*/, "") } NF == 0 { next } \
	NF == 1 { print $$1; next } \
	{ q = $$0; sub(/^[^[]*\[/, "", q); sub(/\].*/, "", q); n = split(q, w, " "); \
	  neg = (substr(w[1], 1, 1) == "!"); hit = 0; \
	  for (i = 1; i <= n; i++) { x = w[i]; sub(/^!/, "", x); if (x == s) hit = 1 } \
	  if (hit != neg) print $$1 }' configs/host-packages.txt)

# Installs what is missing of the list; as root directly, else through sudo.
# Nothing to install: nothing is asked (no root needed).
deps:
	@missing=$$(for p in $(HOST_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; \
	done); \
	if [ -z "$$missing" ]; then echo "make deps: every host package for $(SUITE) is installed"; exit 0; fi; \
	echo "make deps: installing for $(SUITE):" $$missing; \
	if [ "$$(id -u)" = 0 ]; then as=; \
	elif command -v sudo >/dev/null; then as=sudo; \
	else echo "make deps: installing needs root: run it as root, or install sudo" >&2; exit 1; fi; \
	$$as apt-get update && \
	$$as env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing

# The host packages of this suite, one a line (what `make deps` installs)
host-packages:
	@printf '%s\n' $(HOST_PKGS)

install: teelab
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)
	install -m 0755 teelab $(DESTDIR)$(BINDIR)/teelab
	cp -R configs scenarios images $(DESTDIR)$(DATADIR)/

clean:
	rm -rf $(B) teelab

.PHONY: all unit e2e e2e-ci check bench nightly deps host-packages install clean
-include $(wildcard $(B)/lab/*.d)
