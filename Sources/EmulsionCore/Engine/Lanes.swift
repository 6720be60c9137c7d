/// The one abstraction every per-pixel kernel is written against.
///
/// A kernel is written once, generic over `Lanes`; `Float` is the scalar fallback and the SIMD
/// conformances (`SIMD4<Float>`, `SIMD8<Float>`, `SIMD16<Float>`) are what NEON (4 × f32 per
/// register) and SSE/AVX run. `SIMDLanes` names the width the `.simd` engine uses on this
/// architecture (chosen by measurement: docs/PERFORMANCE.md). Arithmetic comes from the
/// operators; everything Swift's generic SIMD code compiles to per-lane loops (compares, clamps,
/// selects, table gathers, conversions) is a requirement implemented on each concrete type, so
/// the specialised kernel gets vector compares and blends (see shared/docs/SWIFT-NOTES.md).
///
/// Bitwise agreement between engines rests on two rules kept by every conformance: no fused
/// multiply-add (Swift never fuses `a*b+c` on its own, and nothing here calls `addingProduct`),
/// and one NaN policy: every clamp maps NaN to its lower bound (and −0 to a lower bound of 0). Rounding to integers uses the
/// same magic-number addition in every conformance, never a conversion instruction whose
/// behaviour differs between scalar and vector forms.
///
/// This file must stay free of Foundation: it is compiled for aarch64 in the NEON codegen check
/// (Tests/EmulsionCoreTests/NEONCodegenTests.swift).
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

    /// `self` limited to `[lower, upper]`; NaN (and −0 when `lower` is 0) becomes `lower`.
    func clamped(_ lower: Float, _ upper: Float) -> Self
    /// `max(self, lower)`; NaN (and −0 when `lower` is 0) becomes `lower`.
    func atLeast(_ lower: Float) -> Self
    /// `min(self, upper)`; NaN stays NaN (callers clamp first when it matters).
    func atMost(_ upper: Float) -> Self
    /// Lanes where `self > threshold` take `then`, the others `otherwise`.
    func choosing(above threshold: Float, then: Self, otherwise: Self) -> Self
    /// Lane-wise square root (IEEE-exact in both engines).
    func squareRoot() -> Self
    /// True when every lane is below `threshold` (a NaN lane is not): one branch per lane group,
    /// for kernels that can skip work no lane of the group needs.
    func allLanesBelow(_ threshold: Float) -> Bool
    /// Lanes at even image columns take `even`, odd ones `odd`; lane 0 sits at column `firstColumn`.
    static func alternating(even: Self, odd: Self, firstColumn: Int) -> Self
    /// Loads `2 · laneCount` consecutive values split by position: `even` holds those at offsets
    /// 0, 2, 4, …, `odd` those at 1, 3, 5, …, so a Bayer kernel can work on the photosites of one
    /// colour at a time instead of computing every estimate in every lane and selecting.
    static func loadingColumnPairs(_ pointer: UnsafePointer<Float>) -> (even: Self, odd: Self)
    /// Stores `even` and `odd` interleaved as `2 · laneCount` consecutive values (the inverse of
    /// `loadingColumnPairs`).
    static func storeColumnPairs(even: Self, odd: Self, to pointer: UnsafeMutablePointer<Float>)
    /// Loads `2 · laneCount` consecutive 16-bit samples split by position as `loadingColumnPairs`
    /// splits floats, converted exactly to Float: the raw normalisation's input when the window
    /// keeps even and odd columns apart (`MosaicWindow.Layout.columnPlanes`).
    static func loadingSamplePairs(_ pointer: UnsafePointer<UInt16>) -> (even: Self, odd: Self)
    /// Piecewise-linear lookup: `self` is a position in `table` (0 … count-1, already clamped;
    /// count ≤ 2²²): `table[i] + f · (table[i+1] − table[i])` with i + f = self.
    func interpolated(in table: UnsafePointer<Float>, count: Int) -> Self

    /// Piecewise-linear lookup in a table indexed by the float's own bits (exponent and top
    /// mantissa bits): entry i holds f(xᵢ) with xᵢ the float of bit pattern `base + i << shift`, so
    /// the table has 2^(23 − shift) entries per octave — fine where f is steep near black, and no
    /// square root or division. `self` must lie in [x₀, x_last] (callers clamp). The table is
    /// stored as pairs (f(xᵢ), f(xᵢ₊₁) − f(xᵢ)) (`FloatTable(stepPairs:)`), so each lane's cell is one
    /// 64-bit load and the result is `value + fraction · step`: the same float operations as
    /// interpolating between two entries, in fewer loads and shuffles.
    func interpolated(inExponentPairs pairs: UnsafePointer<Float>, base: UInt32, shift: UInt32) -> Self

    /// Largest integer ≤ `self`, as a float; exact for 0 ≤ self < 2²² (callers clamp first).
    func floored() -> Self
    /// Quantises to 16 bits: `clamped(0, 1) · scale` rounded to nearest (ties to even), with
    /// `scale` ≤ 65535, stored as `laneCount` consecutive codes.
    func storeQuantised(scale: Float, to pointer: UnsafeMutablePointer<UInt16>)
    /// Quantises as `storeQuantised` does, leaving each lane's code in the low 16 bits of a 32-bit
    /// word (the high bits hold the rounding constant's): one vector store, where narrowing to
    /// 16-bit lanes costs SSE2 three shuffles per vector. The sink's interleave reads the low halves.
    func storeQuantisedWords(scale: Float, to pointer: UnsafeMutablePointer<UInt32>)
    /// `storeQuantisedWords` without the clamp, for values already within [−0.5, scale + 0.5] /
    /// scale (where the rounding gives the clamped result's codes): the output encoding's, whose
    /// table holds values in [0, 1] (`PointKernel.staysInUnitRange`).
    func storeQuantisedWordsInRange(scale: Float, to pointer: UnsafeMutablePointer<UInt32>)
    /// Lane-wise gather: each lane holds an exact whole index ≥ 0 (below 2²³) into `table`
    /// (callers clamp); lane i takes `table[Int(self[i])]`. For 3-D tables (per-hue maps, 3-D LUTs).
    func gathered(from table: UnsafePointer<Float>) -> Self
    /// Gather of neighbouring entries: each lane holds an exact whole index k ≥ 0 (below 2²³) into
    /// `table` (callers clamp); lane i takes `table[k]` and `table[k + 1]`. One 64-bit load per
    /// lane in the vector engines (`SIMD4.pairs`) where two `gathered` cost two scalar loads and
    /// two index extractions: the local contrast's bilinear surround reads its cells' corners so.
    func gatheredPairs(from table: UnsafePointer<Float>) -> (Self, Self)
    /// Gather of records of four floats: each lane holds an exact whole record index ≥ 0 (below
    /// 2²¹) into `table`; returns the records' first three fields, each as lanes. One 16-byte
    /// load per lane instead of one scalar load per lane and field (the per-hue table).
    func gatheredRecords(from table: UnsafePointer<Float>) -> (Self, Self, Self)
}

