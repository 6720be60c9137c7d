/// Fixed-point number formats of a phone ISP (not a stage: the arithmetic behind device mode).
///
/// What: how a hardware block stores a number, and how it gets there from a real value.
/// - `QFormat` (signed Qm.n, the TI/DSP convention): one sign bit, m integer bits and n fraction
///   bits in a (1 + m + n)-bit two's-complement word; step 2⁻ⁿ; codes −2^(m+n) … 2^(m+n) − 1, so
///   values −2^m … 2^m − 2⁻ⁿ. Q4.10 is a 15-bit word with steps of 1/1024 and range [−16, 16).
///   Colour-correction matrix coefficients are stored this way.
/// - `UNormFormat` (unsigned normalised, b bits over a range R): codes 0 … 2^b − 1 stand for
///   code · R / (2^b − 1). Data between stages (R = the linear headroom, or 1 for encoded data),
///   tone-table entries and 3-D LUT entries are stored this way.
/// Rounding (`DeviceRounding`) happens on the exact product value · 2ⁿ (or value · (2^b − 1) / R),
/// then the code saturates at the format's limits, as fixed-point hardware clamps instead of
/// wrapping. NaN becomes code 0.
/// Reference: Texas Instruments, "TMS320C64x DSP Library Programmer's Reference" (SPRU565), Q
/// format notation; ARM CMSIS-DSP's q15/q31 saturating conversions (`arm_float_to_q15`).
/// This file must stay free of Foundation (kernel code reads `DeviceRounding`).
public enum DeviceRounding: String, Sendable, Equatable, CaseIterable {
    /// Round half to even (IEEE 754's default; "convergent rounding" in DSPs): 2.5 → 2, 3.5 → 4, −2.5 → −2.
    case halfEven = "half-even"
    /// Round half up: add half an LSB, then shift right, i.e. ⌊x + ½⌋: 2.5 → 3, −2.5 → −2 (what most RTL does).
    case halfUp = "half-up"
    /// Truncation by an arithmetic right shift, i.e. ⌊x⌋ (toward −∞): 2.7 → 2, −2.5 → −3 (no adder; a −½ LSB bias).
    case floor = "floor"

    /// `x` rounded to a whole number by this mode (exact in Double for |x| < 2⁵²).
    @inlinable
    public func round(_ x: Double) -> Double {
        switch self {
        case .halfEven: return x.rounded(.toNearestOrEven)
        case .halfUp: return (x + 0.5).rounded(.down)
        case .floor: return x.rounded(.down)
        }
    }
}

/// Signed Qm.n: one sign bit, `integerBits` integer bits, `fractionBits` fraction bits.
public struct QFormat: Sendable, Equatable, CustomStringConvertible {
    public let integerBits: Int
    public let fractionBits: Int

    public static let integerBitsRange = 0...15
    public static let fractionBitsRange = 1...24

    public init(integerBits: Int, fractionBits: Int) {
        precondition(Self.integerBitsRange.contains(integerBits) && Self.fractionBitsRange.contains(fractionBits))
        self.integerBits = integerBits
        self.fractionBits = fractionBits
    }

    /// Parses "Q4.10"; nil when malformed or out of range.
    public init?(parsing text: String) {
        guard text.first == "Q" || text.first == "q" else { return nil }
        let parts = text.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let m = Int(parts[0]), let n = Int(parts[1]),
              Self.integerBitsRange.contains(m), Self.fractionBitsRange.contains(n) else { return nil }
        self.init(integerBits: m, fractionBits: n)
    }

    public var description: String { "Q\(integerBits).\(fractionBits)" }
    /// Bits of the two's-complement word, sign included.
    public var wordBits: Int { 1 + integerBits + fractionBits }
    public var minimumCode: Int { -(1 << (integerBits + fractionBits)) }
    public var maximumCode: Int { (1 << (integerBits + fractionBits)) - 1 }
    public var step: Double { 1 / Double(1 << fractionBits) }

    /// The code of `x`: x · 2ⁿ rounded by `rounding`, saturated to the word's range; NaN → 0.
    public func code(_ x: Double, rounding: DeviceRounding) -> Int {
        guard !x.isNaN else { return 0 }
        let r = rounding.round(x * Double(1 << fractionBits))
        if r <= Double(minimumCode) { return minimumCode }
        if r >= Double(maximumCode) { return maximumCode }
        return Int(r)
    }

    public func value(code: Int) -> Double { Double(code) * step }

    /// `x` as the hardware holds it.
    public func quantised(_ x: Double, rounding: DeviceRounding) -> Double { value(code: code(x, rounding: rounding)) }
}

/// Unsigned normalised: `bits` bits standing for code · range / (2^bits − 1).
public struct UNormFormat: Sendable, Equatable, CustomStringConvertible {
    public let bits: Int
    public let range: Double

    public static let bitsRange = 1...22

    public init(bits: Int, range: Double = 1) {
        precondition(Self.bitsRange.contains(bits) && range > 0)
        self.bits = bits
        self.range = range
    }

    public var description: String { range == 1 ? "\(bits)-bit" : "\(bits)-bit over [0, \(range)]" }
    public var maximumCode: Int { (1 << bits) - 1 }

    /// The code of `x`: x · (2^bits − 1) / range rounded by `rounding`, saturated to 0 … 2^bits − 1; NaN → 0.
    public func code(_ x: Double, rounding: DeviceRounding) -> Int {
        guard !x.isNaN else { return 0 }
        let r = rounding.round(x * Double(maximumCode) / range)
        if r <= 0 { return 0 }
        if r >= Double(maximumCode) { return maximumCode }
        return Int(r)
    }

    public func value(code: Int) -> Double { Double(code) * range / Double(maximumCode) }

    public func quantised(_ x: Double, rounding: DeviceRounding) -> Double { value(code: code(x, rounding: rounding)) }
}
