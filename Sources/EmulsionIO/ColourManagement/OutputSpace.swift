/// The output colour spaces a render can be encoded in, their ICC profiles, and the constants the
/// output stage needs to produce exactly what those profiles describe.
///
/// What: for each space, the primaries and white (EmulsionCore's `RGBPrimaries`), the transfer
/// curve (TransferCurve.swift), the ICC v4 profile LittleCMS builds from them (cached bytes, what a
/// PNG embeds), and `outputEncoding()`: the working → output matrix plus the profile's own curve,
/// as an `OutputEncodingKernel`. Also the reverse, encoded output RGB → CIELAB D50 (`EncodedToLab`),
/// for golden-image comparison.
/// Why: the pixels must mean what the embedded profile says. A relative-colorimetric LittleCMS
/// transform from the working space (linear Rec.2020, D65) to an output profile goes through the
/// D50 PCS: each matrix/TRC profile's colorants are its RGB → XYZ matrix adapted to D50 with
/// linear Bradford (cmsCreateRGBProfile, `_cmsAdaptMatrixToD50`), and the intent adds no PCS step,
/// so working → output linear = (B_out·M_out)⁻¹ · (B_D65·M_2020), where B_w is Bradford from white
/// w to the ICC D50 white (0.9642, 1, 0.8249). For the D65 spaces B cancels exactly; for ProPhoto
/// (white x 0.3457, y 0.3585, slightly off the ICC D50 XYZ) it does not. That is
/// `nominalFromWorking`. The serialised profile stores the colorants and curve parameters rounded
/// to s15Fixed16, so the kernel is built from the profile read back from its own bytes (colorants
/// and TRC as stored), and a reader of the PNG decodes its pixels to the intended PCS colour.
/// ColourManagementTests proves both matrices equal to what LittleCMS computes (basis vectors
/// through transforms) and the kernel equal to a LittleCMS transform to within its table error.
/// Reference: ICC.1:2022 §6.3 and Annex E (PCS, chromatic adaptation); IEC 61966-2-1 (sRGB);
/// SMPTE EG 432-1 (P3 primaries; Display P3 pairs them with D65 and the sRGB curve);
/// Adobe RGB (1998) Color Image Encoding v2005-05; ITU-R BT.2020-2; ISO 22028-2:2013 (ROMM RGB).
/// Colour space in: working RGB (linear Rec.2020, D65); out: encoded RGB of the chosen space, [0, 1].
import CLCMS2
import EmulsionCore

public enum OutputSpace: String, CaseIterable, Sendable {
    case sRGB = "srgb"
    case displayP3 = "display-p3"
    case adobeRGB = "adobe-rgb"
    case rec2020 = "rec2020"
    case proPhoto = "prophoto"

    /// Primaries and white point: D65 for all but ProPhoto/ROMM (D50, x 0.3457 y 0.3585).
    public var primaries: RGBPrimaries {
        switch self {
        case .sRGB: return .sRGB
        case .displayP3: return .displayP3
        case .adobeRGB: return .adobeRGB
        case .rec2020: return .rec2020
        case .proPhoto: return .proPhoto
        }
    }

    /// The transfer curve (decoding direction, as the profile's TRC tags hold it).
    public var transferCurve: TransferCurve {
        switch self {
        case .sRGB, .displayP3: return .sRGB
        case .adobeRGB: return .adobeRGB
        case .rec2020: return .bt2020
        case .proPhoto: return .romm
        }
    }

    /// The profile's description tag.
    public var profileDescription: String {
        switch self {
        case .sRGB: return "Emulsion sRGB"
        case .displayP3: return "Emulsion Display P3"
        case .adobeRGB: return "Emulsion Adobe RGB (1998) compatible"
        case .rec2020: return "Emulsion Rec.2020"
        case .proPhoto: return "Emulsion ProPhoto (ROMM RGB)"
        }
    }

    /// Linear RGB of this space → PCS XYZ (D50), exactly as cmsCreateRGBProfile computes the
    /// colorants before storing them: Bradford(white → ICC D50) · RGB→XYZ. RGB (1,1,1) maps to D50.
    public var nominalLinearToPCS: Matrix3 { OutputSpaceConstants.nominal[self]! }