#if EMULSION_TSAN
// Thread Sanitizer builds only (`.ci/sanitizers.sh tsan` passes -DEMULSION_TSAN): under
// -sanitize=thread, Swift 6.3.1 calls the two intrinsics below through `invoke`, which LLVM's
// verifier rejects ("Cannot invoke an intrinsic"), and the compiler aborts. The same values in
// plain Swift: `Float.squareRoot()` is IEEE's correctly rounded root, and the fence changes no bit.
@usableFromInline @inline(__always) func _squareRoot4(_ x: SIMD4<Float>) -> SIMD4<Float> {
    SIMD4(x[0].squareRoot(), x[1].squareRoot(), x[2].squareRoot(), x[3].squareRoot())
}
@usableFromInline @inline(__always) func _vector4(_ x: SIMD4<Float>) -> SIMD4<Float> { x }
#else
/// IEEE square root of four lanes: the LLVM intrinsic, which every target lowers to its vector
/// instruction (`sqrtps`, `fsqrt v.4s`). Declared through `@_silgen_name` because the standard
/// library's `SIMD.squareRoot()` is a lane loop of libm calls with an errno branch per lane.
@_silgen_name("llvm.sqrt.v4f32") @usableFromInline func _squareRoot4(_ x: SIMD4<Float>) -> SIMD4<Float>

/// The value unchanged, as one vector: LLVM's arithmetic fence, which changes no bit and emits no
/// instruction. Swift hands SIMD arithmetic to LLVM lane by lane, so a shuffle (even / odd
/// columns) is only a renaming of lanes, and LLVM's SLP vectorizer regroups the lanes as it likes:
/// for the Bayer kernels it rebuilt the even/odd vectors as interleaved ones and finished with
/// scalar `addss`/`mulss` per lane (read in the assembly). A fence takes and returns a whole
/// vector, so the shuffle before it must be materialised (`shufps`; `uzp1`/`uzp2` on NEON) and
/// the arithmetic after it starts from that vector.
@_silgen_name("llvm.arithmetic.fence.v4f32") @usableFromInline func _vector4(_ x: SIMD4<Float>) -> SIMD4<Float>
#endif

extension SIMD4 where Scalar == Float {
    /// Lanes where `mask` is set take `a`, the others `b`: `b ^ ((a ^ b) & mask)` on the lanes'
    /// bits. Why not `b.replacing(with: a, where: mask)`: that is a lane loop which LLVM turns
    /// back into a vector select only sometimes; in the look kernels that use hue (saturation,
    /// per-hue table) it became a compare, move and branch per lane. Measured on a reduced kernel
    /// (docs/PERFORMANCE.md, run v12): 273 instructions and no lane branches against 451 and 14.
    /// The clamps below keep `replacing`, which LLVM makes maxps/minps where it vectorises.
    @inlinable @inline(__always)
    static func select(_ mask: SIMDMask<SIMD4<Int32>>, _ a: SIMD4<Float>, _ b: SIMD4<Float>) -> SIMD4<Float> {
        let m = unsafeBitCast(mask, to: SIMD4<Int32>.self)
        let x = unsafeBitCast(a, to: SIMD4<Int32>.self), y = unsafeBitCast(b, to: SIMD4<Int32>.self)
        return unsafeBitCast(y ^ ((x ^ y) & m), to: SIMD4<Float>.self)
    }

