#!/usr/bin/env bash
# Thread Sanitizer over the parallel batch and the parallel engine, then the whole test suite
# under Address Sanitizer (issue 7). Slow (tens of minutes on 2 cores): not part of .ci/run.
# Usage: .ci/sanitizers.sh [tsan|asan|all]
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
samples=../shared/raw-samples
if [ "$what" = tsan ] || [ "$what" = all ]; then
  swift build --sanitize=thread --scratch-path .build-tsan --product emulsion
  out=$(mktemp -d)
  # Two files at once, each with two engine threads: both kinds of parallelism at the same time.
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" .build-tsan/debug/emulsion process --in-process-decoder \
    --threads 2 --out-dir "$out" "$samples"/raspberrypi-gs_camera_imx296-lightspot.dng "$samples"/kodak-dc50-sample.kdc \
    "$samples"/apple-quicktake_100-test100.qtk "$samples"/lg-g4_h815-lossy_linear.dng
  TSAN_OPTIONS="halt_on_error=1" .build-tsan/debug/emulsion process --in-process-decoder --threads 2 \
    --out-dir "$out" --overwrite "$samples"/canon-eos_kiss_x4-colorchart_crop.dng
  echo "tsan: clean"
fi
if [ "$what" = asan ] || [ "$what" = all ]; then
  swift build --sanitize=address --scratch-path .build-asan
  ASAN_OPTIONS="detect_leaks=0" swift test --sanitize=address --scratch-path .build-asan
  echo "asan: clean"
fi
