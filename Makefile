# The front door: make, make test, make run, make bench, make deps.
JOBS ?= $(shell nproc)
DATA ?= ./data

.PHONY: all build deps peers test test-asan run bench clean fuzz format

all: build

deps:
	@./scripts/deps.sh

# npm test peers (DuckDB, hyparquet...) into .npm-peers/, pinned by
# tests/peers/package-lock.json; quiet when already installed.
peers: deps
	@./scripts/peers.sh

build/CMakeCache.txt:
	@cmake --preset dev >/dev/null

build: deps build/CMakeCache.txt
	@cmake --build build -j$(JOBS)

test: build peers
	@cd build && ctest --output-on-failure -j$(JOBS) $(CTEST_ARGS)

build-asan/CMakeCache.txt:
	@cmake --preset asan >/dev/null

test-asan: deps peers build-asan/CMakeCache.txt
	@cmake --build build-asan -j$(JOBS)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j$(JOBS) $(CTEST_ARGS)

run: build
	@./scripts/run.sh $(DATA)

bench: deps
	@cmake --preset release >/dev/null
	@cmake --build build-release -j$(JOBS)
	@./scripts/bench.sh build-release

fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build build-fuzz -j$(JOBS)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-release build-fuzz
