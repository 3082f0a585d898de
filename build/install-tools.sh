#!/bin/sh
# Makes sure the build tools are installed (Debian 12). As root it installs
# what is missing with apt-get; otherwise it prints the command to run.
#   build/install-tools.sh [build|test|browser]...
set -eu
pkgs=""
need() { # need COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 || pkgs="$pkgs $2"
}
need_file() { # need_file PATH PACKAGE
  [ -e "$1" ] || pkgs="$pkgs $2"
}
for what in "${@:-build}"; do
  case $what in
    build)
      need cc gcc; need make make; need cmake cmake; need ninja ninja-build
      need curl curl; need xz xz-utils; need patch patch; need python3 python3
      need emcc emscripten; need node nodejs; need autoreconf autoconf
      need libtoolize libtool; need pkg-config pkg-config
      need npm npm ;; # models/fetch-lid.sh: npm pack
    test)
      need clang clang; need_file /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a libclang-rt-14-dev
      need npm npm
      # tests/js/lid.test.mjs: Debian's fastText as the reference, and the
      # translated debconf templates tests/lid/make-lid-set.py reads
      need fasttext fasttext
      for p in tzdata locales ca-certificates ucf; do
        need_file /var/lib/dpkg/info/$p.templates $p
      done
      # tests/summarize/extract-reuters.py: the Reuters-21578 articles
      need_file /usr/lib/R/site-library/tm r-cran-tm
      # tests/js/sentiment.test.mjs: the held-out reviews, exported with R
      need Rscript r-base-core
      need_file /usr/lib/R/site-library/modeldata r-cran-modeldata
      # the store tests: Debian's reference argon2 and an independent reader
      # of the store format (tests/store/open_store.py, PyNaCl)
      need argon2 argon2; need_file /usr/lib/python3/dist-packages/nacl python3-nacl
      # tests/tokenizers/make-unigram.py: SentencePiece trains the Unigram test model
      need_file /usr/lib/python3/dist-packages/sentencepiece python3-sentencepiece
      # tests/models/make_hf_model.py, tests/encoder/: random-weight Hugging
      # Face models and the PyTorch references the encoder tests compare with
      need_file /usr/lib/python3/dist-packages/torch python3-torch
      # tests/encoder/llamacpp_convert.py: llama.cpp's converter writes its
      # progress with tqdm and reads SentencePiece models with protobuf
      need_file /usr/lib/python3/dist-packages/tqdm python3-tqdm
      need_file /usr/lib/python3/dist-packages/google/protobuf python3-protobuf
      # tests/bench/llm.mjs: peak RSS of the engine while generating (GNU time)
      need_file /usr/bin/time time ;;
    models)
      need fasttext fasttext; need Rscript r-base-core
      need_file /usr/lib/R/site-library/modeldata r-cran-modeldata
      need_file /usr/lib/R/site-library/tm r-cran-tm ;;
    browser)
      need chromium chromium; need firefox-esr firefox-esr; need xvfb-run xvfb
      need fasttext fasttext; need unzip unzip; need openssl openssl ;;
  esac
done
[ -z "$pkgs" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "install-tools: installing$pkgs"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q $pkgs >/dev/null
else
  echo "install-tools: missing packages; run:" >&2
  echo "  sudo apt-get install$pkgs" >&2
  exit 1
fi
