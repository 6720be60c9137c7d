#!/usr/bin/env bash
# png-levels.sh — measure 16-bit PNG encoding speed and size per zlib level and row filter.
#
# What: runs PNGTests.testEncodingSpeedReport in a release build. It encodes (in memory) a
# 4000x3000 16-bit RGB image of smooth gradients plus noise at zlib levels 1, 3, 6 with filters
# none/sub/up/paeth/adaptive, then with the RLE and Huffman-only strategies, then the default on
# one thread and on all cores, printing seconds, MB/s of raw input and size. All through the
# segmented encoder (pngsegments.c); `emulsion bench` measures the same on rendered images.
# Why: to choose PNGEncodingOptions.default (speed first, size second); results in docs/PNG-ENCODING.md
# and docs/PERFORMANCE.md.
# Wall times on shared 2-core machines vary between runs: compare rows of one run, not across runs;
# the parallel rows only mean something when the other cores are idle (check `uptime` first).
# Usage: Benchmarks/png-levels.sh            all levels, filters and strategies, then the default
#        Benchmarks/png-levels.sh parallel   only the default, one thread against all cores (3 times each)
set -euo pipefail
cd "$(dirname "$0")/.."
EMULSION_PNG_BENCH="${1:-1}" swift test -c release --filter PNGTests.testEncodingSpeedReport 2>&1 \
  | grep -vE '^\[|fopenmp|^Building|^Build complete|Test Suite|◇|↳|✔'
