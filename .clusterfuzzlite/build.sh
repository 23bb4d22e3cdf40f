#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build script: builds the cargo-fuzz targets in
# fuzz/ with AddressSanitizer and puts each binary in $OUT, with its seed
# corpus ($OUT/<target>_seed_corpus.zip), dictionary ($OUT/<target>.dict)
# and libFuzzer options ($OUT/<target>.options: the malloc limit that makes
# an allocation sized from an untrusted length a finding).
#
# In the builder image it runs from $SRC/framecheck. By hand, from anywhere:
#   mkdir -p /tmp/cfl/src /tmp/cfl/out && ln -sfn "$PWD" /tmp/cfl/src/framecheck
#   SRC=/tmp/cfl/src OUT=/tmp/cfl/out bash .clusterfuzzlite/build.sh

cd "$SRC/framecheck"

# The builder image's default toolchain is nightly; elsewhere use rustup's
# nightly if there is one, else stable with RUSTC_BOOTSTRAP (the sanitizer
# flags are unstable).
toolchain=()
if ! rustc --version | grep -q nightly; then
  if cargo +nightly --version >/dev/null 2>&1; then
    toolchain=(+nightly)
  else
    export RUSTC_BOOTSTRAP=1
  fi
fi

cargo "${toolchain[@]}" fuzz build -O --debug-assertions

triple="$(rustc "${toolchain[@]}" -vV | sed -n 's/^host: //p')"
for target in $(cargo "${toolchain[@]}" fuzz list | grep -v '^selftest_'); do
  cp "fuzz/target/$triple/release/$target" "$OUT/"
  if [ -d "fuzz/corpus/$target" ]; then
    rm -f "$OUT/${target}_seed_corpus.zip"
    (cd "fuzz/corpus/$target" && zip -q -j "$OUT/${target}_seed_corpus.zip" ./*)
  fi
  dict=""
  case "$target" in
    header | decode)
      cp fuzz/dict/header.dict "$OUT/$target.dict"
      dict="dict = $target.dict"
      ;;
  esac
  printf '[libfuzzer]\nmalloc_limit_mb = 64\ntimeout = 10\n%s\n' "$dict" >"$OUT/$target.options"
done
