# nabla - hand-written GNU Makefile.
#   make            static + shared library and the nabla CLI (in build/)
#   make test       build and run every tests/test_*.c, the examples' self-checks and CLI tests
#   make sanitize   the same tests under AddressSanitizer + UBSan with leak checking (build-san/)
#   make demo       install missing Debian packages, build, train a real model
#   make bench      long accuracy / speed runs (not part of test)
#   make install    PREFIX=/usr/local DESTDIR= : headers, libraries, nabla.pc, the CLI
SHELL := /bin/bash
CC ?= cc
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
OPT ?= -O3
VERSION := $(shell sed -n 's/^\#define NB_VERSION_STRING "\(.*\)"/\1/p' include/nabla.h)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wdouble-promotion
# -ffp-contract=off: no fused multiply-add contraction, so results are the same with gcc and
# clang and across optimisation levels (determinism); never -ffast-math (NaN checks must work).
CFLAGS ?= $(OPT) -g
ALL_CFLAGS := -std=c11 $(WARN) -ffp-contract=off -fPIC -D_GNU_SOURCE -Iinclude -Isrc/tensor $(CFLAGS)
LDLIBS := -lm -lpthread

# OpenBLAS (Debian libopenblas-dev) provides the CBLAS matrix product when present; without it
# nabla uses its own kernels. BLAS=none forces the built-in kernels.
BLAS ?= $(if $(wildcard /usr/include/x86_64-linux-gnu/cblas.h /usr/include/cblas.h),openblas,none)
ifeq ($(BLAS),openblas)
ALL_CFLAGS += -DNB_HAVE_CBLAS
LDLIBS += -lopenblas
endif
# zlib (Debian zlib1g-dev) reads .gz datasets such as Fashion-MNIST's IDX files.
ZLIB ?= $(if $(wildcard /usr/include/zlib.h),yes,no)
ifeq ($(ZLIB),yes)
ALL_CFLAGS += -DNB_HAVE_ZLIB
LDLIBS += -lz
endif

LIB_SRC := $(sort $(wildcard src/tensor/*.c src/ops/*.c src/autograd/*.c src/nn/*.c \
                             src/optim/*.c src/data/*.c src/io/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_SH := $(sort $(wildcard tests/test_*.sh))
EX_SRC := $(sort $(wildcard examples/*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
EX_BIN := $(EX_SRC:examples/%.c=$(BUILD)/examples/%)
STATIC := $(BUILD)/libnabla.a
SHARED := $(BUILD)/libnabla.so.$(VERSION)
CLI := $(BUILD)/nabla

.PHONY: all test sanitize demo bench install clean check-layers examples
all: $(STATIC) $(SHARED) $(CLI) $(EX_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(STATIC): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@echo "  AR  $@"
	@rm -f $@ && ar rcs $@ $^

$(SHARED): $(LIB_OBJ)
	@echo "  LD  $@"
	@$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,libnabla.so.$(SOMAJOR) -o $@ $^ $(LDLIBS)
	@ln -sf libnabla.so.$(VERSION) $(BUILD)/libnabla.so.$(SOMAJOR)
	@ln -sf libnabla.so.$(SOMAJOR) $(BUILD)/libnabla.so

$(CLI): $(CLI_OBJ) $(STATIC)
	@echo "  LD  $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJ) $(STATIC) $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(STATIC) tests/check.h
	@mkdir -p $(dir $@)
	@echo "  LD  $@"
	@$(CC) $(ALL_CFLAGS) -Itests -MMD -MP -o $@ $< $(STATIC) $(LDLIBS)

$(BUILD)/examples/%: examples/%.c $(STATIC)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(STATIC) $(LDLIBS)

examples: $(EX_BIN)

# Every test binary's exit status is its verdict; all run, then the summary decides.
test: all $(TEST_BIN) check-layers
	@bash tests/check_symbols.sh $(STATIC)
	@BUILD=$(BUILD) bash tests/run.sh $(TEST_BIN) $(TEST_SH)

sanitize:
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	$(MAKE) BUILD=build-san CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" test

# The layers may only include downwards: cli -> nn, optim, data, io -> autograd -> ops -> tensor.
check-layers:
	@bash scripts/check-layers.sh

demo:
	bash scripts/deps.sh
	$(MAKE) all
	bash scripts/demo.sh $(BUILD)

bench: all
	bash bench/run.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 include/nabla.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libnabla.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libnabla.so.$(SOMAJOR)
	ln -sf libnabla.so.$(SOMAJOR) $(DESTDIR)$(PREFIX)/lib/libnabla.so
	install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBS@|$(LDLIBS)|' \
	  nabla.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/nabla.pc

clean:
	rm -rf build build-san build-clang

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
