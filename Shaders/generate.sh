#!/usr/bin/env bash
# Rewrites the generated shaders in this folder from the Swift declarations (GLSLGenerator), then
# checks them: the same test CI runs, with EMULSION_WRITE_SHADERS=1 so it writes before comparing.
set -euo pipefail
cd "$(dirname "$0")/.."
EMULSION_WRITE_SHADERS=1 swift test --filter ShaderGenerationTests.testCommittedShadersMatchTheDeclarations
