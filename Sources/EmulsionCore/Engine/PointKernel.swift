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
    /// True when every output value lies in [0, 1] up to a few ulps (whatever the input, NaN
    /// included): the fused sink then quantises without its clamp, which cannot change a code.
    var staysInUnitRange: Bool { get }
    /// True for a kernel measured faster at twice the engine's lane width (`Engine.dispatch`'s
    /// `doubled`): one whose per-lane table reads leave the vector units idle, so two registers per
    /// value give the core independent work to overlap (docs/PERFORMANCE.md, run v14).
    static var runsDoubleWidth: Bool { get }
}

extension PointKernel {
    public var staysInUnitRange: Bool { false }
    public static var runsDoubleWidth: Bool { false }

    public func run(over strip: Strip, engine: Engine) {
        engine.dispatch(PointLoop.InPlace(kernel: self, strip: strip), doubled: Self.runsDoubleWidth)
    }

    public func run(over strip: Strip, into sink: OutputSink, engine: Engine) {
        engine.dispatch(PointLoop.IntoSink(kernel: self, strip: strip, sink: sink), doubled: Self.runsDoubleWidth)
    }
}

/// The only loops over pixels that point kernels get: rows of the strip, lane groups along a row,
/// and the row's remainder through the scalar instantiation (the same operations, so the same bits).
public enum PointLoop {
    /// `run(_:over:lanes:)` as a dispatch body.
    @usableFromInline struct InPlace<K: PointKernel>: LanesBody {
        @usableFromInline let kernel: K
        @usableFromInline let strip: Strip
        @inlinable init(kernel: K, strip: Strip) { self.kernel = kernel; self.strip = strip }
        @inlinable func run<L: Lanes>(_ lanes: L.Type) { PointLoop.run(kernel, over: strip, lanes: lanes) }
    }

    /// `run(_:over:into:lanes:)` as a dispatch body.
    @usableFromInline struct IntoSink<K: PointKernel>: LanesBody {
        @usableFromInline let kernel: K
        @usableFromInline let strip: Strip
        @usableFromInline let sink: OutputSink
        @inlinable init(kernel: K, strip: Strip, sink: OutputSink) { self.kernel = kernel; self.strip = strip; self.sink = sink }
        @inlinable func run<L: Lanes>(_ lanes: L.Type) { PointLoop.run(kernel, over: strip, into: sink, lanes: lanes) }
    }

    @inlinable
    public static func run<K: PointKernel, L: Lanes>(_ kernel: K, over strip: Strip, lanes: L.Type) {
        for row in 0..<strip.rows {
            eachGroup(kernel, strip, row: row, L.self, InPlaceStore(strip: strip, base: row * strip.width))
        }
    }

    /// `kernel` over `strip`, results quantised into `sink` (the fused last stage): lane groups
    /// are quantised into three planar rows of code words with vector stores, then the sink
    /// interleaves each row into the oriented output (per-lane interleaving stores would scalarise
    /// the maths; interleaving in registers was measured no faster: docs/PERFORMANCE.md).
    @inlinable
    public static func run<K: PointKernel, L: Lanes>(_ kernel: K, over strip: Strip, into sink: OutputSink, lanes: L.Type) {
        let scale = sink.scale
        let padded = strip.width + 16
        let inRange = kernel.staysInUnitRange
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 3 * padded) { codes in
            let r = codes.baseAddress!
            for row in 0..<strip.rows {
                if inRange {
                    eachGroup(kernel, strip, row: row, L.self, Planar<InRange>(r: r, g: r + padded, b: r + 2 * padded, scale: scale))
                } else {
                    eachGroup(kernel, strip, row: row, L.self, Planar<Clamped>(r: r, g: r + padded, b: r + 2 * padded, scale: scale))
                }
                sink.interleave(r, r + padded, r + 2 * padded, row: strip.firstRow + row)
            }
        }
    }

    /// Where a row's results go: `store(q, x:)` for the group whose lane 0 is column x.
    @usableFromInline protocol GroupStore {
        func store<M: Lanes>(_ q: RGB<M>, x: Int)
    }

    /// One row of `strip` through `kernel`: lane groups, then the remainder through the scalar
    /// instantiation (the same operations, so the same bits).
    @inlinable @inline(__always)
    static func eachGroup<K: PointKernel, L: Lanes, S: GroupStore>(_ kernel: K, _ strip: Strip, row: Int, _: L.Type, _ out: S) {
        let width = strip.width
        let base = row * width
        let y = strip.firstRow + row
        var x = 0
        while x + L.laneCount <= width {
            let i = base + x
            let p = RGB(L(loading: strip.r + i), L(loading: strip.g + i), L(loading: strip.b + i))
            out.store(kernel.apply(p, at: PixelLocation(x: x, y: y)), x: x)
            x += L.laneCount
        }
        while x < width {
            let i = base + x
            out.store(kernel.apply(RGB(strip.r[i], strip.g[i], strip.b[i]), at: PixelLocation(x: x, y: y)), x: x)
            x += 1
        }
    }

    /// How a planar store quantises: with the clamp, or without it for a kernel whose outputs
    /// stay in [0, 1] (`PointKernel.staysInUnitRange`).
    @usableFromInline protocol Quantisation {
        static func store<M: Lanes>(_ value: M, scale: Float, to words: UnsafeMutablePointer<UInt32>)
    }
    @usableFromInline enum Clamped: Quantisation {
        @inlinable @inline(__always) static func store<M: Lanes>(_ value: M, scale: Float, to words: UnsafeMutablePointer<UInt32>) {
            value.storeQuantisedWords(scale: scale, to: words)
        }
    }
    @usableFromInline enum InRange: Quantisation {
        @inlinable @inline(__always) static func store<M: Lanes>(_ value: M, scale: Float, to words: UnsafeMutablePointer<UInt32>) {
            value.storeQuantisedWordsInRange(scale: scale, to: words)
        }
    }

    @usableFromInline struct Planar<Q: Quantisation>: GroupStore {
        @usableFromInline let r, g, b: UnsafeMutablePointer<UInt32>
        @usableFromInline let scale: Float
        @inlinable init(r: UnsafeMutablePointer<UInt32>, g: UnsafeMutablePointer<UInt32>, b: UnsafeMutablePointer<UInt32>, scale: Float) {
            self.r = r; self.g = g; self.b = b; self.scale = scale
        }
        @inlinable @inline(__always) func store<M: Lanes>(_ q: RGB<M>, x: Int) {
            Q.store(q.r, scale: scale, to: r + x)
            Q.store(q.g, scale: scale, to: g + x)
            Q.store(q.b, scale: scale, to: b + x)
        }
    }

    @usableFromInline struct InPlaceStore: GroupStore {
        @usableFromInline let strip: Strip
        @usableFromInline let base: Int
        @inlinable init(strip: Strip, base: Int) { self.strip = strip; self.base = base }
        @inlinable @inline(__always) func store<M: Lanes>(_ q: RGB<M>, x: Int) {
            let i = base + x
            q.r.store(to: strip.r + i); q.g.store(to: strip.g + i); q.b.store(to: strip.b + i)
        }
    }
}
