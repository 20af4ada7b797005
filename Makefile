# The two commands a user needs: `make demo` and `make test`. Both install what is missing
# (scripts/bootstrap), build, then do their job.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all bootstrap configure build binary test unit demo bench clean
MAKEFLAGS += --no-print-directory

all: build

bootstrap:
	@scripts/bootstrap

configure: bootstrap
	@cmake -S . -B $(BUILD) -DSLIPWAY_WERROR=ON >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# Only the slipway binary: what the demo needs, without the tests and benchmarks.
binary: configure
	@cmake --build $(BUILD) --target slipway -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure --timeout 600 -j $(JOBS)

unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit -j $(JOBS)

demo: binary
	@scripts/demo $(BUILD)/slipway

bench: build
	@scripts/bench $(BUILD)

clean:
	rm -rf $(BUILD)
