#!/usr/bin/env bash
# Thread Sanitizer over the parallel batch and the parallel engine, then the whole test suite
# under Address Sanitizer (issue 7). Slow (tens of minutes on 2 cores): not part of .ci/run.
# Usage: .ci/sanitizers.sh [tsan|asan|all] [swift test options, e.g. --filter CLITests]
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
samples=../shared/raw-samples
if [ "$what" = tsan ] || [ "$what" = all ]; then
  # EMULSION_TSAN: two LLVM intrinsics as plain Swift (Lanes.swift says why), the same values.
  swift build --sanitize=thread --scratch-path .build-tsan --product emulsion -Xswiftc -DEMULSION_TSAN
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
  # Every product and the test bundle with ASan. The tests that drive the CLI (CLITests,
  # HostileInputTests, InterruptionTests, GoldenCLITests, LookCLITests, …) run the `emulsion`
  # beside the test bundle (CLITests.binary), i.e. this ASan build, and its decode-worker children
  # are the same binary; ASAN_OPTIONS reaches them all through the environment.
  swift build --sanitize=address --scratch-path .build-asan --build-tests
  # (grep without -q reads all of nm's output: with pipefail, -q's early exit would fail the pipe)
  nm .build-asan/debug/emulsion | grep __asan_init >/dev/null || { echo "asan: .build-asan/debug/emulsion is not an ASan build" >&2; exit 1; }
  # Reports go to files, so one from a spawned CLI process cannot hide behind a test that only
  # checks an exit code; exit code 99 is none of the CLI's own (0, 1, 2, 130). Leak detection is
  # off: LibRaw leaks libjpeg state on error paths (docs/RELIABILITY.md), not ours to fix. SIGBUS
  # is left to the process: ByteSourceTests has a forked child read a mapping cut short and expects
  # it to die of SIGBUS, which ASan's own handler would turn into a report and exit code 99; and
  # Swift's crash handler is off, since it copies the crashed thread's stack, which ASan reports
  # as a stack-buffer-underflow (in CrashHandlerLinux.cpp's memserver_read) before the signal lands.
  reports=$(mktemp -d)
  status=0
  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="detect_leaks=0:handle_sigbus=0:exitcode=99:log_path=$reports/asan" swift test --skip-build --sanitize=address \
    --scratch-path .build-asan "${@:2}" || status=$?
  if ls "$reports"/asan.* >/dev/null 2>&1; then
    cat "$reports"/asan.* >&2
    echo "asan: reports above (from $(ls "$reports" | wc -l) process(es))" >&2
    exit 1
  fi
  [ "$status" = 0 ] || { echo "asan: tests failed (exit $status), no ASan report" >&2; exit "$status"; }
  echo "asan: clean"
fi
