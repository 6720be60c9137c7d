/// A curve on [0, 1] as a table indexed by the input's float bits: the output encoding's transfer
/// curves and the tone curve look it up this way.
///
/// Why the float's exponent and top mantissa bits: curves applied to linear light are steep near
/// black (infinite slope for pure gamma curves, the tone curve's toe and black point), and this
/// index spaces entries evenly in log x — 128 per octave over the 32 octaves below 1 (4097
/// entries) — so linear interpolation keeps the same relative precision at every level, and the
/// index is two integer operations on the value's bits: no square root (which, for a table
/// indexed by √x, was the stage's bottleneck in both engines), no division.
///
/// The clipped value is offset by the table's first point, 2⁻³², before the lookup, and entry i
/// holds f(xᵢ − 2⁻³²): so 0 lands exactly on entry 0 (black stays exactly f(0)), the first
/// octave interpolates f linearly over [0, 2⁻³²], and no value needs a second path (a select and
/// a line per channel, ~20% of the output encoding's instructions). From 2⁻⁷ up the offset is
/// below half an ulp and the addition changes nothing; below, the table's own offset cancels it.
/// The lookup itself is `Lanes.interpolated(inExponentPairs:base:shift:)`, one 64-bit load of a
/// (value, step) pair per lane.
///
/// Foundation-free (compiled for aarch64 in the NEON codegen check).
public struct ExponentCurveTable: Sendable {
    /// Octaves of the table below 1 and log2 of its entries per octave.
    public static let octaves = 32
    public static let stepsPerOctaveLog2 = 7
    public static let count = octaves << stepsPerOctaveLog2 + 1
    /// Bit pattern of the table's first point, 2⁻³², and the shift from bits to entries.
    public static let baseBits = UInt32(127 - octaves) << 23
    public static let shift = UInt32(23 - stepsPerOctaveLog2)
    /// The table's first point (2⁻³²): added to every clipped value before the lookup.
    public static let start = Float(bitPattern: baseBits)

    /// The input entry `i` stands for: xᵢ − 2⁻³², xᵢ the float with bit pattern
    /// `baseBits + i << shift` (x₀ = 2⁻³², x₄₀₉₆ = 1). Exact in Double: both are powers of two
    /// times at most 24 significant bits.
    public static func input(at i: Int) -> Double {
        Double(Float(bitPattern: baseBits + UInt32(i) << shift)) - Double(start)
    }

    /// `values[i]` = f(`input(at: i)`); entry 0 is f(0).
    public let values: [Float]
    /// The same values as (value, step) pairs behind a stable pointer, for the kernels.
    public let pairs: FloatTable

    /// `start`, read from the table rather than written as a literal on purpose: LLVM folds a
    /// constant addend into the clip's select (select(c < 1, c + 2⁻³², 1 + 2⁻³²)), which then no
    /// longer lowers to `minps` but to a compare and three mask instructions per channel (read in
    /// the x86-64 assembly).
    @usableFromInline let offset: Float = Self.start

    /// The table of `f`, evaluated in double precision at each entry's input.
    public init(_ f: (Double) -> Double) {
        self.init(values: (0..<Self.count).map { Float(f(Self.input(at: $0))) })
    }

    /// A table of `count` values already sampled at `input(at:)`.
    public init(values: [Float]) {
        precondition(values.count == Self.count, "an exponent-indexed table has `count` entries")
        self.values = values
        pairs = FloatTable(stepPairs: values)
    }

    /// f(v) for v clipped to [0, 1] (NaN becomes 0), interpolated linearly between the entries
    /// around it. `pairs` is `self.pairs.pointer`, passed in so a kernel reads it once per call.
    @inlinable @inline(__always)
    public func lookup<L: Lanes>(_ v: L, in pairs: UnsafePointer<Float>) -> L {
        (v.clamped(0, 1) + L(repeating: offset)).interpolated(inExponentPairs: pairs, base: Self.baseBits, shift: Self.shift)
    }
}
