/// A per-pixel stage's kernel: pure maths on one lane group, with no loops, threads or allocation.
///
/// Kernels hold only derived constants (computed once by their stage's `prepare`). The executor
/// owns iteration; `run(over:engine:)` and `run(over:into:engine:)` are the entry points it
/// calls, and their default implementations specialise the shared row loops for this kernel and
/// the chosen lane type.
public protocol PointKernel: Sendable {
    func apply<L: Lanes>(_ pixel: RGB<L>, at location: PixelLocation) -> RGB<L>
    func run(over strip: Strip, engine: Engine)
    /// Runs the kernel over `strip` and hands the result straight to `sink` (quantised and
    /// oriented) without storing it back: the executor fuses the last point stage with the sink.
    func run(over strip: Strip, into sink: OutputSink, engine: Engine)
}

extension PointKernel {
    public func run(over strip: Strip, engine: Engine) {
        switch engine {
        case .scalar: PointLoop.run(self, over: strip, lanes: Float.self)
        case .simd:
            switch SIMDWidth.selected {
            case .four: PointLoop.run(self, over: strip, lanes: SIMD4<Float>.self)
            case .eight: PointLoop.run(self, over: strip, lanes: SIMD8<Float>.self)
            case .sixteen: PointLoop.run(self, over: strip, lanes: SIMD16<Float>.self)
            }
        }
    }

    public func run(over strip: Strip, into sink: OutputSink, engine: Engine) {
        switch engine {
        case .scalar: PointLoop.run(self, over: strip, into: sink, lanes: Float.self)
        case .simd:
            switch SIMDWidth.selected {
            case .four: PointLoop.run(self, over: strip, into: sink, lanes: SIMD4<Float>.self)
            case .eight: PointLoop.run(self, over: strip, into: sink, lanes: SIMD8<Float>.self)
            case .sixteen: PointLoop.run(self, over: strip, into: sink, lanes: SIMD16<Float>.self)
            }
        }
    }
}

/// The only loops over pixels that point kernels get: rows of the strip, lane groups along a row,
/// and the row's remainder through the scalar instantiation (the same operations, so the same bits).
public enum PointLoop {
    @inlinable
    public static func run<K: PointKernel, L: Lanes>(_ kernel: K, over strip: Strip, lanes: L.Type) {
        let width = strip.width
        let step = L.laneCount
        for row in 0..<strip.rows {
            let base = row * width
            let y = strip.firstRow + row
            var x = 0
            while x + step <= width {
                let i = base + x
                let p = RGB(L(loading: strip.r + i), L(loading: strip.g + i), L(loading: strip.b + i))
                let q = kernel.apply(p, at: PixelLocation(x: x, y: y))
                q.r.store(to: strip.r + i); q.g.store(to: strip.g + i); q.b.store(to: strip.b + i)
                x += step
            }
            while x < width {
                let i = base + x
                let p = RGB(strip.r[i], strip.g[i], strip.b[i])
                let q = kernel.apply(p, at: PixelLocation(x: x, y: y))
                strip.r[i] = q.r; strip.g[i] = q.g; strip.b[i] = q.b
                x += 1
            }
        }
    }

    /// `kernel` over `strip`, results quantised into `sink` (the fused last stage): lane groups
    /// are quantised into three planar code rows with vector stores, then the sink interleaves
    /// each row into the oriented output (per-lane interleaving stores would scalarise the maths).
    @inlinable
    public static func run<K: PointKernel, L: Lanes>(_ kernel: K, over strip: Strip, into sink: OutputSink, lanes: L.Type) {
        let width = strip.width
        let step = L.laneCount
        let scale = sink.scale
        let padded = width + 16
        withUnsafeTemporaryAllocation(of: UInt16.self, capacity: 3 * padded) { codes in
            let r = codes.baseAddress!, g = r + padded, b = g + padded
            for row in 0..<strip.rows {
                let base = row * width
                let y = strip.firstRow + row
                var x = 0
                while x + step <= width {
                    let i = base + x
                    let p = RGB(L(loading: strip.r + i), L(loading: strip.g + i), L(loading: strip.b + i))
                    let q = kernel.apply(p, at: PixelLocation(x: x, y: y))
                    q.r.storeQuantised(scale: scale, to: r + x)
                    q.g.storeQuantised(scale: scale, to: g + x)
                    q.b.storeQuantised(scale: scale, to: b + x)
                    x += step
                }
                while x < width {
                    let i = base + x
                    let q = kernel.apply(RGB(strip.r[i], strip.g[i], strip.b[i]), at: PixelLocation(x: x, y: y))
                    q.r.storeQuantised(scale: scale, to: r + x)
                    q.g.storeQuantised(scale: scale, to: g + x)
                    q.b.storeQuantised(scale: scale, to: b + x)
                    x += 1
                }
                sink.interleave(r, g, b, row: y)
            }
        }
    }
}
