# nabla - hand-written GNU Makefile.
#   make            static + shared library and the nabla CLI (in build/)
#   make test       build and run every tests/<module>/test_*.c (tests/ mirrors src/), the
#                   examples' self-checks and the CLI tests
#   make sanitize   the same tests under AddressSanitizer + UBSan with leak checking (build-san/)
#   make tsan       the threaded tests under ThreadSanitizer (build-tsan/)
#   make fuzz       libFuzzer targets over every parser (fuzz-smoke: 30 s each, as CI does)
#   make demo       install missing Debian packages, build, train a real model
#   make words      the "which language is this word?" data set (issue 15, recipe 2) from the
#                   Debian word lists: $(BUILD)/words/train.csv, test.csv (scripts/words.sh)
#   make bench      nabla vs PyTorch speed table (not part of test; see the benchmarks block)
#   make mutants    plant a 1% error in each operator's backward in turn and show the C tests
#                   catch every one (scripts/mutants.sh, build-mutants/; not part of test)
#   make install    PREFIX=/usr/local DESTDIR= : headers, libraries, nabla.pc, the CLI, its man page
#                   (nabla.1, from --help by help2man) and the docs (share/doc/nabla)
#   make uninstall  the same PREFIX and DESTDIR: removes exactly what install put there
#   make man        $(BUILD)/nabla.1 only
SHELL := /bin/bash
CC ?= cc
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
OPT ?= -O3
VERSION := $(shell sed -n 's/^\#define NB_VERSION_STRING "\(.*\)"/\1/p' include/nabla/base.h)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wdouble-promotion
# -ffp-contract=off: no fused multiply-add contraction, so results are the same with gcc and
# clang and across optimisation levels (determinism); never -ffast-math (NaN checks must work).
CFLAGS ?= $(OPT) -g
ALL_CFLAGS := -std=c11 $(WARN) -ffp-contract=off -fPIC -D_GNU_SOURCE -Iinclude -Isrc/tensor $(CFLAGS)
LDLIBS := -lm -lpthread

# OpenBLAS (Debian libopenblas-dev) provides the CBLAS matrix product on CPUs without AVX2 or
# AVX-512 when present; without it nabla uses its own kernels. BLAS=none forces the built-in
# kernels. nabla does not link it: src/ops/gemm.c loads libopenblas.so.0 with dlopen on the first
# product that needs it (its constructor starts a thread per core, which hung the CLI at exit
# under ulimit -v); only the GEMM benchmark links it (BLAS_LDLIBS), to compare with it.
BLAS ?= $(if $(wildcard /usr/include/x86_64-linux-gnu/cblas.h /usr/include/cblas.h),openblas,none)
BLAS_LDLIBS :=
ifeq ($(BLAS),openblas)
ALL_CFLAGS += -DNB_HAVE_CBLAS
LDLIBS += -ldl
BLAS_LDLIBS := -lopenblas
endif
# zlib (Debian zlib1g-dev) reads .gz datasets such as Fashion-MNIST's IDX files.
ZLIB ?= $(if $(wildcard /usr/include/zlib.h),yes,no)
ifeq ($(ZLIB),yes)
ALL_CFLAGS += -DNB_HAVE_ZLIB
LDLIBS += -lz
endif

# Open MPI (Debian libopenmpi-dev, openmpi-bin) gives the CLI its MPI transport, so that
# `mpirun -np N nabla train` trains data-parallel (src/dist/, docs/DISTRIBUTED.md). Only the CLI
# and its MPI test link it: the library never references MPI (tests/check_symbols.sh).
# MPI=auto: yes when mpicc is on PATH and its flags compile an #include <mpi.h>; MPI=no builds
# without (the CLI then refuses to run under mpirun with more than one process).
MPI ?= auto
ifeq ($(MPI),auto)
MPI := $(shell command -v mpicc >/dev/null 2>&1 && echo '\#include <mpi.h>' | \
  $(CC) $$(mpicc --showme:compile 2>/dev/null) -E -x c - >/dev/null 2>&1 && echo yes || echo no)
endif
MPI_CFLAGS :=
MPI_LDLIBS :=
ifeq ($(MPI),yes)
MPI_CFLAGS := $(shell mpicc --showme:compile)
MPI_LDLIBS := $(shell mpicc --showme:link)
endif

