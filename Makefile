# teelab - QEMU-backed integration lab for the Linux TEE subsystem and OP-TEE
#
#   make               build ./teelab (WERROR=1: warnings are errors)
#   make check         unit tests + the end-to-end tests (what CI runs; sets WERROR=1)
#   make unit          unit tests only (cmocka, TAP through prove)
#   make e2e           every end-to-end test (boots the real stack)
#   make bench         speed targets (cached xtest-smoke run under 10 s)
#   make nightly       the nightly matrix in parallel + its report (NIGHTLY_FLAGS="-j 1 --compare DIR")
#   make deps          install what is missing of configs/host-packages.txt (sudo when not root)
#   make test-deps     the same and configs/test-packages.txt (what only the tests need)
#   make host-packages print this suite's host packages
#   make man           build/teelab.1, the man page, from the option tables (teelab help --man)
#   make install PREFIX=/usr/local DESTDIR=     make uninstall (same PREFIX)
#   make dist          teelab-<version>.tar.gz with a VERSION file

.DEFAULT_GOAL := all
PREFIX ?= /usr/local
DATADIR ?= $(PREFIX)/share/teelab
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
CC ?= cc
PKGS := libarchive yaml-0.1 jansson libcrypto libssh libvirt libvirt-qemu libxml-2.0 libelf
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wno-format-nonliteral -Wundef -Wpointer-arith
# -Werror only when asked for (developers, make check, CI): a user's newer
# compiler or own CFLAGS must not break the build over a new warning.
WERROR ?=
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) $(if $(filter 1,$(WERROR)),-Werror) $(CFLAGS) -D_GNU_SOURCE -I$(B) -iquote lab \
	-DTEELAB_DATADIR='"$(DATADIR)"' $(shell pkg-config --cflags $(PKGS)) \
	-DTEELAB_LIBVIRT_DRIVERS='"$(shell pkg-config --variable=libdir libvirt)/libvirt/connection-driver"'
# recursive (=): `make deps` runs before pkg-config is installed. libvirt is not
# linked: the libvirt backend dlopen()s it (lab/machine_libvirt.c), its headers
# give the prototypes
LINKED_PKGS := $(filter-out libvirt libvirt-qemu,$(PKGS))
LIBS = $(shell pkg-config --libs $(LINKED_PKGS)) -lfdt -lpthread

B := build
LAB_SRCS := $(wildcard lab/*.c lab/*/*.c)
LIB_SRCS := $(filter-out lab/main.c,$(LAB_SRCS))
LIB_OBJS := $(LIB_SRCS:lab/%.c=$(B)/lab/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
# testutil.o is shared by every unit test
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)

# The version: a release tarball's VERSION file, else git describe (tags
# v*), else r<commits>-g<hash> before the first tag.
VERSION := $(shell cat VERSION 2>/dev/null || \
	git describe --tags --match 'v*' --dirty 2>/dev/null | sed 's/^v//' || true)
ifeq ($(VERSION),)
VERSION := $(shell c=$$(git rev-list --count HEAD 2>/dev/null) && \
	echo "r$$c-g$$(git rev-parse --short HEAD)$$(git diff --quiet HEAD -- 2>/dev/null || echo -dirty)")
endif
ifeq ($(VERSION),)
VERSION := unknown
endif

sq = $(subst ','\'',$(1))
# Rebuilt only when their contents change (as git's GIT-CFLAGS): a new
# PREFIX, CFLAGS or WERROR rebuilds the objects, a new commit only version.o.
$(B)/cflags: FORCE
	@mkdir -p $(B)
	@echo '$(call sq,$(ALL_CFLAGS))' | cmp -s - $@ || echo '$(call sq,$(ALL_CFLAGS))' >$@
$(B)/version.h: FORCE
	@mkdir -p $(B)
	@echo '#define TEELAB_VERSION "$(VERSION)"' | cmp -s - $@ || \
		echo '#define TEELAB_VERSION "$(VERSION)"' >$@
