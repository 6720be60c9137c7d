/// A per-channel curve on encoded values: each of R, G, B in [0, 1] through the same 1-D
/// function (a display-referred tone curve, contrast, a film-like shoulder), by a 4097-entry
/// table with linear interpolation.
///
/// Why an engine type: applied after the output encoding, such a curve composes with the
/// encoding's own transfer curve into one table — `PointStageChain` does that fusion (one lookup
/// per channel instead of two), and this kernel is what runs when it cannot (no encoding before
/// it) or in unfused runs. Colour space: encoded output RGB in and out; values are clipped to
/// [0, 1] first (NaN → 0).
///
/// Foundation-free (compiled for aarch64 in the NEON codegen check).
public struct ChannelCurveKernel: PointKernel {
    public static let tableSize = 4097
    /// The curve itself, kept for composing it into an encoding table.
    public let function: @Sendable (Double) -> Double
    /// `values[i]` = function(i / 4096).
    public let values: [Float]
    public let table: FloatTable

    public init(_ function: @escaping @Sendable (Double) -> Double) {
        self.function = function
        values = (0..<Self.tableSize).map { Float(function(Double($0) / Double(Self.tableSize - 1))) }
        table = FloatTable(values)
    }

    @inlinable @inline(__always)
    public func curve<L: Lanes>(_ v: L) -> L {
        (v.clamped(0, 1) * L(repeating: Float(Self.tableSize - 1))).interpolated(in: table.pointer, count: Self.tableSize)
    }

    @inlinable @inline(__always)
    public func apply<L: Lanes>(_ p: RGB<L>, at location: PixelLocation) -> RGB<L> {
        RGB(curve(p.r), curve(p.g), curve(p.b))
    }
}
