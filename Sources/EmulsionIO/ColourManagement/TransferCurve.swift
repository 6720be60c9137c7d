/// Transfer curves of the output spaces, as ICC parametric curves (ICC.1:2022 §10.18, 'para').
///
/// What: the decoding direction (encoded value → linear light, what an ICC TRC tag describes) and
/// its exact inverse (linear → encoded, what the output stage applies), both in Swift with the same
/// case analysis LittleCMS 2.14 uses for parametric types 1/−1 and 4/−4 (cmsgamma.c,
/// DefaultEvalParametricFn), plus the LittleCMS curve object built from the same parameters.
/// Why: one set of parameters feeds the ICC profile embedded in the PNG, the table the output kernel
/// interpolates, and the decoding used for CIELAB comparisons, so all three agree (a test checks
/// the Swift formulas against cmsEvalToneCurveFloat).
/// Colour space: per channel, encoded [0, 1] ↔ linear [0, 1] of the output space's own primaries.
import CLCMS2
import EmulsionCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public enum TransferCurve: Sendable, Equatable {
    /// Y = X (ICC parametric type 1 with γ = 1): scene-linear data.
    case linear
    /// Y = X^γ for X ≥ 0, 0 below (ICC parametric function type 0, LittleCMS type 1).
    case gamma(Double)
    /// Y = (aX + b)^γ for X ≥ d, Y = cX below (ICC parametric function type 3, LittleCMS type 4 —
    /// the IEC 61966-2-1 form; sRGB, BT.2020 and ROMM all fit it).
    case piecewise(gamma: Double, a: Double, b: Double, c: Double, d: Double)

    /// IEC 61966-2-1:1999 (sRGB), also Display P3's curve: γ 2.4, a = 1/1.055, b = 0.055/1.055,
    /// c = 1/12.92, d = 0.04045.
    public static let sRGB = TransferCurve.piecewise(gamma: 2.4, a: 1 / 1.055, b: 0.055 / 1.055, c: 1 / 12.92, d: 0.04045)

    /// Adobe RGB (1998) §4.3.4.2: γ = 2 51/256 = 563/256 = 2.19921875 (exact in the profile's s15Fixed16).
    public static let adobeRGB = TransferCurve.gamma(563.0 / 256.0)

    /// ITU-R BT.2020-2 Table 4 OETF inverted: E = ((E′ + α − 1)/α)^(1/0.45) for E′ ≥ 4.5β, E′/4.5 below.
    /// α = 1.09929682680944 and β = 0.018053968510807 are the exact solution the Recommendation
    /// defines (α β^0.45 − α + 1 = 4.5 β and 0.45 α β^−0.55 = 4.5); it allows 1.099/0.018 for 10-bit
    /// and 1.0993/0.0181 for 12-bit systems. We use the exact pair: with 1.099/0.018 the two
    /// segments miss by 0.3 % at the break (decoding is not monotonic there and 16-bit encoding
    /// jumps by ~16 codes), while the exact pair joins them to double precision.
    public static let bt2020: TransferCurve = {
        let alpha = 1.09929682680944, beta = 0.018053968510807
        return .piecewise(gamma: 1 / 0.45, a: 1 / alpha, b: (alpha - 1) / alpha, c: 1 / 4.5, d: 4.5 * beta)
    }()

    /// ROMM RGB, ISO 22028-2:2013 §5: C′ = C^(1/1.8) for C ≥ Et = 1/512, C′ = 16·C below. Decoding:
    /// γ 1.8, a = 1, b = 0, c = 1/16, d = 16·Et = 1/32. The segments meet exactly (512^(1/1.8) = 32).
    /// The ROMM linear segment keeps the slope finite near black (16, against ∞ for a pure power);
    /// Adobe's "ProPhoto RGB" profile uses the pure 1.8 power, which differs only below 1/512 linear
    /// (encoded < 1/32), by at most 0.0067 encoded (1.7 eight-bit codes, at linear 5.2·10⁻⁴).
    public static let romm = TransferCurve.piecewise(gamma: 1.8, a: 1, b: 0, c: 1.0 / 16.0, d: 1.0 / 32.0)

    /// The curve a LittleCMS parametric curve of type 1 or 4 holds (e.g. a profile's TRC tag as
    /// stored, with s15Fixed16-rounded parameters); nil for any other kind of curve.
    init?(lcmsCurve curve: OpaquePointer) {
        guard let p = cmsGetToneCurveParams(curve) else { return nil }
        switch cmsGetToneCurveParametricType(curve) {
        case 1: self = p[0] == 1 ? .linear : .gamma(p[0])
        case 4: self = .piecewise(gamma: p[0], a: p[1], b: p[2], c: p[3], d: p[4])
        default: return nil
        }
    }

    /// The LittleCMS parametric type (positive: decoding direction) and its parameters.
    var lcmsParameters: (type: Int32, parameters: [Double]) {
        switch self {
        case .linear: return (1, [1])
        case let .gamma(g): return (1, [g])
        case let .piecewise(g, a, b, c, d): return (4, [g, a, b, c, d])
        }
    }

    /// Encoded → linear (the ICC TRC direction), mirroring LittleCMS types 1 and 4.
    public func decode(_ x: Double) -> Double {
        switch self {
        case .linear:
            return x
        case let .gamma(g):
            return x < 0 ? 0 : pow(x, g)
        case let .piecewise(g, a, b, c, d):
            guard x >= d else { return x * c }
            let e = a * x + b
            return e > 0 ? pow(e, g) : 0
        }
    }

    /// Linear → encoded (the exact inverse), mirroring LittleCMS types −1 and −4.
    public func encode(_ y: Double) -> Double {
        switch self {
        case .linear:
            return y
        case let .gamma(g):
            return y < 0 ? 0 : pow(y, 1 / g)
        case let .piecewise(g, a, b, c, d):
            let e = a * d + b
            let breakpoint = e < 0 ? 0 : pow(e, g)
            return y >= breakpoint ? (pow(y, 1 / g) - b) / a : y / c
        }
    }
}

/// An owned LittleCMS tone curve (freed with its owner). Not shared between threads.
final class LCMSToneCurve {
    let pointer: OpaquePointer

    /// The decoding curve for `curve` (the one an ICC profile's TRC tags hold).
    init(_ curve: TransferCurve) throws(ColourManagementError) {
        let (type, parameters) = curve.lcmsParameters
        guard let p = parameters.withUnsafeBufferPointer({ cmsBuildParametricToneCurve(nil, type, $0.baseAddress) }) else {
            throw .toneCurveCreationFailed(curve)
        }
        pointer = p
    }

    private init(pointer: OpaquePointer) { self.pointer = pointer }

    deinit { cmsFreeToneCurve(pointer) }

    /// The inverse curve; LittleCMS inverts parametric curves analytically (negative type).
    func reversed(of curve: TransferCurve) throws(ColourManagementError) -> LCMSToneCurve {
        try LCMSToneCurve.reversing(pointer, of: curve)
    }

    /// The inverse of a curve owned elsewhere (a profile's TRC tag), as a curve owned by the result.
    static func reversing(_ borrowed: OpaquePointer, of curve: TransferCurve) throws(ColourManagementError) -> LCMSToneCurve {
        guard let p = cmsReverseToneCurve(borrowed) else { throw .toneCurveCreationFailed(curve) }
        return LCMSToneCurve(pointer: p)
    }

    /// LittleCMS's evaluation (double precision inside, Float at the interface).
    func evaluate(_ x: Float) -> Float { cmsEvalToneCurveFloat(pointer, x) }
}
