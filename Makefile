# rawio: the two commands a newcomer needs are `make run` and `make test`.
PRESET ?= release
TEST_PRESETS ?= debug asan
BUILD = build/$(PRESET)
RAWIO = $(BUILD)/tools/rawio
VAR ?= $(CURDIR)/var
JOBS ?= $(shell nproc)
PREFIX ?= /usr/local
DESTDIR ?=
SOURCES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

.PHONY: all deps build run test test-long bench install format format-check clean

all: build

deps:
	@./scripts/deps.sh

build: deps
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET) -j $(JOBS)

# The main job on an embedded default: file-backed devices under ./var.
run: build
	@mkdir -p $(VAR)
	@$(RAWIO) demo --dir $(VAR)

# The threaded tests that run under ThreadSanitizer in `make test` (about a minute of tests
# on top of the tsan build; the whole threaded set takes over 10 minutes there).
TSAN_TESTS ?= ^(cache_(concurrent|copies|roundtrip|eio|idle_seal|group_commit|ctl|sched|flush_threads|flush_split)|engine_(wait|pool|aio_close)|sched_(engine|threads|grant)|store_group_commit|batch_isolation[.]threads|bench_cache|bench_class_threads)$$

# The whole suite, in every preset of TEST_PRESETS (default: debug, asan), then the threaded
# tests under tsan (TSAN_TESTS=none to skip).
test: deps
	@set -e; for p in $(TEST_PRESETS); do \
		echo "== ctest --preset $$p"; \
		cmake --preset $$p >/dev/null; \
		cmake --build --preset $$p -j $(JOBS); \
		ctest --preset $$p -j $(JOBS) -LE long $(CTEST_ARGS); \
	done
	@set -e; if [ "$(TSAN_TESTS)" != none ]; then \
		echo "== ctest --preset tsan (threaded tests)"; \
		cmake --preset tsan >/dev/null; \
		cmake --build --preset tsan -j $(JOBS); \
		ctest --preset tsan -j $(JOBS) -LE long -R '$(TSAN_TESTS)' $(CTEST_ARGS); \
	fi

# The long crash runs (10,000 seeds per target; tens of minutes).
test-long: deps
	@cmake --preset debug >/dev/null
	@cmake --build --preset debug -j $(JOBS)
	@ctest --preset debug -L long --output-on-failure

# Install the libraries, headers, rawio.pc, the rawio command and the man pages under PREFIX
# (default /usr/local), staged under DESTDIR when set: make install PREFIX=/usr DESTDIR=pkg
install: deps
	@cmake --preset $(PRESET) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build --preset $(PRESET) -j $(JOBS)
	@DESTDIR=$(DESTDIR) cmake --install $(BUILD)

bench: build
	@./bench/run.sh $(RAWIO)

format:
	@clang-format -i $(SOURCES)

format-check:
	@clang-format --dry-run -Werror $(SOURCES)

clean:
	rm -rf build
