/// A per-pixel stage's kernel: pure maths on one lane group, with no loops, threads or allocation.
///
/// Kernels hold only derived constants (computed once by their stage's `prepare`). The executor
/// owns iteration; `run(over:engine:)` is the one entry point it calls, and its default
/// implementation specialises the shared row loop for this kernel and the chosen lane type.
public protocol PointKernel: Sendable {
    func apply<L: Lanes>(_ pixel: RGB<L>, at location: PixelLocation) -> RGB<L>
    func run(over strip: Strip, engine: Engine)
}

extension PointKernel {
    public func run(over strip: Strip, engine: Engine) {
        switch engine {
        case .scalar: PointLoop.run(self, over: strip, lanes: Float.self)
        case .simd: PointLoop.run(self, over: strip, lanes: SIMD8<Float>.self)
        }
    }
}

/// The only loop over pixels that point kernels get: rows of the strip, lane groups along a row,
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
}
