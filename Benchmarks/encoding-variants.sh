#!/bin/sh
# Same-run comparison of output-encoding and sink variants (docs/PERFORMANCE.md, run v5):
# the engine's table-driven encoding and sink, scalar and SIMD, against the closed-form
# transfer curve that was tried instead of the table. Compiles the Foundation-free kernel
# files with the benchmark (swiftc -O -wmo, no package build needed) and prints CPU ns/px.
set -e
cd "$(dirname "$0")/.."
core=Sources/EmulsionCore
out=${TMPDIR:-/tmp}/emulsion-encoding-variants
swiftc -O -wmo -module-name EncodingVariants -o "$out" \
    $core/Engine/Lanes.swift $core/Engine/Pixel.swift $core/Engine/FloatTable.swift $core/Engine/Strip.swift \
    $core/Engine/PointKernel.swift $core/Engine/OutputSink.swift $core/Engine/LanesDispatch.swift \
    $core/Engine/ChannelCurve.swift $core/Image/Orientation.swift $core/Colour/Matrix3.swift \
    $core/Stages/ColourMatrix.swift $core/Stages/OutputEncoding.swift \
    Benchmarks/encoding-variants/PowerCurve.swift Benchmarks/encoding-variants/main.swift
"$out"
