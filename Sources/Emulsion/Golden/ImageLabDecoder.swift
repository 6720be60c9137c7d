import EmulsionCore
import EmulsionIO

/// How one image's encoded samples become L*a*b* (D50) for a comparison.
///
/// What: an image carrying one of Emulsion's output profiles (byte for byte) is decoded exactly
/// as golden checks always decoded it (`EncodedLabDecoder`: a table per code, the colorant
/// matrix, pixel by pixel); any other RGB ICC profile goes through LittleCMS (`ICCLabTransform`,
/// relative colorimetric, a band of pixels per call); an image without a profile is taken as
/// sRGB, as browsers and most viewers take it, and the caller is told.
/// Why: `emulsion compare` judges images other tools wrote — darktable, RawTherapee, a phone —
/// which carry their own profiles; the colours must be compared, not the codes.
/// Colour space in: encoded RGB of the image's profile; out: L*a*b* relative to the ICC D50 white.
public enum ImageLabDecoder: Sendable {
    case space(EncodedLabDecoder)
    case icc(ICCLabTransform, bytes: [UInt8])

    /// The decoder for `image`'s embedded profile, and what the reader should know about it.
    public static func forImage(_ image: PNGImage) throws -> (decoder: ImageLabDecoder, note: String?) {
        guard let icc = image.iccProfile else {
            return (.space(try EncodedLabDecoder(space: .sRGB, bitDepth: image.bitDepth)), "no ICC profile: decoded as sRGB")
        }
        if let space = GoldenRunner.space(ofICC: icc) {
            return (.space(try EncodedLabDecoder(space: space, bitDepth: image.bitDepth)), nil)
        }
        return (.icc(try ICCLabTransform(iccProfile: icc, bitDepth: image.bitDepth), bytes: icc), nil)
    }

    /// What the samples are decoded as, for messages: an output space's name or the profile's description.
    public var label: String {
        switch self {
        case .space(let d): return d.space.rawValue
        case .icc(let t, _): return "ICC \"\(t.profileName)\""
        }
    }

    var bitDepth: Int {
        switch self {
        case .space(let d): return d.bitDepth
        case .icc(let t, _): return t.bitDepth
        }
    }

    /// Whether equal codes mean equal colours in both images (then no arithmetic is needed for them).
    func hasSameEncoding(as other: ImageLabDecoder) -> Bool {
        switch (self, other) {
        case let (.space(x), .space(y)): return x.space == y.space && x.bitDepth == y.bitDepth
        case let (.icc(_, x), .icc(_, y)): return x == y && bitDepth == other.bitDepth
        default: return false
        }
    }

    /// L*a*b* of one pixel; only for `.space` (an ICC transform decodes whole bands, `lab(_:pixels:)`).
    @inline(__always)
    func lab(_ r: UInt16, _ g: UInt16, _ b: UInt16) -> CIELab {
        guard case .space(let d) = self else { preconditionFailure("ICC decoders decode bands") }
        return d.lab(r, g, b)
    }

    /// L*a*b* of the interleaved RGB pixels `pixels` of `samples`, for an ICC decoder; nil for an
    /// output space's, which decodes a pixel only where it is needed.
    func lab(_ samples: UnsafeBufferPointer<UInt16>, pixels: Range<Int>) -> [CIELab]? {
        guard case .icc(let t, _) = self else { return nil }
        var values = [Double](repeating: 0, count: 3 * pixels.count)
        values.withUnsafeMutableBufferPointer { out in
            t.lab(UnsafeBufferPointer(rebasing: samples[(3 * pixels.lowerBound)..<(3 * pixels.upperBound)]), into: out)
        }
        return (0..<pixels.count).map { CIELab(L: values[3 * $0], a: values[3 * $0 + 1], b: values[3 * $0 + 2]) }
    }
}