    /// Working RGB (linear Rec.2020, D65) → linear RGB of this space, relative colorimetric, from the
    /// nominal colorants: (B_out·M_out)⁻¹ · (B_D65·M_2020).
    public var nominalFromWorking: Matrix3 { nominalLinearToPCS.inverse! * OutputSpaceConstants.workingToPCS }

    /// The profile as embedded: its bytes and what a reader of them finds (built once per process).
    public func embeddedProfile() throws(ColourManagementError) -> EmbeddedOutputProfile {
        try OutputSpaceConstants.built(self).get().profile
    }

    /// The serialised ICC profile (v4, deterministic bytes) for a PNG's iCCP chunk.
    public func iccProfile() throws(ColourManagementError) -> [UInt8] {
        try embeddedProfile().bytes
    }

    /// The output stage for this space: working RGB → this space's linear RGB (`fromWorking` of the
    /// embedded profile), clip to [0, 1], then the inverse of the embedded TRC, evaluated by
    /// LittleCMS on the curve object read back from the serialised profile.
    public func outputEncoding() throws(ColourManagementError) -> OutputEncodingKernel {
        try OutputSpaceConstants.built(self).get().encoding
    }
}

/// What a reader of an output profile's bytes finds: the colorants and tone curve as stored, i.e.
/// the nominal values rounded to s15Fixed16 (≤ 7.6·10⁻⁶ per matrix element, ≈ 10⁻⁵ relative on
/// curve parameters). The output kernel and the Lab decoding use these, not the nominal values, so
/// pixels decode through the embedded profile to the intended PCS colour to Float precision.
public struct EmbeddedOutputProfile: Sendable {
    public let space: OutputSpace
    /// The serialised profile.
    public let bytes: [UInt8]
    /// Linear RGB → PCS XYZ (D50): the colorant tags as stored.
    public let linearToPCS: Matrix3
    /// The TRC as stored (decoding direction).
    public let transferCurve: TransferCurve
    /// Working RGB → linear RGB of this space, relative colorimetric through the D50 PCS:
    /// linearToPCS⁻¹ · (working RGB → PCS). The working side is the exact nominal matrix: it is not
    /// embedded anywhere, and the intent is that PCS colour. Exactly the identity for Rec.2020,
    /// whose primaries and white are the working space's (as LittleCMS also treats it).
    public let fromWorking: Matrix3
}

/// Encoded output RGB → XYZ/Lab in the ICC PCS (D50), through the embedded profile's decoding curve
/// (the Swift formula on the stored parameters, equal to LittleCMS's evaluation to double rounding)
/// and its stored colorant matrix: what a LittleCMS relative-colorimetric transform from the output
/// profile to a D50 Lab profile computes. Build one per image and call it per pixel.
public struct EncodedToLab: Sendable {
    public let space: OutputSpace
    private let curve: TransferCurve
    private let m: (Double, Double, Double, Double, Double, Double, Double, Double, Double)

    public init(_ profile: EmbeddedOutputProfile) {
        space = profile.space
        curve = profile.transferCurve
        let a = profile.linearToPCS.m
        m = (a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8])
    }

    public init(_ space: OutputSpace) throws(ColourManagementError) {
        self.init(try space.embeddedProfile())
    }

    /// XYZ (Y of white = 1) relative to the ICC D50 white.
    public func pcsXYZ(fromEncoded rgb: SIMD3<Double>) -> SIMD3<Double> {
        let r = curve.decode(rgb.x), g = curve.decode(rgb.y), b = curve.decode(rgb.z)
        return SIMD3(m.0 * r + m.1 * g + m.2 * b, m.3 * r + m.4 * g + m.5 * b, m.6 * r + m.7 * g + m.8 * b)
    }

    /// CIELAB relative to the ICC D50 white.
    public func lab(fromEncoded rgb: SIMD3<Double>) -> CIELab {
        CIELab(xyz: pcsXYZ(fromEncoded: rgb), white: iccD50)
    }
}

