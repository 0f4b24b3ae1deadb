# The README's two commands: `make demo` and `make test`. Both install what
# is missing (make deps), build, and run. See README.md.
BUILD      ?= build
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 30

.PHONY: all build deps test demo bench fuzz fuzz-build unit clean

all: build

deps:
	@scripts/deps

build:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

fuzz-build:
	@CC=clang cmake -S fuzz -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)

# Unit tests (plain and ASan+UBSan), corpus replays, short fuzz runs and the
# integration tests with real clients; ends with ctest's summary line.
test: deps
	@$(MAKE) --no-print-directory build fuzz-build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

# Only the C unit tests (fast inner loop).
unit: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -R '^(unit|asan)/'

demo: deps
	@$(MAKE) --no-print-directory build
	@scripts/demo $(BUILD)/sluice

bench: deps
	@$(MAKE) --no-print-directory build
	@scripts/bench $(BUILD)/sluice

# make fuzz [TARGET=name] [FUZZ_SECONDS=n]: run libFuzzer as long as asked.
fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@for t in $${TARGET:-$$(ls fuzz/*.c | xargs -n1 basename | sed 's/\.c$$//' | grep -v replay_main)}; do \
		echo "fuzz: $$t for $(FUZZ_SECONDS)s"; scripts/fuzz-run $$t $(FUZZ_SECONDS) || exit 1; done

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD)