    /// Two consecutive floats per lane, lane k's starting at element `ik` of `table`: the firsts
    /// of the pairs, and the seconds. One 64-bit load per lane (movsd/movhps on SSE2, ldr d / ld1
    /// on NEON), two pairs per register, then one shuffle each for the firsts and the seconds.
    /// The pairs are loaded as Double lanes: as SIMD2<Float> halves LLVM recombined them with six
    /// shuffles instead of the two shufps (read in the assembly). Element indices rather than
    /// byte offsets, so the scale folds into the load's address (`(base,index,4)`): a byte offset
    /// 4·(w & 0xFFFF_FFFF) became a shift and a mask per lane. Shared by the table lookups.
    @inlinable @inline(__always)
    static func pairs(in table: UnsafePointer<Float>, _ i0: Int, _ i1: Int, _ i2: Int, _ i3: Int) -> (SIMD4<Float>, SIMD4<Float>) {
        @inline(__always) func pair(_ i: Int) -> Double { UnsafeRawPointer(table + i).loadUnaligned(as: Double.self) }
        let ab = unsafeBitCast(SIMD2<Double>(pair(i0), pair(i1)), to: SIMD4<Float>.self)
        let cd = unsafeBitCast(SIMD2<Double>(pair(i2), pair(i3)), to: SIMD4<Float>.self)
        return (SIMD4(ab[0], ab[2], cd[0], cd[2]), SIMD4(ab[1], ab[3], cd[1], cd[3]))
    }

    /// `pairs` at the four lanes' element indices, taken out two lanes at a time as 64-bit words
    /// on the integer units (little-endian: x86-64, aarch64): 8 scalar loads and inserts per
    /// vector became 4 loads and 2 shuffles. Shared by `interpolated(in:count:)` and `gatheredPairs`.
    @inlinable @inline(__always)
    static func pairs(in table: UnsafePointer<Float>, at index: SIMD4<UInt32>) -> (SIMD4<Float>, SIMD4<Float>) {
        let words = unsafeBitCast(index, to: SIMD2<UInt64>.self)
        @inline(__always) func entry(_ index: UInt64) -> Int { Int(truncatingIfNeeded: index) }
        return pairs(in: table, entry(words[0] & 0xFFFF_FFFF), entry(words[0] &>> 32),
                     entry(words[1] & 0xFFFF_FFFF), entry(words[1] &>> 32))
    }
}

/// The gathers of the wide conformances (SIMD8, SIMD16: the benchmark's other widths), lane by
/// lane. Whole indices below 2²³: adding 2²³ puts the index in the mantissa's low bits (exact),
/// so an add and a mask replace a trapping Float → Int conversion per lane.
extension SIMD where Scalar == Float {
    @inlinable @inline(__always)
    func laneIndex(_ i: Int) -> Int { Int(truncatingIfNeeded: (self[i] + 8_388_608).bitPattern & 0x7F_FFFF) }

    @inlinable @inline(__always)
    func gatheredByLane(from table: UnsafePointer<Float>) -> Self {
        var out = Self()
        for i in indices { out[i] = table[laneIndex(i)] }
        return out
    }

    @inlinable @inline(__always)
    func gatheredRecordsByLane(from table: UnsafePointer<Float>) -> (Self, Self, Self) {
        var a = Self(), b = Self(), c = Self()
        for i in indices {
            let record = table + 4 &* laneIndex(i)
            a[i] = record[0]; b[i] = record[1]; c[i] = record[2]
        }
        return (a, b, c)
    }
}

extension SIMD where Scalar == Float {
    /// `Lanes.allLanesBelow` for every vector conformance: one compare and one mask test.
    @inlinable @inline(__always) public func allLanesBelow(_ threshold: Float) -> Bool { all(self .< threshold) }
}

/// A wide conformance (SIMD8, SIMD16) seen as two halves of the next narrower one, for the
/// requirements whose vector form exists at four lanes only and runs on each half in turn.
public protocol HalvedLanes: Lanes {
    associatedtype Half: Lanes
    var lowHalf: Half { get }
    var highHalf: Half { get }
    init(lowHalf: Half, highHalf: Half)
}

extension HalvedLanes {
    @inlinable @inline(__always) public func gatheredPairs(from table: UnsafePointer<Float>) -> (Self, Self) {
        let low = lowHalf.gatheredPairs(from: table), high = highHalf.gatheredPairs(from: table)
        return (Self(lowHalf: low.0, highHalf: high.0), Self(lowHalf: low.1, highHalf: high.1))
    }
    /// The low half's columns, then the high half's (each its own `2 · Half.laneCount` values).
    @inlinable @inline(__always) public static func loadingColumnPairs(_ pointer: UnsafePointer<Float>) -> (even: Self, odd: Self) {
        let low = Half.loadingColumnPairs(pointer), high = Half.loadingColumnPairs(pointer + 2 * Half.laneCount)
        return (Self(lowHalf: low.even, highHalf: high.even), Self(lowHalf: low.odd, highHalf: high.odd))
    }
    @inlinable @inline(__always) public static func loadingSamplePairs(_ pointer: UnsafePointer<UInt16>) -> (even: Self, odd: Self) {
        let low = Half.loadingSamplePairs(pointer), high = Half.loadingSamplePairs(pointer + 2 * Half.laneCount)
        return (Self(lowHalf: low.even, highHalf: high.even), Self(lowHalf: low.odd, highHalf: high.odd))
    }
    @inlinable @inline(__always) public static func storeColumnPairs(even: Self, odd: Self, to pointer: UnsafeMutablePointer<Float>) {
        Half.storeColumnPairs(even: even.lowHalf, odd: odd.lowHalf, to: pointer)
        Half.storeColumnPairs(even: even.highHalf, odd: odd.highHalf, to: pointer + 2 * Half.laneCount)
    }
}