/// The per-space constants, computed once per process (Swift initialises globals and static
/// lets lazily and thread-safely, so no lock is needed and everything stored is Sendable).
enum OutputSpaceConstants {
    struct Built: Sendable {
        let profile: EmbeddedOutputProfile
        let encoding: OutputEncodingKernel
    }

    /// Bradford from a white's XYZ to the ICC D50 white, as cmsCreateRGBProfile applies it.
    static func toPCS(_ primaries: RGBPrimaries) -> Matrix3 {
        ChromaticAdaptation.bradford(from: primaries.white.xyz, to: iccD50) * primaries.toXYZ
    }

    /// Working RGB → PCS XYZ (the nominal colorants of the linear working-space profile).
    static let workingToPCS = toPCS(WorkingSpace.primaries)

    static let nominal: [OutputSpace: Matrix3] =
        Dictionary(uniqueKeysWithValues: OutputSpace.allCases.map { ($0, toPCS($0.primaries)) })

    /// Each space's profile and kernel, built on first use and kept (a static is initialised once,
    /// thread-safely). One per space rather than all at once: a render needs one, and building
    /// the five took ~2.5 ms of LittleCMS curve work at every process start.
    static func built(_ space: OutputSpace) -> Result<Built, ColourManagementError> {
        switch space {
        case .sRGB: return sRGB
        case .displayP3: return displayP3
        case .adobeRGB: return adobeRGB
        case .rec2020: return rec2020
        case .proPhoto: return proPhoto
        }
    }

    private static let sRGB = Result { () throws(ColourManagementError) in try build(.sRGB) }
    private static let displayP3 = Result { () throws(ColourManagementError) in try build(.displayP3) }
    private static let adobeRGB = Result { () throws(ColourManagementError) in try build(.adobeRGB) }
    private static let rec2020 = Result { () throws(ColourManagementError) in try build(.rec2020) }
    private static let proPhoto = Result { () throws(ColourManagementError) in try build(.proPhoto) }

    /// Builds the profile from the nominal values, serialises it, reads the bytes back, and derives
    /// the kernel from what was read, so the kernel matches the embedded profile.
    static func build(_ space: OutputSpace) throws(ColourManagementError) -> Built {
        let bytes = try ICCProfile(primaries: space.primaries, curve: space.transferCurve,
                                   description: space.profileDescription).serialised()
        let stored = try ICCProfile(bytes: bytes)
        guard let linearToPCS = stored.colorantMatrix, let inverse = linearToPCS.inverse,
              let curve = stored.parametricTransferCurve
        else { throw .notAParametricMatrixProfile(profile: space.profileDescription) }
        // Rec.2020 output has the working space's primaries and white: the stored product differs
        // from the identity only by s15Fixed16 rounding (≤ 1e-5), which LittleCMS itself drops
        // (cmsopt.c removes matrices within 0.002 of the identity), so use the identity exactly:
        // pure working primaries stay pure instead of picking up ±1e-6 that the clip would eat.
        let sameAsWorking = space.primaries == WorkingSpace.primaries
        let fromWorking = sameAsWorking ? Matrix3.identity : inverse * workingToPCS
        // The stored curve's inverse in Swift: the formula LittleCMS evaluates for the curve that
        // cmsReverseToneCurve returns (parametric type −1 or −4, in double precision), on the
        // same parameters, with the same libm `pow`, and the input rounded to Float as
        // cmsEvalToneCurveFloat takes it; ColourManagementTests checks every table entry is
        // LittleCMS's to the bit. Asking LittleCMS cost 2.1 M more instructions per process
        // (it samples the reversed curve into a 4096-entry table first; the space's constants
        // took 5.3 M, now 3.2 M: callgrind, docs/PERFORMANCE.md run v19).
        let kernel = OutputEncodingKernel(toOutput: fromWorking) { x in curve.encode(Double(Float(x))) }
        let profile = EmbeddedOutputProfile(space: space, bytes: bytes, linearToPCS: linearToPCS,
                                            transferCurve: curve, fromWorking: fromWorking)
        return Built(profile: profile, encoding: kernel)
    }
}
