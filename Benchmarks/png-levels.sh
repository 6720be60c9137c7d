#!/usr/bin/env bash
# png-levels.sh — measure 16-bit PNG encoding speed and size per zlib level and row filter.
#
# What: runs PNGTests.testEncodingSpeedReport in a release build. It encodes (in memory) a
# 4000x3000 16-bit RGB image of smooth gradients plus noise at zlib levels 1, 3, 6 with filters
# none/sub/up/paeth/adaptive and prints seconds, MB/s of raw input and compressed size.
# Why: to choose PNGEncodingOptions.default (speed first, size second); results in docs/PNG-ENCODING.md.
# Wall times on shared 2-core machines vary between runs: compare rows of one run, not across runs.
set -euo pipefail
cd "$(dirname "$0")/.."
EMULSION_PNG_BENCH=1 swift test -c release --filter PNGTests.testEncodingSpeedReport 2>&1 \
  | grep -vE '^\[|fopenmp|^Building|^Build complete|Test Suite|◇|↳|✔'
