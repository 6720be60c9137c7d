#!/usr/bin/env bash
# Bounded libFuzzer run over raw decoding or profile parsing (issue 7).
# Usage: .ci/fuzz.sh raw|profile [SECONDS]   — findings land in fuzz-findings/ (git-ignored);
# LibRaw leaks libjpeg state on some error paths (found by this harness), so leak detection is
# off: leaks there are not ours to fix and would stop every run.
# replay one with: EMULSION_FUZZ_TARGET=raw .build/debug/EmulsionFuzz fuzz-findings/crash-…
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-raw}"; seconds="${2:-60}"
swift build -c release --product EmulsionFuzz --scratch-path .build-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -gnone -Xswiftc -use-ld=lld -Xcc -g0
corpus=$(mktemp -d)
if [ "$target" = raw ]; then
  for f in apple-quicktake_100-test100.qtk kodak-dc50-sample.kdc lg-g4_h815-lossy_linear.dng canon-eos_6d-lossy_linear.dng; do
    [ -f "../shared/raw-samples/$f" ] && cp "../shared/raw-samples/$f" "$corpus/"
  done
else
  cp Profiles/*.json "$corpus/"
fi
mkdir -p fuzz-findings
EMULSION_FUZZ_TARGET="$target" .build-fuzz/release/EmulsionFuzz "$corpus" -max_total_time="$seconds" -timeout=10 \
  -rss_limit_mb=4096 -max_len=4000000 -detect_leaks=0 -artifact_prefix=fuzz-findings/ -print_final_stats=1
