# The two commands a user needs: `make demo` and `make test`. Both install what is missing
# (scripts/bootstrap), build, then do their job.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all bootstrap build test unit demo bench clean

all: build

bootstrap:
	@scripts/bootstrap

build: bootstrap
	@cmake -S . -B $(BUILD) -DSLIPWAY_WERROR=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure --timeout 600 -j $(JOBS)

unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit -j $(JOBS)

demo: build
	@scripts/demo $(BUILD)/slipway

bench: build
	@scripts/bench $(BUILD)

clean:
	rm -rf $(BUILD)