extension SIMD8: HalvedLanes where Scalar == Float { public typealias Half = SIMD4<Float> }
extension SIMD16: HalvedLanes where Scalar == Float { public typealias Half = SIMD8<Float> }

/// The lane type of the `.simd` engine: 4 × f32, one SSE register on x86-64 and one NEON
/// register on aarch64.
///
/// Chosen by measurement through the whole fused core pipeline (`emulsion bench`,
/// docs/PERFORMANCE.md): 4 lanes were 1–4% faster than 8 on every input measured on x86-64
/// (SSE2 baseline) and 16 lanes 6× slower (four registers per value: the kernels' ~12 live
/// vectors spill). On NEON, 4 lanes is the native width; 8 would be an unrolled register pair,
/// which bought nothing on SSE2, whose registers have the same width. One kernel measured
/// otherwise runs at twice this width (`PointKernel.runsDoubleWidth`: HueSatLum).
public typealias SIMDLanes = SIMD4<Float>

/// Rounding helpers shared by every conformance, so all engines round with the same operations.
public enum Rounding {
    /// 1.5 · 2²³: adding it to |x| < 2²² leaves x rounded to an integer (ties to even) in the low
    /// mantissa bits; the float's bit pattern minus `magicBits` is that integer.
    public static let magic: Float = 12_582_912
    public static let magicBits: UInt32 = 0x4B40_0000
}

extension Float: Lanes {
    @inlinable @inline(__always) public static var laneCount: Int { 1 }
    @inlinable @inline(__always) public init(repeating value: Float) { self = value }
    @inlinable @inline(__always) public init(loading pointer: UnsafePointer<Float>) { self = pointer.pointee }
    @inlinable @inline(__always) public init(loadingSamples pointer: UnsafePointer<UInt16>) { self = Float(pointer.pointee) }
    @inlinable @inline(__always) public func store(to pointer: UnsafeMutablePointer<Float>) { pointer.pointee = self }
    @inlinable @inline(__always) public func clamped(_ lower: Float, _ upper: Float) -> Float {
        let low = lower < self ? self : lower
        return low < upper ? low : upper
    }
    @inlinable @inline(__always) public func atLeast(_ lower: Float) -> Float { lower < self ? self : lower }
    @inlinable @inline(__always) public func atMost(_ upper: Float) -> Float { self > upper ? upper : self }
    @inlinable @inline(__always) public func choosing(above threshold: Float, then: Float, otherwise: Float) -> Float {
        self > threshold ? then : otherwise
    }
    @inlinable @inline(__always) public func allLanesBelow(_ threshold: Float) -> Bool { self < threshold }
    @inlinable @inline(__always) public static func alternating(even: Float, odd: Float, firstColumn: Int) -> Float {
        firstColumn & 1 == 0 ? even : odd
    }
    @inlinable @inline(__always) public static func loadingColumnPairs(_ pointer: UnsafePointer<Float>) -> (even: Float, odd: Float) {
        (pointer[0], pointer[1])
    }
    @inlinable @inline(__always) public static func storeColumnPairs(even: Float, odd: Float, to pointer: UnsafeMutablePointer<Float>) {
        pointer[0] = even; pointer[1] = odd
    }
    @inlinable @inline(__always) public static func loadingSamplePairs(_ pointer: UnsafePointer<UInt16>) -> (even: Float, odd: Float) {
        (Float(pointer[0]), Float(pointer[1]))
    }
    @inlinable @inline(__always) public func floored() -> Float {
        let nearest = (self + Rounding.magic) - Rounding.magic
        return nearest > self ? nearest - 1 : nearest
    }
    @inlinable @inline(__always) public func interpolated(in table: UnsafePointer<Float>, count: Int) -> Float {
        // Same operations as the vector conformances. Rounding `self − 0.5` to nearest gives
        // floor(self) except at odd integers, where it gives the cell below with fraction 1
        // (the same value up to one rounding); for 0 ≤ self ≤ count − 1 the cell never passes
        // count − 2, so no clamp is needed.
        let t = (self - 0.5) + Rounding.magic
        let cell = t - Rounding.magic
        let index = Int(truncatingIfNeeded: t.bitPattern &- Rounding.magicBits)
        let fraction = self - cell
        let low = table[index]
        return low + fraction * (table[index + 1] - low)
    }
    @inlinable @inline(__always) public func interpolated(inExponentPairs pairs: UnsafePointer<Float>, base: UInt32, shift: UInt32) -> Float {
        let offset = bitPattern &- base
        let index = Int(truncatingIfNeeded: offset &>> shift)
        let fraction = Float(Int32(truncatingIfNeeded: offset & ((1 << shift) &- 1))) * (1 / Float(UInt32(1) << shift))
        let cell = pairs + 2 &* index
        return cell[0] + fraction * cell[1]
    }
    @inlinable @inline(__always) public func storeQuantised(scale: Float, to pointer: UnsafeMutablePointer<UInt16>) {
        pointer.pointee = UInt16(truncatingIfNeeded: (clamped(0, 1) * scale + Rounding.magic).bitPattern)
    }
    @inlinable @inline(__always) public func storeQuantisedWords(scale: Float, to pointer: UnsafeMutablePointer<UInt32>) {
        pointer.pointee = (clamped(0, 1) * scale + Rounding.magic).bitPattern
    }
    @inlinable @inline(__always) public func storeQuantisedWordsInRange(scale: Float, to pointer: UnsafeMutablePointer<UInt32>) {
        pointer.pointee = (self * scale + Rounding.magic).bitPattern
    }
    @inlinable @inline(__always) public func gathered(from table: UnsafePointer<Float>) -> Float { table[Int(self)] }
    @inlinable @inline(__always) public func gatheredPairs(from table: UnsafePointer<Float>) -> (Float, Float) {
        let entry = table + Int(self)
        return (entry[0], entry[1])
    }
    @inlinable @inline(__always) public func gatheredRecords(from table: UnsafePointer<Float>) -> (Float, Float, Float) {
        let record = table + 4 &* Int(self)
        return (record[0], record[1], record[2])
    }
}

