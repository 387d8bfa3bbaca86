# krill: build, install, check, bench, demo.
#
#   make            build ./krill (and the ./krill-oci link)
#   make demo       install missing packages (root), build, run the tiny image
#   make check      install missing packages (root), build, run every test
#   make bench      startup / throughput / join benchmarks -> test/bench/results.md
#   make packages-check  build the .deb and .rpm, unpack them in a temp root, run them
#   make fuzz       run each libFuzzer harness for FUZZ_SECONDS
#   make install PREFIX=/usr/local   (and krill-spank.so into Slurm's plugin dir)

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
VERSION    := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
FUZZ_SECONDS ?= 30

PKGS       := squashfuse_ll fuse3 libseccomp inih jansson yaml-0.1
# The compressors libsquashfuse decodes with, for the static link below.
CODEC_PKGS := zlib liblzma lzo2 liblz4 libzstd
# krill-import only (krill execs it): linked dynamically, so krill itself
# stays free of them.
IMPORT_PKGS := libcurl libarchive libcrypto
IMPORT_LIBS = $(shell pkg-config --libs $(IMPORT_PKGS) 2>/dev/null)
CC         ?= cc
WARN       := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter
BASE_CFLAGS = -std=gnu11 -D_GNU_SOURCE -DFUSE_USE_VERSION=35 -DKRILL_VERSION='"$(VERSION)"' \
              $(WARN) -iquote lib $(shell pkg-config --cflags $(PKGS) $(IMPORT_PKGS) 2>/dev/null)
CFLAGS     ?= -O2 -g
# Every library but glibc is linked statically from Debian's -dev archives:
# loading eleven shared objects costs ~0.4 ms per start, a fifth of a
# `krill run` (doc/architecture.md).  SHARED=1 links them dynamically.
ifeq ($(SHARED),1)
LIBS        = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
else
GLIBC_LIBS := -lpthread -ldl -lrt -lm
LIBS        = -Wl,-Bstatic -Wl,--start-group \
              $(filter-out $(GLIBC_LIBS),$(shell pkg-config --static --libs $(PKGS) $(CODEC_PKGS) 2>/dev/null)) \
              -Wl,--end-group -Wl,-Bdynamic -lpthread
endif
ALL_CFLAGS  = $(BASE_CFLAGS) $(CPPFLAGS) $(CFLAGS)

