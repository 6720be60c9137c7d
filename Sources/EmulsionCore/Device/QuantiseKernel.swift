/// Device quantisation: the data between two ISP blocks held in a `bits`-bit unsigned word.
///
/// What: x → clamp(x, 0, range) · s, rounded to a whole code by the device's rounding mode, then
/// back to a float as code / s, with s = (2^bits − 1) / range. Values below 0 and above `range`
/// saturate (hardware clamps; NaN becomes 0). Device mode inserts this kernel between the chain
/// elements where a phone ISP passes data from one block to the next (`DevicePipeline`); it is a
/// kernel, so `PointStageChain` never fuses matrices or curves across it.
/// Why float codes: the rest of the engine is float; code / s is the nearest float to the
/// hardware's value (exactly the value when `range` is a power of two and bits ≤ 22), and the
/// next stage's arithmetic on it is the stage's own definition.
/// Rounding: half-even by the magic-number addition every conformance shares, floor by
/// `Lanes.floored`, half-up as ⌊v + ½⌋ — all exact for 0 ≤ v < 2²² (hence bits ≤ 22), the same
/// operations in every engine, so scalar and SIMD agree bitwise.
/// Colour space: whatever flows at that point (linear working RGB, or encoded RGB); unchanged.
/// This file must stay free of Foundation (kernel code).
public struct QuantiseKernel: PointKernel {
    public let bits: Int
    public let range: Float
    public let rounding: DeviceRounding
    /// (2^bits − 1) / range.
    public let scale: Float

    public init(bits: Int, range: Float = 1, rounding: DeviceRounding) {
        precondition(bits >= 1 && bits <= 22 && range > 0)
        self.bits = bits
        self.range = range
        self.rounding = rounding
        scale = Float((1 << bits) - 1) / range
    }

    /// One channel quantised.
    @inlinable @inline(__always)
    public func quantise<L: Lanes>(_ x: L) -> L {
        let v = x.clamped(0, range) * L(repeating: scale)
        let code: L
        switch rounding {
        case .halfEven: code = (v + L(repeating: Rounding.magic)) - L(repeating: Rounding.magic)
        case .halfUp: code = (v + L(repeating: 0.5)).floored()
        case .floor: code = v.floored()
        }
        return code / L(repeating: scale)
    }

    @inlinable @inline(__always)
    public func apply<L: Lanes>(_ p: RGB<L>, at location: PixelLocation) -> RGB<L> {
        RGB(quantise(p.r), quantise(p.g), quantise(p.b))
    }
}

/// A device's tone/gamma table: one table per channel of `entries` points evenly spaced over the
/// input [0, range], linearly interpolated — the piecewise-linear 1-D LUT a phone ISP's gamma block
/// holds (indexed by the top bits of its linear input word).
///
/// What: position = clamp(x / range, 0, 1) · (entries − 1); out = t[i] + f · (t[i+1] − t[i]) through
/// `Lanes.interpolated(in:count:)`, the lookup every engine shares. Entries are already rounded to
/// the device's entry precision when the table is built (`DevicePipeline`).
/// Colour space: linear RGB in (any primaries), the table's encoding out, [0, 1].
/// This file must stay free of Foundation (kernel code).
public struct DeviceToneTableKernel: PointKernel {
    public let table: LookTable
    public let inverseRange: Float

    /// `values`: the table (at least 2 entries) over [0, `range`].
    public init(values: [Float], range: Float) {
        precondition(values.count >= 2 && range > 0)
        table = LookTable(values)
        inverseRange = 1 / range
    }

    @inlinable @inline(__always)
    public func lookup<L: Lanes>(_ x: L) -> L {
        ((x * L(repeating: inverseRange)).clamped(0, 1) * L(repeating: Float(table.count - 1)))
            .interpolated(in: table.pointer, count: table.count)
    }

    @inlinable @inline(__always)
    public func apply<L: Lanes>(_ p: RGB<L>, at location: PixelLocation) -> RGB<L> {
        RGB(lookup(p.r), lookup(p.g), lookup(p.b))
    }
}

/// A device's 3-D LUT applied to data already in the LUT's input encoding: the project's
/// tetrahedral interpolation (`LookLUTKernel.interpolate`, Kasson et al. 1995), nothing around it.
/// Colour space: the LUT's input encoding in, its output encoding out.
public struct DeviceLUTKernel: PointKernel {
    public let lut: LookLUTKernel

    public init(lut: LookLUTKernel) { self.lut = lut }

    @inlinable @inline(__always)
    public func apply<L: Lanes>(_ p: RGB<L>, at location: PixelLocation) -> RGB<L> {
        lut.interpolate(RGB(p.r.clamped(0, 1), p.g.clamped(0, 1), p.b.clamped(0, 1)))
    }
}
