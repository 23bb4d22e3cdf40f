#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build script: builds the cargo-fuzz targets in
# fuzz/ and puts each binary in $OUT, with its seed corpus
# ($OUT/<target>_seed_corpus.zip), dictionary ($OUT/<target>.dict) and
# libFuzzer options ($OUT/<target>.options). Targets, build flags, seeds,
# dictionaries and limits all come from fuzz/options.sh, which
# `ci/fuzz.sh` uses too.
#
# The build configuration follows $SANITIZER, which the workflow's
# `sanitizer` input sets:
#   address    the `asan` configuration (pull-request fuzzing in
#              .github/workflows/cflite_pr.yml), as `ci/fuzz.sh --smoke`
#   undefined  the `fast` configuration: no sanitizer, full speed (batch
#              fuzzing and corpus pruning), as `ci/fuzz.sh --time`/`--jobs`.
#              ClusterFuzzLite accepts only address, memory, undefined and
#              coverage; `undefined` is the one for which its compile step
#              passes Rust no -Zsanitizer flag (rustc has no UBSan), so it
#              stands for "no sanitizer". Its bad-build check would look for
#              UBSan calls, hence `bad-build-check: false` in those workflows.
#   coverage   the image's `cargo` wrapper turns `cargo fuzz build` into a
#              coverage-instrumented build (coverage reports)
#
# In the builder image it runs from $SRC/framecheck. By hand, from anywhere:
#   mkdir -p /tmp/cfl/src /tmp/cfl/out && ln -sfn "$PWD" /tmp/cfl/src/framecheck
#   SRC=/tmp/cfl/src OUT=/tmp/cfl/out SANITIZER=undefined bash .clusterfuzzlite/build.sh

cd "$SRC/framecheck"
# shellcheck source=../fuzz/options.sh
. fuzz/options.sh

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
triple="$(rustc "${toolchain[@]}" -vV | sed -n 's/^host: //p')"

case "${SANITIZER:-address}" in
  address) config=asan ;;
  undefined | none) config=fast ;;
  coverage) config=coverage ;;
  *) echo "build.sh: no build for SANITIZER=$SANITIZER (address, undefined or coverage)" >&2; exit 1 ;;
esac

if [ "$config" = coverage ]; then
  cargo "${toolchain[@]}" fuzz build -O
  bin_dir="fuzz/target/$triple/release"
else
  read -r -a flags <<<"$(fuzz_build_flags "$config")"
  fuzz_scope_env
  cargo "${toolchain[@]}" fuzz build "${flags[@]}"
  bin_dir="$(fuzz_bin_dir "$config" "$triple")"
fi

for target in $(cargo "${toolchain[@]}" fuzz list); do
  fuzz_is_fuzzed "$target" || continue
  cp "$bin_dir/$target" "$OUT/"
  seeds="$(fuzz_seed_dir "$target")"
  rm -f "$OUT/${target}_seed_corpus.zip"
  (cd "$seeds" && zip -q -j "$OUT/${target}_seed_corpus.zip" ./*)
  dict_line=""
  dict="$(fuzz_dict "$target")"
  if [ -n "$dict" ]; then
    cp "$dict" "$OUT/$target.dict"
    dict_line="dict = $target.dict"
  fi
  printf '[libfuzzer]\nmalloc_limit_mb = %s\nrss_limit_mb = %s\ntimeout = %s\n%s\n' \
    "$FUZZ_MALLOC_MB" "$FUZZ_RSS_MB" "$FUZZ_TIMEOUT" "$dict_line" >"$OUT/$target.options"
done
