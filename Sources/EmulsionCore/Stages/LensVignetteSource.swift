/// Applies a DNG FixVignetteRadial (`LensVignette`) to the strips of its inner source: each
/// pixel of all three planes times the gain at its distance from the optical centre.
///
/// Why a source and not a point kernel: the opcode belongs to OpcodeList3, in order with the
/// WarpRectilinear beside it (before the warp it sees uncorrected geometry, after it the
/// corrected), and before the pixel-aspect stretch and the crops — all of which move pixels,
/// where the look's kernels see output positions.
/// How: the horizontal part of r² is worked out once per column, the vertical once per row; per
/// pixel the polynomial in r² is five multiply-adds in Float (relative error ~10⁻⁷, against the
/// SDK's own 16-bit table at ~3·10⁻⁵), four columns as one vector and the row's last columns
/// one at a time through the same operations, so every column gets the same bits either way and
/// both engines run this one path.
/// Reference: DNG specification 1.6, chapter 7, opcode 3; Adobe DNG SDK dng_opcode_FixVignetteRadial.
/// Colour space: camera RGB, linear, white-balanced (after demosaic), in and out.
public struct LensVignetteSource: StripSource {
    public let inner: any StripSource
    public let mapping: LensVignette.Mapping
    /// The inner source's size, kept: read through its existential, each use is a dynamic call
    /// (once every four pixels in `fill`'s loops, that cost 5 ns/px).
    public let width: Int, height: Int
    /// The horizontal part of r² per column.
    let columnTerms: [Float]
    /// k0 … k4 as Float (lanes 0–4), in a vector rather than an array the loop would read through.
    let k: SIMD8<Float>

    public init(inner: any StripSource, mapping: LensVignette.Mapping) {
        self.inner = inner
        self.mapping = mapping
        (width, height) = (inner.width, inner.height)
        columnTerms = mapping.columnTerms(width: inner.width).map(Float.init)
        let c = mapping.vignette.coefficients.map(Float.init)
        k = SIMD8(c[0], c[1], c[2], c[3], c[4], 0, 0, 0)
    }

    public func makeScratch(stripRows: Int) -> SourceScratch {
        // One row of gains, with a vector's room past its end.
        SourceScratch(capacity: width + 4, inner: inner.makeScratch(stripRows: stripRows))
    }

    public func fill(_ strip: Strip, scratch: SourceScratch, engine: Engine) {
        inner.fill(strip, scratch: scratch.inner!, engine: engine)
        let gains = scratch.buffer
        let planes = [strip.r, strip.g, strip.b]
        columnTerms.withUnsafeBufferPointer { columns in
            for row in 0..<strip.rows {
                let vertical = Float(mapping.rowTerm(strip.firstRow + row))
                var x = 0
                while x + 4 <= width {
                    let r2 = UnsafeRawPointer(columns.baseAddress! + x).loadUnaligned(as: SIMD4<Float>.self) + vertical
                    UnsafeMutableRawPointer(gains + x).storeBytes(of: gain(r2), as: SIMD4<Float>.self)
                    x += 4
                }
                while x < width {
                    gains[x] = gain(SIMD4(repeating: columns[x] + vertical))[0]
                    x += 1
                }
                let out = row * width
                for plane in planes {
                    var x = 0
                    while x + 4 <= width {
                        let p = UnsafeMutableRawPointer(plane + out + x)
                        p.storeBytes(of: p.loadUnaligned(as: SIMD4<Float>.self) * UnsafeRawPointer(gains + x).loadUnaligned(as: SIMD4<Float>.self),
                                     as: SIMD4<Float>.self)
                        x += 4
                    }
                    while x < width {
                        plane[out + x] *= gains[x]
                        x += 1
                    }
                }
            }
        }
    }

    /// 1 + k0 r² + … + k4 r¹⁰ at r² clamped to [0, 1]; a gain that is not a number is 1, others
    /// are held to [0, 65535] (`LensVignette.gain`).
    @inline(__always)
    func gain(_ r2: SIMD4<Float>) -> SIMD4<Float> {
        var x = r2.replacing(with: 0, where: r2 .< 0)
        x.replace(with: 1, where: x .> 1)
        var sum = x * k[4]
        sum = x * (k[3] + sum)
        sum = x * (k[2] + sum)
        sum = x * (k[1] + sum)
        sum = x * (k[0] + sum)
        var g = sum + 1
        g.replace(with: 1, where: g .!= g)
        g.replace(with: 0, where: g .< 0)
        g.replace(with: 65535, where: g .> 65535)
        return g
    }
}
