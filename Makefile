# sotto - front door. `make` builds everything, `make test` tests it, `make run`
# shows it working. Build output goes to out/ (never committed).
OUT      := out
DEPS     := $(OUT)/deps/src
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
# Debian's emscripten 3.1.6 needs its node modules path, and its glue needs
# node's experimental fetch off (else it fetch()es file paths).
EMENV    := NODE_PATH=/usr/share/nodejs NODE_OPTIONS=--no-experimental-fetch
NODE     := node --no-experimental-fetch
# Builds of one flavour are serialised, so several make runs can share out/.
LOCK     = flock $(OUT)/.lock-$(1)
CMAKE_NATIVE := cmake -S . -G Ninja -DCMAKE_BUILD_TYPE=Release -DSOTTO_DEPS=$(abspath $(DEPS))

.PHONY: all tools deps native wasm wasm-mt test test-c test-js bench run clean
all: native wasm wasm-mt

tools:
	@build/install-tools.sh build

deps: tools
	@build/fetch-deps.sh

$(OUT)/sodium/%/lib/libsodium.a: | deps
	build/build-sodium.sh $* $(DEPS)/libsodium $(abspath $(OUT)/sodium/$*)

native: deps $(OUT)/sodium/native/lib/libsodium.a
	@[ -f $(OUT)/native/build.ninja ] || $(CMAKE_NATIVE) -B $(OUT)/native \
	  -DSOTTO_SODIUM=$(abspath $(OUT)/sodium/native) >/dev/null
	$(call LOCK,native) cmake --build $(OUT)/native -j $(JOBS)

wasm: deps $(OUT)/sodium/wasm/lib/libsodium.a
	@[ -f $(OUT)/wasm/build.ninja ] || $(EMENV) emcmake cmake -S . -B $(OUT)/wasm -G Ninja \
	  -DCMAKE_BUILD_TYPE=Release -DSOTTO_DEPS=$(abspath $(DEPS)) \
	  -DSOTTO_SODIUM=$(abspath $(OUT)/sodium/wasm) >/dev/null
	$(call LOCK,wasm) env $(EMENV) cmake --build $(OUT)/wasm -j $(JOBS) --target sotto_wasm

wasm-mt: deps $(OUT)/sodium/wasm-mt/lib/libsodium.a
	@[ -f $(OUT)/wasm-mt/build.ninja ] || $(EMENV) emcmake cmake -S . -B $(OUT)/wasm-mt -G Ninja \
	  -DCMAKE_BUILD_TYPE=Release -DSOTTO_DEPS=$(abspath $(DEPS)) -DSOTTO_THREADS=ON \
	  -DSOTTO_SODIUM=$(abspath $(OUT)/sodium/wasm-mt) >/dev/null
	$(call LOCK,wasm-mt) env $(EMENV) cmake --build $(OUT)/wasm-mt -j $(JOBS) --target sotto_wasm

test: all
	@build/install-tools.sh test
	$(MAKE) test-c test-js

test-c:
	cd $(OUT)/native && ctest --output-on-failure

test-js:
	$(NODE) --test tests/js/

bench: all
	$(NODE) --no-liftoff tests/bench/matmul.mjs

run: native
	$(OUT)/native/engine/sotto capabilities
	@echo '{"id":"demo","op":"tensor.matmul","a":{"shape":[2,3],"data":[1,2,3,4,5,6]},"b":{"shape":[3,2],"data":[1,0,0,1,1,1]}}' \
	  | $(OUT)/native/engine/sotto request

clean:
	rm -rf $(OUT)
