# Makefile - the two commands a newcomer needs, on top of CMake.
#
#   make run    install the build deps if missing, build the command, run
#               the main demo
#   make test   install deps if missing, build, run every test (ctest)
#
# Other targets: build, install (PREFIX, default /usr/local; DESTDIR for
# staging), uninstall (what install listed), deb (Debian packages),
# asan (ASan+UBSan build and tests), memcheck (valgrind), torture (the
# crash torture with TORTURE_KILLS SIGKILLs, seed TORTURE_SEED), tsan
# (ThreadSanitizer build and unit tests), fuzz (each libFuzzer target for
# FUZZ_SECONDS from its corpus, clang-14), bench (every bench program; the
# table goes into bench/RESULTS.md, RESULTS_MD= leaves it alone),
# bench-peers (cairn vs LangGraph.js, see bench/run-peers.sh; needs Node 20
# and npm), clean.

BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
FUZZ_SECONDS ?= 30
FUZZ_BUILD ?= build-fuzz
FUZZ_TARGETS ?= envelope checkpoint spec import
TORTURE_KILLS ?= 200
TORTURE_WORKER_KILLS ?= 100
TORTURE_SEED ?=
RESULTS_MD ?= bench/RESULTS.md
PREFIX ?= /usr/local
BENCH_ARGS ?=

.PHONY: all deps deps-build build install uninstall deb run test asan tsan torture memcheck fuzz bench bench-peers clean

all: build

deps:
	@scripts/install-deps all

deps-build:
	@scripts/install-deps build

# What needs only the build packages configures a new build directory
# without the tests and benches (which need cmocka and python3).
CONFIGURE_WITHOUT_TESTS = [ -f $(BUILD)/CMakeCache.txt ] || \
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Debug \
	    -DCAIRN_BUILD_TESTS=OFF -DCAIRN_BUILD_BENCH=OFF $(CMAKE_FLAGS)

# Configured once (CMAKE_FLAGS then), and again when `make run` or `make
# install` configured it without the tests.
build: deps
	@grep -qs '^CAIRN_BUILD_TESTS:BOOL=ON' $(BUILD)/CMakeCache.txt || \
	    cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Debug \
	        -DCAIRN_BUILD_TESTS=ON -DCAIRN_BUILD_BENCH=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

# The command, libcairn.so, headers, cairn.pc, the CMake package, docs and
# the systemd unit (README.md, "Install"); every file is listed in
# $(BUILD)/install_manifest.txt.
install: deps-build
	@$(CONFIGURE_WITHOUT_TESTS)
	cmake --build $(BUILD) -j $(JOBS)
	cmake --install $(BUILD) --prefix $(PREFIX)

# Debian packages (cmake/package.cmake): cairn_VERSION_ARCH.deb and
# cairn-dev_VERSION_ARCH.deb in build-deb/, a Release build for /usr;
# scripts/check-deb checks them.
deb:
	@scripts/install-deps deb
	cmake -S . -B build-deb -DCMAKE_BUILD_TYPE=Release \
	    -DCMAKE_INSTALL_PREFIX=/usr -DCAIRN_BUILD_TESTS=OFF \
	    -DCAIRN_BUILD_BENCH=OFF -DCAIRN_BUILD_EXAMPLES=OFF $(CMAKE_FLAGS)
	cmake --build build-deb -j $(JOBS)
	cd build-deb && cpack -G DEB

# Removes the files of the last install, then the directories of cairn's
# own that it leaves empty. The manifest lists paths without DESTDIR.
uninstall:
	sed 's|^|$(DESTDIR)|' $(BUILD)/install_manifest.txt | xargs -d '\n' rm -f
	rmdir $(DESTDIR)$(PREFIX)/include/cairn $(DESTDIR)$(PREFIX)/lib/cmake/cairn \
	    $(DESTDIR)$(PREFIX)/share/doc/cairn 2>/dev/null || true

# Only what the command needs: the build packages, the cairn target (a
# fresh build directory is configured without the tests and benches).
run: deps-build
	@$(CONFIGURE_WITHOUT_TESTS)
	cmake --build $(BUILD) -j $(JOBS) --target cairn_cli
	CAIRN=$(BUILD)/cairn scripts/demo.sh

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCAIRN_WERROR=ON \
	    -DCAIRN_SANITIZE=address,undefined
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    ctest --output-on-failure -j $(JOBS)

# test_crash's torture cases with TORTURE_KILLS kills in-process and
# TORTURE_WORKER_KILLS of workers and the coordinator (make test runs 20
# and 10); the seed is printed, TORTURE_SEED replays it.
torture: build
	CAIRN_TORTURE_KILLS=$(TORTURE_KILLS) \
	    CAIRN_TORTURE_WORKER_KILLS=$(TORTURE_WORKER_KILLS) \
	    $(if $(TORTURE_SEED),CAIRN_CRASH_SEED=$(TORTURE_SEED)) \
	    $(BUILD)/tests/test_crash

# valgrind memcheck of the command: the demo's pipeline, a 10,000-superstep
# durable run, resume and the inspection commands (scripts/memcheck).
memcheck: build
	CAIRN_DEPS_EXTRA=1 scripts/install-deps
	scripts/memcheck $(BUILD)/cairn

# The bench is left out: its raw ZeroMQ floor measurement is not annotated.
tsan: deps
	cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DCAIRN_WERROR=ON \
	    -DCAIRN_SANITIZE=thread
	cmake --build build-tsan -j $(JOBS)
	cd build-tsan && TSAN_OPTIONS="halt_on_error=1 suppressions=$(CURDIR)/tests/tsan.supp" \
	    ctest --output-on-failure -j $(JOBS) -R '^test_'

# libFuzzer + ASan + UBSan, library included; tests/fuzz/run.sh fails on
# any crash, leak or sanitizer report and leaves the input in
# $(FUZZ_BUILD)/fuzz-run/TARGET/.
fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang-14 \
	    -DCMAKE_BUILD_TYPE=Debug -DCAIRN_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_targets
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# JSON lines on stdout and in bench/results/bench-<UTC>.jsonl; the table of
# the run replaces the generated section of RESULTS_MD (empty: not written).
# BENCH_ARGS go to every bench program (e.g. --quick, --reps 10).
bench: deps
	cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release
	cmake --build build-release -j $(JOBS)
	BUILD=build-release RESULTS_MD='$(RESULTS_MD)' \
	    BENCH_ARGS='$(BENCH_ARGS)' bench/run-bench.sh

# Both sides back to back; ratios printed and appended to bench/RESULTS.md.
bench-peers: deps
	JOBS=$(JOBS) bench/run-peers.sh

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz build-release build-deb