/// The scalar gather shared by every conformance, so all engines interpolate with the same operations.
public enum Lookup {
    @inlinable @inline(__always)
    public static func interpolate(_ position: Float, _ table: UnsafePointer<Float>, _ count: Int) -> Float {
        position.interpolated(in: table, count: count)
    }
}

extension SIMD4: Lanes where Scalar == Float {
    @inlinable @inline(__always) public static var laneCount: Int { 4 }
    @inlinable @inline(__always) public init(loading pointer: UnsafePointer<Float>) {
        self = UnsafeRawPointer(pointer).loadUnaligned(as: SIMD4<Float>.self)
    }
    @inlinable @inline(__always) public init(loadingSamples pointer: UnsafePointer<UInt16>) {
        let raw = UnsafeRawPointer(pointer).loadUnaligned(as: SIMD4<UInt16>.self)
        self = SIMD4<Float>(SIMD4<Int32>(truncatingIfNeeded: raw))
    }
    @inlinable @inline(__always) public func store(to pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: self, as: SIMD4<Float>.self)
    }
    // Clamps are written as `lower < x ? x : lower` and `x < upper ? x : upper`, the forms LLVM
    // lowers to maxps/minps (fmax/fmin with the same NaN rule on NEON): NaN and −0 become `lower`.
    // (Through `select` LLVM folds a clamp at 0 into a mask and an `and`, which cost the output
    // encoding 0.45 ns/px; `replacing` keeps maxps there.)
    @inlinable @inline(__always) public func clamped(_ lower: Float, _ upper: Float) -> SIMD4<Float> {
        let low = SIMD4(repeating: lower).replacing(with: self, where: self .> lower)
        return SIMD4(repeating: upper).replacing(with: low, where: low .< upper)
    }
    @inlinable @inline(__always) public func atLeast(_ lower: Float) -> SIMD4<Float> {
        SIMD4(repeating: lower).replacing(with: self, where: self .> lower)
    }
    @inlinable @inline(__always) public func atMost(_ upper: Float) -> SIMD4<Float> {
        replacing(with: SIMD4(repeating: upper), where: self .> upper)
    }
    @inlinable @inline(__always) public func choosing(above threshold: Float, then: SIMD4<Float>, otherwise: SIMD4<Float>) -> SIMD4<Float> {
        Self.select(self .> threshold, then, otherwise)
    }
    /// IEEE square root per lane (the standard library's generic version is a lane loop of libm calls).
    @inlinable @inline(__always) public func squareRoot() -> SIMD4<Float> { _squareRoot4(self) }
    @inlinable @inline(__always) public static func alternating(even: SIMD4<Float>, odd: SIMD4<Float>, firstColumn: Int) -> SIMD4<Float> {
        // A float compare of a constant: masks built from integer lanes compile to lane loops.
        let oddLanes = SIMD4<Float>(0, 1, 0, 1) .> 0.5
        return firstColumn & 1 == 0 ? Self.select(oddLanes, odd, even) : Self.select(oddLanes, even, odd)
    }
    /// Two loads and one shuffle per half (`shufps`; `uzp1`/`uzp2` on NEON); the store is the
    /// inverse, `unpcklps`/`unpckhps` (`zip1`/`zip2`). Fenced (`_vector4`) so that LLVM keeps
    /// the halves as vectors.
    @inlinable @inline(__always) public static func loadingColumnPairs(_ pointer: UnsafePointer<Float>) -> (even: SIMD4<Float>, odd: SIMD4<Float>) {
        let a = SIMD4(loading: pointer), b = SIMD4(loading: pointer + 4)
        return (_vector4(SIMD4(a[0], a[2], b[0], b[2])), _vector4(SIMD4(a[1], a[3], b[1], b[3])))
    }
    @inlinable @inline(__always) public static func storeColumnPairs(even: SIMD4<Float>, odd: SIMD4<Float>, to pointer: UnsafeMutablePointer<Float>) {
        let even = _vector4(even), odd = _vector4(odd)
        SIMD4(even[0], odd[0], even[1], odd[1]).store(to: pointer)
        SIMD4(even[2], odd[2], even[3], odd[3]).store(to: pointer + 4)
    }
    /// One 16-byte load seen as four 32-bit words, each an (even, odd) pair of samples: the low
    /// halves by a mask, the high halves by a shift (`pand`, `psrld`; no shuffle), each converted
    /// as `loadingSamples` converts (exact: every sample is below 2¹⁶).
    @inlinable @inline(__always) public static func loadingSamplePairs(_ pointer: UnsafePointer<UInt16>) -> (even: SIMD4<Float>, odd: SIMD4<Float>) {
        let loaded = UnsafeRawPointer(pointer).loadUnaligned(as: SIMD4<UInt32>.self)
        #if _endian(big)
        let words = (loaded &<< 16) | (loaded &>> 16)
        #else
        let words = loaded
        #endif
        let even = words & 0xFFFF, odd = words &>> 16
        return (SIMD4<Float>(SIMD4<Int32>(truncatingIfNeeded: even)), SIMD4<Float>(SIMD4<Int32>(truncatingIfNeeded: odd)))
    }
    @inlinable @inline(__always) public func floored() -> SIMD4<Float> {
        let nearest = (self + Rounding.magic) - Rounding.magic
        return Self.select(nearest .> self, nearest - 1, nearest)
    }
    @inlinable @inline(__always) public func interpolated(in table: UnsafePointer<Float>, count: Int) -> SIMD4<Float> {
        let t = (self - 0.5) + Rounding.magic
        let cell = t - Rounding.magic
        let index = unsafeBitCast(t, to: SIMD4<UInt32>.self) &- Rounding.magicBits
        let fraction = self - cell
        // Each lane's two neighbouring entries in one 64-bit load (the same values).
        let (low, high) = Self.pairs(in: table, at: index)
        return low + fraction * (high - low)
    }
    @inlinable @inline(__always) public func interpolated(inExponentPairs pairs: UnsafePointer<Float>, base: UInt32, shift: UInt32) -> SIMD4<Float> {
        let offset = unsafeBitCast(self, to: SIMD4<UInt32>.self) &- base
        let low16 = unsafeBitCast(offset & ((1 << shift) &- 1), to: SIMD4<Int32>.self)
        let fraction = SIMD4<Float>(low16) * (1 / Float(UInt32(1) << shift))
        // The four lanes' offsets as two 64-bit words (little-endian: x86-64, aarch64): one vector
        // move per pair (movq) and the index shifts on the integer units, which the vector units
        // (busy with everything else here) do not share; per lane extracts (pshufd + movd, or
        // pextrw) were 4–9 vector instructions per channel (read in the assembly).
        let words = unsafeBitCast(offset, to: SIMD2<UInt64>.self)
        @inline(__always) func cell(_ index: UInt64) -> Int { 2 &* Int(truncatingIfNeeded: index) }
        let (value, step) = Self.pairs(in: pairs,
                                       cell((words[0] & 0xFFFF_FFFF) &>> shift), cell(words[0] &>> (32 &+ shift)),
                                       cell((words[1] & 0xFFFF_FFFF) &>> shift), cell(words[1] &>> (32 &+ shift)))
        return value + fraction * step
    }
    @inlinable @inline(__always) public func storeQuantised(scale: Float, to pointer: UnsafeMutablePointer<UInt16>) {
        let bits = unsafeBitCast(clamped(0, 1) * scale + Rounding.magic, to: SIMD4<UInt32>.self)
        UnsafeMutableRawPointer(pointer).storeBytes(of: SIMD4<UInt16>(truncatingIfNeeded: bits), as: SIMD4<UInt16>.self)
    }
    @inlinable @inline(__always) public func storeQuantisedWords(scale: Float, to pointer: UnsafeMutablePointer<UInt32>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: clamped(0, 1) * scale + Rounding.magic, as: SIMD4<Float>.self)
    }
    @inlinable @inline(__always) public func storeQuantisedWordsInRange(scale: Float, to pointer: UnsafeMutablePointer<UInt32>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: self * scale + Rounding.magic, as: SIMD4<Float>.self)
    }
    @inlinable @inline(__always) public func gathered(from table: UnsafePointer<Float>) -> SIMD4<Float> {
        // Whole indices below 2²³: adding 2²³ puts the index in the mantissa's low bits (exact),
        // so one vector add and mask replace 4 trapping Float → Int conversions.
        let index = unsafeBitCast(self + SIMD4(repeating: 8_388_608), to: SIMD4<UInt32>.self) & 0x7F_FFFF
        var out = SIMD4<Float>()
        for i in 0..<4 { out[i] = table[Int(truncatingIfNeeded: index[i])] }
        return out
    }
    @inlinable @inline(__always) public func gatheredPairs(from table: UnsafePointer<Float>) -> (SIMD4<Float>, SIMD4<Float>) {
        let index = unsafeBitCast(self + SIMD4(repeating: 8_388_608), to: SIMD4<UInt32>.self) & 0x7F_FFFF
        return Self.pairs(in: table, at: index)
    }
    @inlinable @inline(__always) public func gatheredRecords(from table: UnsafePointer<Float>) -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) {
        let index = unsafeBitCast(self + SIMD4(repeating: 8_388_608), to: SIMD4<UInt32>.self) & 0x7F_FFFF
        let p = UnsafeRawPointer(table)
        func record(_ i: UInt32) -> SIMD4<Float> { p.loadUnaligned(fromByteOffset: 16 &* Int(truncatingIfNeeded: i), as: SIMD4<Float>.self) }
        let r0 = record(index[0]), r1 = record(index[1]), r2 = record(index[2]), r3 = record(index[3])
        // A 4 × 4 transpose (unpcklps/unpckhps, then movlhps/movhlps), the last column dropped.
        let t0 = SIMD4(r0[0], r1[0], r0[1], r1[1]), t1 = SIMD4(r2[0], r3[0], r2[1], r3[1])
        let t2 = SIMD4(r0[2], r1[2], r0[3], r1[3]), t3 = SIMD4(r2[2], r3[2], r2[3], r3[3])
        return (SIMD4(t0[0], t0[1], t1[0], t1[1]), SIMD4(t0[2], t0[3], t1[2], t1[3]), SIMD4(t2[0], t2[1], t3[0], t3[1]))
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
    // Clamps are written as `lower < x ? x : lower` and `x < upper ? x : upper`, the forms LLVM
    // lowers to maxps/minps (fmax/fmin with the same NaN rule on NEON): NaN and −0 become `lower`.
    @inlinable @inline(__always) public func clamped(_ lower: Float, _ upper: Float) -> SIMD8<Float> {
        let low = SIMD8(repeating: lower).replacing(with: self, where: self .> lower)
        return SIMD8(repeating: upper).replacing(with: low, where: low .< upper)
    }
    @inlinable @inline(__always) public func atLeast(_ lower: Float) -> SIMD8<Float> {
        SIMD8(repeating: lower).replacing(with: self, where: self .> lower)
    }
    @inlinable @inline(__always) public func atMost(_ upper: Float) -> SIMD8<Float> {
        replacing(with: SIMD8(repeating: upper), where: self .> upper)
    }
    @inlinable @inline(__always) public func choosing(above threshold: Float, then: SIMD8<Float>, otherwise: SIMD8<Float>) -> SIMD8<Float> {
        otherwise.replacing(with: then, where: self .> threshold)
    }
    /// IEEE square root per lane (the standard library's generic version is a lane loop of libm calls).
    @inlinable @inline(__always) public func squareRoot() -> SIMD8<Float> { SIMD8(lowHalf: _squareRoot4(lowHalf), highHalf: _squareRoot4(highHalf)) }
    @inlinable @inline(__always) public static func alternating(even: SIMD8<Float>, odd: SIMD8<Float>, firstColumn: Int) -> SIMD8<Float> {
        // A float compare of a constant: masks built from integer lanes compile to lane loops.
        let oddLanes = SIMD8<Float>(0, 1, 0, 1, 0, 1, 0, 1) .> 0.5
        return firstColumn & 1 == 0 ? even.replacing(with: odd, where: oddLanes) : odd.replacing(with: even, where: oddLanes)
    }
    @inlinable @inline(__always) public func floored() -> SIMD8<Float> {
        let nearest = (self + Rounding.magic) - Rounding.magic
        return nearest.replacing(with: nearest - 1, where: nearest .> self)
    }
    @inlinable @inline(__always) public func interpolated(in table: UnsafePointer<Float>, count: Int) -> SIMD8<Float> {
        let t = (self - 0.5) + Rounding.magic
        let cell = t - Rounding.magic
        let index = unsafeBitCast(t, to: SIMD8<UInt32>.self) &- Rounding.magicBits
        let fraction = self - cell
        var low = SIMD8<Float>(), high = SIMD8<Float>()
        for i in 0..<8 {
            let j = Int(truncatingIfNeeded: index[i])
            low[i] = table[j]
            high[i] = table[j + 1]
        }
        return low + fraction * (high - low)
    }
    @inlinable @inline(__always) public func interpolated(inExponentPairs pairs: UnsafePointer<Float>, base: UInt32, shift: UInt32) -> SIMD8<Float> {
        let offset = unsafeBitCast(self, to: SIMD8<UInt32>.self) &- base
        let low16 = unsafeBitCast(offset & ((1 << shift) &- 1), to: SIMD8<Int32>.self)
        let fraction = SIMD8<Float>(low16) * (1 / Float(UInt32(1) << shift))
        let index = offset &>> shift
        var value = SIMD8<Float>(), step = SIMD8<Float>()
        for i in 0..<8 {
            let cell = pairs + 2 &* Int(truncatingIfNeeded: index[i])
            value[i] = cell[0]
            step[i] = cell[1]
        }
        return value + fraction * step
    }
    @inlinable @inline(__always) public func storeQuantised(scale: Float, to pointer: UnsafeMutablePointer<UInt16>) {
        let bits = unsafeBitCast(clamped(0, 1) * scale + Rounding.magic, to: SIMD8<UInt32>.self)
        UnsafeMutableRawPointer(pointer).storeBytes(of: SIMD8<UInt16>(truncatingIfNeeded: bits), as: SIMD8<UInt16>.self)
    }
    @inlinable @inline(__always) public func storeQuantisedWords(scale: Float, to pointer: UnsafeMutablePointer<UInt32>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: clamped(0, 1) * scale + Rounding.magic, as: SIMD8<Float>.self)
    }
    @inlinable @inline(__always) public func storeQuantisedWordsInRange(scale: Float, to pointer: UnsafeMutablePointer<UInt32>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: self * scale + Rounding.magic, as: SIMD8<Float>.self)
    }
    @inlinable @inline(__always) public func gathered(from table: UnsafePointer<Float>) -> SIMD8<Float> {
        gatheredByLane(from: table)
    }
    @inlinable @inline(__always) public func gatheredRecords(from table: UnsafePointer<Float>) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        gatheredRecordsByLane(from: table)
    }
}

