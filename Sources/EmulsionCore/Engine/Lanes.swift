/// The one abstraction every per-pixel kernel is written against.
///
/// A kernel is written once, generic over `Lanes`; `Float` is the scalar fallback and the SIMD
/// conformances are what NEON (4 × f32 per register) and SSE/AVX run. Arithmetic comes from the
/// operators; everything Swift's generic SIMD code compiles to per-lane loops (compares, clamps,
/// selects, table gathers) is a requirement implemented on each concrete type, so the specialised
/// kernel gets vector compares and blends (see shared/docs/SWIFT-NOTES.md).
///
/// Bitwise agreement between engines rests on two rules kept by every conformance: no fused
/// multiply-add (Swift never fuses `a*b+c` on its own, and nothing here calls `addingProduct`),
/// and one NaN policy: every clamp maps NaN to its lower bound.
///
/// This file must stay free of Foundation: it is compiled for aarch64 in the NEON codegen check.
public protocol Lanes: Sendable {
    static var laneCount: Int { get }
    init(repeating value: Float)
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    static func / (a: Self, b: Self) -> Self

    /// Loads `laneCount` consecutive values.
    init(loading pointer: UnsafePointer<Float>)
    /// Loads `laneCount` consecutive 16-bit samples, converted exactly to Float.
    init(loadingSamples pointer: UnsafePointer<UInt16>)
    /// Stores `laneCount` consecutive values.
    func store(to pointer: UnsafeMutablePointer<Float>)

    /// `self` limited to `[lower, upper]`; NaN becomes `lower`.
    func clamped(_ lower: Float, _ upper: Float) -> Self
    /// `max(self, lower)`; NaN becomes `lower`.
    func atLeast(_ lower: Float) -> Self
    /// `min(self, upper)`; NaN stays NaN (callers clamp first when it matters).
    func atMost(_ upper: Float) -> Self
    /// Lanes where `self > threshold` take `then`, the others `otherwise`.
    func choosing(above threshold: Float, then: Self, otherwise: Self) -> Self
    /// Lane-wise square root (IEEE-exact in both engines).
    func squareRoot() -> Self
    /// Lanes at even image columns take `even`, odd ones `odd`; lane 0 sits at column `firstColumn`.
    static func alternating(even: Self, odd: Self, firstColumn: Int) -> Self
    /// Piecewise-linear lookup: `self` is an index into `table` (0 … count-1, already clamped).
    func interpolated(in table: UnsafePointer<Float>, count: Int) -> Self
    /// Lane-wise floor (exact); callers keep values in [0, 2²²), so it never meets NaN or ±Inf.
    func floored() -> Self
    /// Lane-wise gather: each lane holds an exact whole index ≥ 0 into `table` (callers clamp);
    /// lane i takes `table[Int(self[i])]`. For 3-D tables (per-hue maps, 3-D LUTs).
    func gathered(from table: UnsafePointer<Float>) -> Self
}

extension Float: Lanes {
    @inlinable @inline(__always) public static var laneCount: Int { 1 }
    @inlinable @inline(__always) public init(repeating value: Float) { self = value }
    @inlinable @inline(__always) public init(loading pointer: UnsafePointer<Float>) { self = pointer.pointee }
    @inlinable @inline(__always) public init(loadingSamples pointer: UnsafePointer<UInt16>) { self = Float(pointer.pointee) }
    @inlinable @inline(__always) public func store(to pointer: UnsafeMutablePointer<Float>) { pointer.pointee = self }
    @inlinable @inline(__always) public func clamped(_ lower: Float, _ upper: Float) -> Float {
        let low = self >= lower ? self : lower
        return low > upper ? upper : low
    }
    @inlinable @inline(__always) public func atLeast(_ lower: Float) -> Float { self >= lower ? self : lower }
    @inlinable @inline(__always) public func atMost(_ upper: Float) -> Float { self > upper ? upper : self }
    @inlinable @inline(__always) public func choosing(above threshold: Float, then: Float, otherwise: Float) -> Float {
        self > threshold ? then : otherwise
    }
    @inlinable @inline(__always) public static func alternating(even: Float, odd: Float, firstColumn: Int) -> Float {
        firstColumn & 1 == 0 ? even : odd
    }
    @inlinable @inline(__always) public func interpolated(in table: UnsafePointer<Float>, count: Int) -> Float {
        Lookup.interpolate(self, table, count)
    }
    @inlinable @inline(__always) public func floored() -> Float { rounded(.down) }
    @inlinable @inline(__always) public func gathered(from table: UnsafePointer<Float>) -> Float { table[Int(self)] }
}

