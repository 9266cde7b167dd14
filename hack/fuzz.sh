#!/usr/bin/env bash
# Builds the decoders' fuzzers (Fuzz/, a package of their own) with libFuzzer and runs
# each for a bounded time over its seed corpus (Fuzz/Corpus/<target>/); fails when one
# traps, exceeds its memory limit or hangs on an input, and keeps that input under
# Fuzz/.build/artifacts/. New inputs found along the way are not kept.
#
#   hack/fuzz.sh [SECONDS [TARGET...]]   SECONDS per target (default 30); TARGET default: all
#
# CI builds in debug, which compiles in a third of the time and runs as fast as a release
# build with AddressSanitizer; for long runs:
#   FUZZ_CONFIGURATION=release FUZZ_SANITIZERS=fuzzer,address hack/fuzz.sh 3600 FuzzHTTP2
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for directory in Fuzz/Sources/Fuzz*/; do
    name=$(basename "$directory")
    [ "$name" = FuzzSupport ] || targets+=("$name")
  done
fi

flags=(-c "${FUZZ_CONFIGURATION:-debug}" --package-path Fuzz -Xswiftc "-sanitize=${FUZZ_SANITIZERS:-fuzzer}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! swift build "${flags[@]}" >"$work/build.log" 2>&1; then
  # The linker warns about every sanitizer symbol it cannot export: leave those out.
  grep -v "warning: Cannot export local symbol" "$work/build.log" | tail -n 40 >&2
  echo "fuzz: the fuzzers do not build" >&2
  exit 1
fi
bin=$(swift build "${flags[@]}" --show-bin-path)
artifacts=Fuzz/.build/artifacts

failed=()
for target in "${targets[@]}"; do
  mkdir -p "$work/$target" "$artifacts"
  log="$work/$target.log"
  # Without Swift's backtracer, libFuzzer's own handler catches the trap and keeps the input.
  if SWIFT_BACKTRACE=enable=no "$bin/$target" "$work/$target" "Fuzz/Corpus/$target" -max_total_time="$seconds" -rss_limit_mb=1024 \
      -malloc_limit_mb=512 -timeout=10 -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/$target-" \
      >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz: $target: ${runs:-?} inputs in ${seconds} s, no failure"
  else
    failed+=("$target")
    echo "fuzz: $target FAILED:" >&2
    grep -m 3 "Fatal error" "$log" >&2 || true
    tail -n 25 "$log" >&2
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failing: ${failed[*]}; inputs kept in $artifacts (replay: SWIFT_BACKTRACE=enable=no $bin/TARGET INPUT)" >&2
  exit 1
fi