extension SIMD16: Lanes where Scalar == Float {
    @inlinable @inline(__always) public static var laneCount: Int { 16 }
    @inlinable @inline(__always) public init(loading pointer: UnsafePointer<Float>) {
        self = UnsafeRawPointer(pointer).loadUnaligned(as: SIMD16<Float>.self)
    }
    @inlinable @inline(__always) public init(loadingSamples pointer: UnsafePointer<UInt16>) {
        let raw = UnsafeRawPointer(pointer).loadUnaligned(as: SIMD16<UInt16>.self)
        self = SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: raw))
    }
    @inlinable @inline(__always) public func store(to pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: self, as: SIMD16<Float>.self)
    }
    // Clamps are written as `lower < x ? x : lower` and `x < upper ? x : upper`, the forms LLVM
    // lowers to maxps/minps (fmax/fmin with the same NaN rule on NEON): NaN and −0 become `lower`.
    @inlinable @inline(__always) public func clamped(_ lower: Float, _ upper: Float) -> SIMD16<Float> {
        let low = SIMD16(repeating: lower).replacing(with: self, where: self .> lower)
        return SIMD16(repeating: upper).replacing(with: low, where: low .< upper)
    }
    @inlinable @inline(__always) public func atLeast(_ lower: Float) -> SIMD16<Float> {
        SIMD16(repeating: lower).replacing(with: self, where: self .> lower)
    }
    @inlinable @inline(__always) public func atMost(_ upper: Float) -> SIMD16<Float> {
        replacing(with: SIMD16(repeating: upper), where: self .> upper)
    }
    @inlinable @inline(__always) public func choosing(above threshold: Float, then: SIMD16<Float>, otherwise: SIMD16<Float>) -> SIMD16<Float> {
        otherwise.replacing(with: then, where: self .> threshold)
    }
    /// IEEE square root per lane (the standard library's generic version is a lane loop of libm calls).
    @inlinable @inline(__always) public func squareRoot() -> SIMD16<Float> { SIMD16(lowHalf: SIMD8(lowHalf: _squareRoot4(lowHalf.lowHalf), highHalf: _squareRoot4(lowHalf.highHalf)), highHalf: SIMD8(lowHalf: _squareRoot4(highHalf.lowHalf), highHalf: _squareRoot4(highHalf.highHalf))) }
    @inlinable @inline(__always) public static func alternating(even: SIMD16<Float>, odd: SIMD16<Float>, firstColumn: Int) -> SIMD16<Float> {
        // A float compare of a constant: masks built from integer lanes compile to lane loops.
        let oddLanes = SIMD16<Float>(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1) .> 0.5
        return firstColumn & 1 == 0 ? even.replacing(with: odd, where: oddLanes) : odd.replacing(with: even, where: oddLanes)
    }
    @inlinable @inline(__always) public func floored() -> SIMD16<Float> {
        let nearest = (self + Rounding.magic) - Rounding.magic
        return nearest.replacing(with: nearest - 1, where: nearest .> self)
    }
    @inlinable @inline(__always) public func interpolated(in table: UnsafePointer<Float>, count: Int) -> SIMD16<Float> {
        let t = (self - 0.5) + Rounding.magic
        let cell = t - Rounding.magic
        let index = unsafeBitCast(t, to: SIMD16<UInt32>.self) &- Rounding.magicBits
        let fraction = self - cell
        var low = SIMD16<Float>(), high = SIMD16<Float>()
        for i in 0..<16 {
            let j = Int(truncatingIfNeeded: index[i])
            low[i] = table[j]
            high[i] = table[j + 1]
        }
        return low + fraction * (high - low)
    }
    @inlinable @inline(__always) public func interpolated(inExponentPairs pairs: UnsafePointer<Float>, base: UInt32, shift: UInt32) -> SIMD16<Float> {
        let offset = unsafeBitCast(self, to: SIMD16<UInt32>.self) &- base
        let low16 = unsafeBitCast(offset & ((1 << shift) &- 1), to: SIMD16<Int32>.self)
        let fraction = SIMD16<Float>(low16) * (1 / Float(UInt32(1) << shift))
        let index = offset &>> shift
        var value = SIMD16<Float>(), step = SIMD16<Float>()
        for i in 0..<16 {
            let cell = pairs + 2 &* Int(truncatingIfNeeded: index[i])
            value[i] = cell[0]
            step[i] = cell[1]
        }
        return value + fraction * step
    }
    @inlinable @inline(__always) public func storeQuantised(scale: Float, to pointer: UnsafeMutablePointer<UInt16>) {
        let bits = unsafeBitCast(clamped(0, 1) * scale + Rounding.magic, to: SIMD16<UInt32>.self)
        UnsafeMutableRawPointer(pointer).storeBytes(of: SIMD16<UInt16>(truncatingIfNeeded: bits), as: SIMD16<UInt16>.self)
    }
    @inlinable @inline(__always) public func storeQuantisedWords(scale: Float, to pointer: UnsafeMutablePointer<UInt32>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: clamped(0, 1) * scale + Rounding.magic, as: SIMD16<Float>.self)
    }
    @inlinable @inline(__always) public func storeQuantisedWordsInRange(scale: Float, to pointer: UnsafeMutablePointer<UInt32>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: self * scale + Rounding.magic, as: SIMD16<Float>.self)
    }
    @inlinable @inline(__always) public func gathered(from table: UnsafePointer<Float>) -> SIMD16<Float> {
        gatheredByLane(from: table)
    }
    @inlinable @inline(__always) public func gatheredRecords(from table: UnsafePointer<Float>) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
        gatheredRecordsByLane(from: table)
    }
}
