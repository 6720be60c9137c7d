#!/usr/bin/env bash
# The full hostile-input run (issue 7): every generated variant through `info` and `process`, not the test suite's sample.
# Usage: .ci/hostile.sh [COUNT]   (default 2100 variants; e.g. 20000 for a long soak)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build
EMULSION_HOSTILE_STRIDE=1 EMULSION_HOSTILE_COUNT="${1:-2100}" swift test --filter HostileInputTests