$(B)/lab/version.o: $(B)/version.h
# The step kinds' table (lab/step.h): every `const struct step_ops step_x =`
# at the start of a line in lab/steps/*.c is one row.
$(B)/step_table.h: $(wildcard lab/steps/*.c) Makefile
	@mkdir -p $(B)
	@sed -n 's/^const struct step_ops \(step_[a-z0-9_]*\) = .*/STEP_KIND(\1)/p' \
		$(sort $(wildcard lab/steps/*.c)) >$@.tmp && mv $@.tmp $@
$(B)/lab/step.o: $(B)/step_table.h

all: teelab

# The man page comes from the same tables as --help (lab/parse_options.h).
man: $(B)/teelab.1
$(B)/teelab.1: teelab
	./teelab help --man >$@.tmp && mv $@.tmp $@

teelab: $(B)/lab/main.o $(B)/libteelab.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

$(B)/libteelab.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/lab/%.o: lab/%.c $(wildcard lab/*.h lab/*/*.h) Makefile $(B)/cflags
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(B)/tests/testutil.o $(B)/libteelab.a $(wildcard lab/*.h lab/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -iquote lab -o $@ $< $(B)/tests/testutil.o $(B)/libteelab.a $(LIBS) -lcmocka

$(B)/tests/testutil.o: tests/unit/testutil.c tests/unit/testutil.h lab/util.h $(B)/cflags
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -iquote lab -c -o $@ $<

unit: $(UNIT_BINS)
	CMOCKA_MESSAGE_OUTPUT=TAP TEELAB_SRCDIR=$(CURDIR) prove -f --exec '' $(UNIT_BINS)

# One real boot: CI's end-to-end budget (see README "Tests"). The files that
# boot kernels built from source come last (first those on src-6.12, then the
# memory-debugging ones): tests/check builds those kernels in the background
# meanwhile, in that order.
E2E_CI := tests/e2e/doctor.t tests/e2e/xtest-smoke.t tests/e2e/errors.t tests/e2e/guest.t tests/e2e/scmi.t \
	tests/e2e/kexec-shm.t tests/e2e/matrix.t tests/e2e/lava.t tests/e2e/lava-lab.t tests/e2e/libvirt.t \
	tests/e2e/install.t tests/e2e/cli.t \
	tests/e2e/system-invocation.t tests/e2e/warm.t tests/e2e/gdb.t tests/e2e/scmi-rpmb.t tests/e2e/ffa.t \
	tests/e2e/ctx-lifetime.t tests/e2e/supp-race.t
e2e-ci: teelab
	TEELAB_SRCDIR=$(CURDIR) prove -v -f --exec bash $(E2E_CI)

e2e: teelab
	TEELAB_SRCDIR=$(CURDIR) prove -v -f --exec bash tests/e2e/*.t

check: WERROR = 1
check: teelab $(UNIT_BINS)
	CMOCKA_MESSAGE_OUTPUT=TAP TEELAB_SRCDIR=$(CURDIR) tests/check $(UNIT_BINS) $(E2E_CI)

bench: teelab
	/usr/bin/python3 tests/bench/bench.py

# The nightly matrix (configs/matrix/nightly.yaml); the report's path is printed last.
nightly: teelab
	./teelab run --matrix nightly $(NIGHTLY_FLAGS)

# Debian suite of this host (host-packages.txt has per-suite lines)
SUITE ?= $(shell . /etc/os-release 2>/dev/null && echo $$VERSION_CODENAME)
# The suite's packages of a package list (configs/host-packages.txt's format, see its header)
HASH := \#
pkgs_of = $(shell awk -v s='$(SUITE)' ' \
	{ sub(/$(HASH).*/, "") } NF == 0 { next } \
	NF == 1 { print $$1; next } \
	{ q = $$0; sub(/^[^[]*\[/, "", q); sub(/\].*/, "", q); n = split(q, w, " "); \
	  neg = (substr(w[1], 1, 1) == "!"); hit = 0; \
	  for (i = 1; i <= n; i++) { x = w[i]; sub(/^!/, "", x); if (x == s) hit = 1 } \
	  if (hit != neg) print $$1 }' $(1))
HOST_PKGS = $(call pkgs_of,configs/host-packages.txt)
# What only the tests need (LAVA's dispatcher and its ~140 packages): make test-deps
TEST_PKGS = $(call pkgs_of,configs/test-packages.txt)

# install_missing <what> <packages>: installs what is missing of them; as root
# directly, else through sudo. Nothing to install: nothing is asked (no root needed).
define install_missing
	@missing=$$(for p in $(2); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; \
	done); \
	if [ -z "$$missing" ]; then echo "make $(1): every package for $(SUITE) is installed"; exit 0; fi; \
	echo "make $(1): installing for $(SUITE):" $$missing; \
	if [ "$$(id -u)" = 0 ]; then as=; \
	elif command -v sudo >/dev/null; then as=sudo; \
	else echo "make $(1): installing needs root: run it as root, or install sudo" >&2; exit 1; fi; \
	$$as apt-get update && \
	$$as env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing
endef

deps:
	$(call install_missing,deps,$(HOST_PKGS))

# the host packages and the tests' own (configs/test-packages.txt): README command 2
test-deps:
	$(call install_missing,test-deps,$(HOST_PKGS) $(TEST_PKGS))

# The host packages of this suite, one a line (what `make deps` installs)
host-packages:
	@printf '%s\n' $(HOST_PKGS)

# The binary finds its data at ../share/teelab beside itself, so a binary
# built for one PREFIX still works installed under another.
install: teelab $(B)/teelab.1
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 teelab $(DESTDIR)$(BINDIR)/teelab
	cp -R configs scenarios images $(DESTDIR)$(DATADIR)/
	install -m 0644 $(B)/teelab.1 $(DESTDIR)$(MANDIR)/man1/teelab.1
	install -m 0644 contrib/completion/teelab.bash $(DESTDIR)$(BASHCOMPDIR)/teelab

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/teelab $(DESTDIR)$(MANDIR)/man1/teelab.1 $(DESTDIR)$(BASHCOMPDIR)/teelab
	rm -rf $(DESTDIR)$(DATADIR)

print-version:
	@echo '$(VERSION)'

dist:
	git archive --prefix=teelab-$(VERSION)/ \
		--add-virtual-file=teelab-$(VERSION)/VERSION:'$(VERSION)' \
		-o teelab-$(VERSION).tar.gz HEAD
	@echo teelab-$(VERSION).tar.gz

clean:
	rm -rf $(B) teelab

.PHONY: all man unit e2e e2e-ci check bench nightly deps test-deps host-packages install uninstall print-version dist clean FORCE
FORCE:
-include $(wildcard $(B)/lab/*.d)