LIB_SRC := $(sort $(wildcard src/tensor/*.c src/ops/*.c src/autograd/*.c src/nn/*.c \
                             src/optim/*.c src/data/*.c src/io/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
# src/dist/launch.c (was this started by mpirun?) needs no MPI and is always in the CLI
DIST_SRC := $(if $(filter yes,$(MPI)),$(sort $(wildcard src/dist/*.c)),src/dist/launch.c)
# the MPI transport's test is built with MPI's flags by its own rule (below)
TEST_SRC := $(filter-out tests/dist/test_mpi_transport.c,$(sort $(wildcard tests/*/test_*.c)))
TEST_SH := $(sort $(wildcard tests/*/test_*.sh tests/test_*.sh))
EX_SRC := $(sort $(wildcard examples/*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
DIST_OBJ := $(DIST_SRC:%.c=$(BUILD)/%.o)
MPI_TEST := $(if $(filter yes,$(MPI)),$(BUILD)/tests/dist/test_mpi_transport)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
EX_BIN := $(EX_SRC:examples/%.c=$(BUILD)/examples/%)
STATIC := $(BUILD)/libnabla.a
SHARED := $(BUILD)/libnabla.so.$(VERSION)
CLI := $(BUILD)/nabla

# Library objects hide every symbol but those declared NB_API in include/nabla/*.h, so the
# shared library exports exactly the public API (tests/check_exports.sh checks it).
$(LIB_OBJ): ALL_CFLAGS += -fvisibility=hidden
# The recurrent gates' loops (src/ops/rnn.c: exp_v, tanh_v) hold selects that gcc vectorises
# only when it may assume no floating-point trap (nabla never enables traps); the arithmetic
# and its rounding are unchanged, so are the bits.
$(BUILD)/src/ops/rnn.o: ALL_CFLAGS += -fno-trapping-math
# the transport compiles with MPI's include flags; the CLI learns that it has one
$(DIST_OBJ): ALL_CFLAGS += $(MPI_CFLAGS)
ifeq ($(MPI),yes)
$(CLI_OBJ): ALL_CFLAGS += -DNB_HAVE_MPI
endif

.PHONY: all test sanitize tsan demo words bench install uninstall man clean check-layers examples mutants
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

$(CLI): $(CLI_OBJ) $(DIST_OBJ) $(STATIC)
	@echo "  LD  $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJ) $(DIST_OBJ) $(STATIC) $(LDLIBS) $(MPI_LDLIBS)

$(BUILD)/tests/%: tests/%.c $(STATIC) tests/check.h
	@mkdir -p $(dir $@)
	@echo "  LD  $@"
	@$(CC) $(ALL_CFLAGS) -Itests -MMD -MP -o $@ $< $(STATIC) $(LDLIBS)

# run by tests/dist/test_mpi_transport.sh under mpirun -np 2 and 3
$(BUILD)/tests/dist/test_mpi_transport: tests/dist/test_mpi_transport.c $(DIST_OBJ) $(STATIC) tests/check.h
	@mkdir -p $(dir $@)
	@echo "  LD  $@"
	@$(CC) $(ALL_CFLAGS) $(MPI_CFLAGS) -Itests -MMD -MP -o $@ $< $(DIST_OBJ) $(STATIC) $(LDLIBS) $(MPI_LDLIBS)

$(BUILD)/examples/%: examples/%.c $(STATIC)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(STATIC) $(LDLIBS)

examples: $(EX_BIN)

# Every test binary's exit status is its verdict; all run, then the summary decides.
test: all $(TEST_BIN) $(MPI_TEST) check-layers
	@bash tests/check_license.sh
	@bash tests/check_symbols.sh $(STATIC)
	@CC="$(CC)" bash tests/check_exports.sh $(SHARED) $(BUILD)/tests/nn/test_api_null
	@bash tests/check_docs.sh $(CLI)
	@CC="$(CC)" CFLAGS="$(CFLAGS)" MAKE="$(MAKE)" bash tests/check_install.sh $(BUILD)
	@BUILD=$(BUILD) MPI=$(MPI) bash tests/run.sh $(TEST_BIN) $(TEST_SH)

# ThreadSanitizer over the tests that run threads (the thread pool, the GEMM, training),
# with nabla's own kernels only (OpenBLAS is not instrumented).
TSAN_TESTS := ops/test_gemm tensor/test_kernels autograd/test_graph nn/test_nn nn/test_checkpoint \
  data/test_compact autograd/test_ops optim/test_optim_kernels ops/test_conv_fast nn/test_predict \
  autograd/test_embed autograd/test_rnn nn/test_rnn_model nn/test_dist
tsan:
	$(MAKE) BUILD=build-tsan CC=clang BLAS=none CFLAGS="-O1 -g -fsanitize=thread" \
	  $(TSAN_TESTS:%=build-tsan/tests/%)
	TSAN_OPTIONS=halt_on_error=1 bash tests/run.sh $(TSAN_TESTS:%=build-tsan/tests/%)

sanitize:
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	$(MAKE) BUILD=build-san CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" test

# Mutation testing (scripts/mutants.sh): it builds in build-mutants/ with -DNB_MUTANTS, where
# nb_graph_backward can scale or nudge one operator's backward (src/autograd/mutant.h).
mutants:
	@bash scripts/mutants.sh

# the operators with a backward, read from the table (mutant builds only need it)
$(BUILD)/mutant_ops: scripts/mutant_ops.c $(STATIC)
	@echo "  LD  $@"
	@$(CC) $(ALL_CFLAGS) -Isrc/autograd -o $@ $< $(STATIC) $(LDLIBS)

# The layers may only include and call downwards: cli -> dist -> nn -> optim, data, io ->
# autograd -> ops -> tensor (dist, the MPI transport, through public headers only). The call
# check reads the objects' symbols, so it needs them built first.
check-layers: $(LIB_OBJ) $(CLI_OBJ) $(DIST_OBJ)
	@CC="$(CC)" bash scripts/check-layers.sh $(LIB_OBJ) $(CLI_OBJ) $(DIST_OBJ)

# words: the lists come from scripts/deps.sh (words.sh names a missing package); no build needed
words:
	bash scripts/words.sh $(BUILD)/words

demo:
	bash scripts/deps.sh
	$(MAKE) all
	bash scripts/demo.sh $(BUILD)

# The man page is generated from the CLI's --help texts (scripts/man.sh), never edited by hand.
MAN := $(BUILD)/nabla.1
man: $(MAN)
$(MAN): $(CLI) scripts/man.sh
	@echo "  MAN $@"
	@bash scripts/man.sh $(CLI) $@

# What install puts under $(DESTDIR)$(PREFIX); uninstall removes exactly these, then the
# directories nabla owns (include/nabla, share/doc/nabla) if they are empty.
DOCS := README.md LICENSE $(wildcard docs/*.md)
INSTALLED := include/nabla.h $(wildcard include/nabla/*.h) \
  lib/libnabla.a lib/libnabla.so.$(VERSION) lib/libnabla.so.$(SOMAJOR) lib/libnabla.so \
  lib/pkgconfig/nabla.pc bin/nabla share/man/man1/nabla.1 $(addprefix share/doc/nabla/,$(notdir $(DOCS)))

install: all $(MAN)
	install -d $(DESTDIR)$(PREFIX)/include/nabla $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin \
	  $(DESTDIR)$(PREFIX)/share/doc/nabla $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 include/nabla.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/nabla/*.h $(DESTDIR)$(PREFIX)/include/nabla/
	install -m 644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libnabla.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libnabla.so.$(SOMAJOR)
	ln -sf libnabla.so.$(SOMAJOR) $(DESTDIR)$(PREFIX)/lib/libnabla.so
	install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(MAN) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 $(DOCS) $(DESTDIR)$(PREFIX)/share/doc/nabla/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBS@|$(LDLIBS)|' \
	  nabla.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/nabla.pc

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/,$(INSTALLED))
	for d in $(DESTDIR)$(PREFIX)/include/nabla $(DESTDIR)$(PREFIX)/share/doc/nabla; do \
	  [ ! -d $$d ] || rmdir --ignore-fail-on-non-empty $$d; done

clean:
	rm -rf build build-san build-clang build-tsan build-mutants

# ---------------------------------------------------------------- fuzzing (docs/FUZZING.md)
#   make fuzz        libFuzzer targets (fuzz/fuzz_*.c) built with clang + ASan + UBSan in
#                    $(FUZZ_BUILD)/, each run for FUZZ_SECONDS (default 60) under nice
#   make fuzz-smoke  the same for 30 s each (CI)
# make test replays every committed input (fuzz/corpus/<target>/) through each target's code
# with a plain driver (fuzz/replay.c) built by $(CC): tests/test_fuzz_replay.sh.
FUZZ_TARGETS := csv text idx spec safetensors preproc_json checkpoint onnx
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_BUILD ?= build-fuzz
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer
FUZZ_REPLAY := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/replay_%)
.PHONY: fuzz fuzz-smoke fuzz-build fuzz-clean

test: $(FUZZ_REPLAY)
clean: fuzz-clean
fuzz-clean:
	rm -rf $(FUZZ_BUILD)

$(BUILD)/fuzz/replay_%: fuzz/fuzz_%.c fuzz/replay.c fuzz/fuzz_util.h $(STATIC)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< fuzz/replay.c $(STATIC) $(LDLIBS)

fuzz-build:
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) CFLAGS="$(FUZZ_CFLAGS)" \
	  $(FUZZ_BUILD)/libnabla.a
	@mkdir -p $(FUZZ_BUILD)/fuzz
	@for t in $(FUZZ_TARGETS); do echo "  LD  $(FUZZ_BUILD)/fuzz/fuzz_$$t"; \
	  $(FUZZ_CC) -std=c11 $(WARN) -D_GNU_SOURCE -Iinclude $(FUZZ_CFLAGS) -fsanitize=fuzzer \
	    -o $(FUZZ_BUILD)/fuzz/fuzz_$$t fuzz/fuzz_$$t.c $(FUZZ_BUILD)/libnabla.a $(LDLIBS) \
	    || exit 1; done

fuzz: fuzz-build
	@bash fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=30
# ---------------------------------------------------------------- end of fuzzing

# ---------------------------------------------------------------- benchmarks (bench/README.md)
#   make bench           nabla against PyTorch (when python3-torch is installed), same recipes,
#                        data and threads (BENCH_THREADS, default nproc): the speed table
#   make bench-smoke     the same with BENCH_QUICK=1 (subsets, few steps; about a minute, CI)
#   make bench-accuracy  the CLI's accuracy recipes on Fashion-MNIST (long)
#   make bench-load      nb_model_load of model files with 1 MB and 8 MB headers (bench/load_bench.c)
#   make profile         where the training and inference rows' time goes (perf record, by
#                        category) and what sharing data between two cores costs (bench/profile.sh)
# Every bench/*.c becomes $(BUILD)/bench/<name>; -Isrc lets a kernel benchmark (gemm_bench)
# reach internal headers. nb_bench must build; gemm_bench is optional (skipped with a note).
.PHONY: bench-smoke bench-accuracy bench-build bench-load profile

$(BUILD)/bench/%: bench/%.c $(STATIC)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"
	@$(CC) $(ALL_CFLAGS) -Isrc -MMD -MP -o $@ $< $(STATIC) $(LDLIBS) $(if $(filter gemm_bench,$*),$(BLAS_LDLIBS))

bench-build: $(STATIC) $(CLI) $(BUILD)/bench/nb_bench $(BUILD)/bench/xcore
	@if [ -f bench/gemm_bench.c ]; then $(MAKE) --no-print-directory $(BUILD)/bench/gemm_bench \
	  || echo "bench: bench/gemm_bench.c did not build; the GEMM rows are skipped" >&2; fi

bench: bench-build
	@bash bench/run.sh $(BUILD)

bench-smoke: bench-build
	@BENCH_QUICK=1 bash bench/run.sh $(BUILD)

bench-accuracy: all
	@bash bench/accuracy.sh $(BUILD)

bench-load: $(BUILD)/bench/load_bench
	@$(BUILD)/bench/load_bench

profile: bench-build
	@bash bench/profile.sh $(BUILD)
# ---------------------------------------------------------------- end of benchmarks

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