LIB_SRC    := $(sort $(wildcard lib/*.c))
LIB_OBJ    := $(LIB_SRC:lib/%.c=build/lib/%.o)
UNIT_SRC   := $(sort $(wildcard test/unit/test_*.c))
UNIT_BIN   := $(UNIT_SRC:test/unit/%.c=build/test/%)
ASAN_OBJ   := $(LIB_SRC:lib/%.c=build/asan/lib/%.o)
ASAN_BIN   := $(UNIT_SRC:test/unit/%.c=build/asan/%)
ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_SRC   := $(sort $(wildcard test/fuzz/fuzz_*.c))
FUZZ_BIN   := $(FUZZ_SRC:test/fuzz/%.c=build/fuzz/%)
FUZZ_CC    ?= clang
MANPAGES   := $(wildcard doc/*.[1-8])

# The Slurm SPANK plugin (bin/krill_spank.c), when libslurm-dev is there.
SPANK_H    := $(wildcard /usr/include/slurm/spank.h)
SPANK_LIB  := lib/err.c lib/log.c lib/util.c lib/nsjoin.c lib/hold.c
SPANK_OBJ  := $(SPANK_LIB:lib/%.c=build/pic/lib/%.o)
SLURM_PLUGINDIR ?= $(shell pkg-config --variable=libdir slurm 2>/dev/null || echo /usr/lib/x86_64-linux-gnu)/slurm-wlm
SPANK_SO   := $(if $(SPANK_H),build/krill-spank.so)

.PHONY: all deps images images-check demo check unit asan fuzz-replay fuzz bench packages-check soak install clean

all: krill krill-oci krill-import $(SPANK_SO)

build/lib/%.o: lib/%.c $(wildcard lib/*.h) | build/lib
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/libkrill.a: $(LIB_OBJ)
	@rm -f $@ && ar rcs $@ $^

krill: bin/krill.c build/libkrill.a
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< build/libkrill.a $(LIBS)

krill-oci: krill
	ln -sf krill $@

krill-import: bin/krill_import.c build/libkrill.a
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< build/libkrill.a $(LIBS) $(IMPORT_LIBS)

build/pic/lib/%.o: lib/%.c $(wildcard lib/*.h) | build/pic/lib
	@echo "  CC pic  $<"
	@$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<

# A plugin loaded into slurmstepd: position-independent, exporting only the
# SPANK symbols (krill_spank.map), bound to its own copies of libkrill.
build/krill-spank.so: bin/krill_spank.c bin/krill_spank.map $(SPANK_OBJ)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -fPIC -shared -Wl,--version-script=bin/krill_spank.map \
	    -Wl,-Bsymbolic -DKRILL_SPANK_BIN='"$(BINDIR)/krill"' -o $@ bin/krill_spank.c $(SPANK_OBJ)

build/lib build/test build/asan/lib build/fuzz build/fuzz/lib build/pic/lib:
	mkdir -p $@

# Unit tests: one cmocka program per test/unit/test_*.c, linked against libkrill.
build/test/%: test/unit/%.c build/libkrill.a | build/test
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< build/libkrill.a $(LIBS) $(IMPORT_LIBS) -lcmocka

build/asan/lib/%.o: lib/%.c $(wildcard lib/*.h) | build/asan/lib
	@echo "  CC asan $<"
	@$(CC) $(BASE_CFLAGS) $(ASAN_FLAGS) -c -o $@ $<

build/asan/libkrill.a: $(ASAN_OBJ)
	@rm -f $@ && ar rcs $@ $^

build/asan/%: test/unit/%.c build/asan/libkrill.a
	@echo "  LD asan $@"
	@$(CC) $(BASE_CFLAGS) $(ASAN_FLAGS) -o $@ $< build/asan/libkrill.a $(LIBS) $(IMPORT_LIBS) -lcmocka

# libFuzzer harnesses, built with clang against the library sources.
# The library is compiled once with the fuzzer's instrumentation
# (fuzzer-no-link) and linked into each harness.
FUZZ_FLAGS := -Wno-unknown-warning-option -O1 -g
FUZZ_OBJ   := $(LIB_SRC:lib/%.c=build/fuzz/lib/%.o)
.SECONDARY: $(FUZZ_OBJ)
build/fuzz/lib/%.o: lib/%.c $(wildcard lib/*.h) | build/fuzz/lib
	@echo "  CC fuzz $<"
	@$(FUZZ_CC) $(BASE_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

build/fuzz/%: test/fuzz/%.c $(FUZZ_OBJ) | build/fuzz
	@echo "  FUZZ    $@"
	@$(FUZZ_CC) $(BASE_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined \
	    -o $@ $< $(FUZZ_OBJ) $(LIBS) $(IMPORT_LIBS)

deps:
	@test/harness/deps.sh

images: krill
	@images/build.sh tiny

# The MPI image needs root (debootstrap); unprivileged runs skip its tests.
images-check: images
	@if [ "$$(id -u)" = 0 ]; then images/build.sh debian-mpi; \
	 else echo "images: not root: skipping debian-mpi (its tests will say skipped)"; fi

demo: deps all images
	@test/harness/demo.sh

unit: $(UNIT_BIN)
asan: $(ASAN_BIN)
fuzz-build: $(FUZZ_BIN)

check: deps
	@$(MAKE) --no-print-directory all unit asan fuzz-build images-check
	@test/run-tests

fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$${f##*/}; mkdir -p test/fuzz/corpus/$$n; \
	    echo "== $$n ($(FUZZ_SECONDS)s)"; \
	    case $$n in fuzz_squash) len=65536 ;; *) len=4096 ;; esac; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -max_len=$$len test/fuzz/corpus/$$n || exit 1; done

bench: deps all
	@test/bench/run.sh

# Build the .deb and the .rpm, unpack them in a temporary root and run the
# packaged krill (about two minutes: not part of check).
packages-check: deps images
	@test/packaging/check.sh

# Not part of check: SOAK_MINUTES (30) of mixed work with random kills.
soak: deps all images-check
	@test/soak/soak.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 0755 krill $(DESTDIR)$(BINDIR)/krill
	install -m 0755 krill-import $(DESTDIR)$(BINDIR)/krill-import
	ln -sf krill $(DESTDIR)$(BINDIR)/krill-oci
	for m in $(MANPAGES); do install -d $(DESTDIR)$(MANDIR)/man$${m##*.}; \
	    install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/; done
ifneq ($(SPANK_SO),)
	install -d $(DESTDIR)$(SLURM_PLUGINDIR) $(DESTDIR)$(SYSCONFDIR)/slurm/plugstack.conf.d
	install -m 0755 $(SPANK_SO) $(DESTDIR)$(SLURM_PLUGINDIR)/krill-spank.so
	install -m 0644 examples/spank/plugstack.conf \
	    $(DESTDIR)$(SYSCONFDIR)/slurm/plugstack.conf.d/krill.conf.example
endif

clean:
	rm -rf build krill krill-oci krill-import
