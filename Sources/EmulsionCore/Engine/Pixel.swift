/// Three colour channels of one lane group: a pixel for `Float`, four pixels for `SIMD4<Float>`.
public struct RGB<L: Lanes>: Sendable {
    public var r: L
    public var g: L
    public var b: L
    @inlinable @inline(__always) public init(_ r: L, _ g: L, _ b: L) { self.r = r; self.g = g; self.b = b }
}

/// Where a lane group sits in the image, for kernels that depend on position (vignette, grain).
public struct PixelLocation: Sendable {
    /// Column of lane 0; lane i is at `x + i`.
    public var x: Int
    public var y: Int
    @inlinable public init(x: Int, y: Int) { self.x = x; self.y = y }
}

/// Which instantiation of the kernels runs: the portable scalar fallback or the SIMD one.
public enum Engine: String, Sendable, CaseIterable {
    case simd
    case scalar
}

/// Lane width of the `.simd` engine. `SIMDLanes` (4) is the default and what kernels written
/// elsewhere instantiate; the executor's own dispatch sites (point loop, raw normalisation,
/// bilinear demosaic, sink) follow `SIMDWidth.selected`, which only the benchmark changes, so
/// the choice of width is measured through the whole pipeline (docs/PERFORMANCE.md).
public enum SIMDWidth: Int, Sendable, CaseIterable {
    case four = 4, eight = 8, sixteen = 16

    /// The width the engine uses; a process-wide benchmark knob, set before rendering starts.
    nonisolated(unsafe) public static var selected: SIMDWidth = .four
}