/// The scalar gather shared by every conformance, so all engines interpolate with the same operations.
public enum Lookup {
    @inlinable @inline(__always)
    public static func interpolate(_ position: Float, _ table: UnsafePointer<Float>, _ count: Int) -> Float {
        // `position` is clamped to [0, count-1] by the caller; truncation is floor there.
        var index = Int(position)
        if index > count - 2 { index = count - 2 }
        let fraction = position - Float(index)
        let low = table[index]
        return low + fraction * (table[index + 1] - low)
    }
}

extension SIMD8: Lanes where Scalar == Float {
    @inlinable @inline(__always) public static var laneCount: Int { 8 }
    @inlinable @inline(__always) public init(loading pointer: UnsafePointer<Float>) {
        self = UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
    }
    @inlinable @inline(__always) public init(loadingSamples pointer: UnsafePointer<UInt16>) {
        let raw = UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<UInt16>.self)
        self = SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: raw))
    }
    @inlinable @inline(__always) public func store(to pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: self, as: SIMD8<Float>.self)
    }
    @inlinable @inline(__always) public func clamped(_ lower: Float, _ upper: Float) -> SIMD8<Float> {
        let low = SIMD8(repeating: lower).replacing(with: self, where: self .>= lower)
        return low.replacing(with: upper, where: low .> upper)
    }
    @inlinable @inline(__always) public func atLeast(_ lower: Float) -> SIMD8<Float> {
        SIMD8(repeating: lower).replacing(with: self, where: self .>= lower)
    }
    @inlinable @inline(__always) public func atMost(_ upper: Float) -> SIMD8<Float> {
        replacing(with: upper, where: self .> upper)
    }
    @inlinable @inline(__always) public func choosing(above threshold: Float, then: SIMD8<Float>, otherwise: SIMD8<Float>) -> SIMD8<Float> {
        otherwise.replacing(with: then, where: self .> threshold)
    }
    // squareRoot() comes from the standard library's SIMD extension (lane-wise, IEEE-exact).
    @inlinable @inline(__always) public static func alternating(even: SIMD8<Float>, odd: SIMD8<Float>, firstColumn: Int) -> SIMD8<Float> {
        let oddLanes = SIMD8<Int32>(0, 1, 0, 1, 0, 1, 0, 1) .== 1
        return firstColumn & 1 == 0 ? even.replacing(with: odd, where: oddLanes) : odd.replacing(with: even, where: oddLanes)
    }
    @inlinable @inline(__always) public func interpolated(in table: UnsafePointer<Float>, count: Int) -> SIMD8<Float> {
        SIMD8(Lookup.interpolate(self[0], table, count), Lookup.interpolate(self[1], table, count),
              Lookup.interpolate(self[2], table, count), Lookup.interpolate(self[3], table, count),
              Lookup.interpolate(self[4], table, count), Lookup.interpolate(self[5], table, count),
              Lookup.interpolate(self[6], table, count), Lookup.interpolate(self[7], table, count))
    }
    @inlinable @inline(__always) public func floored() -> SIMD8<Float> { rounded(.down) }
    @inlinable @inline(__always) public func gathered(from table: UnsafePointer<Float>) -> SIMD8<Float> {
        // Whole indices below 2²³: adding 2²³ puts the index in the mantissa's low bits (exact),
        // so one vector add and mask replace eight trapping Float → Int conversions.
        let shifted = self + SIMD8(repeating: 8_388_608)
        let i = SIMD8<Int32>(truncatingIfNeeded: unsafeBitCast(shifted, to: SIMD8<UInt32>.self) & 0x7F_FFFF)
        return SIMD8(table[Int(i[0])], table[Int(i[1])], table[Int(i[2])], table[Int(i[3])],
                     table[Int(i[4])], table[Int(i[5])], table[Int(i[6])], table[Int(i[7])])
    }
}
