import CLCMS2
import EmulsionCore

/// Encoded RGB samples of an image tagged with any RGB (or grey) ICC profile → CIELAB (D50), through LittleCMS.
///
/// What: a LittleCMS transform from the image's profile (16-bit RGB in) to the built-in D50 Lab v4
/// profile (double L*a*b* out), relative colorimetric, unoptimised. 8-bit codes are widened to
/// 16 bits by ×257 (the exact map of 0…255 onto 0…65535). A grey profile (a monochrome PNG's or
/// TIFF's, whose samples the readers expand to R = G = B) takes the first sample of each pixel.
/// Why: comparing images written by other tools (darktable, RawTherapee, a phone) means decoding
/// whatever profile they carry — LUT-based ones included — not only the matrix/TRC profiles
/// Emulsion writes, which `EncodedLabDecoder` decodes exactly. Relative colorimetric keeps a
/// matrix/TRC profile's D50-adapted colorants as they are, so for those both routes agree.
/// `cmsFLAGS_NOOPTIMIZE` keeps LittleCMS from resampling the chain into a 16-bit grid, and
/// `cmsFLAGS_NOCACHE` lets threads share one transform (the one-pixel cache is its only state).
/// Reference: ICC.1:2022 (profiles, the PCS); the LittleCMS 2 API (cmsCreateTransform, cmsDoTransform).
/// Colour space in: encoded RGB of the profile; out: L*a*b* relative to the ICC D50 white.
public final class ICCLabTransform: @unchecked Sendable {
    private let transform: cmsHTRANSFORM
    /// The profile's description tag, for messages.
    public let profileName: String
    public let bitDepth: Int

    public init(iccProfile bytes: [UInt8], bitDepth: Int) throws(ColourManagementError) {
        precondition(bitDepth == 8 || bitDepth == 16, "bit depth \(bitDepth)")
        let profile = try ICCProfile(bytes: bytes)
        let name = profile.profileDescription ?? "(no description)"
        // A grey profile (a monochrome image's) reads the first of each expanded RGB triple.
        let space = cmsGetColorSpace(profile.handle)
        guard space == cmsSigRgbData || space == cmsSigGrayData else { throw .notAnRGBProfile(profile: name) }
        let input = space == cmsSigRgbData ? emulsion_TYPE_RGB_16 : emulsion_TYPE_GRAY_16_OF_RGB
        guard let lab = cmsCreateLab4Profile(nil) else { throw .transformCreationFailed }
        defer { cmsCloseProfile(lab) }
        let flags = UInt32(cmsFLAGS_NOOPTIMIZE) | UInt32(cmsFLAGS_NOCACHE)
        guard let t = withExtendedLifetime(profile, {
            cmsCreateTransform(profile.handle, input, lab, emulsion_TYPE_Lab_DBL, UInt32(INTENT_RELATIVE_COLORIMETRIC), flags)
        }) else { throw .transformCreationFailed }
        transform = t
        profileName = name
        self.bitDepth = bitDepth
    }

    deinit { cmsDeleteTransform(transform) }

    /// L*a*b* of `pixels` interleaved RGB pixels (each sample < 2^bitDepth) into `lab`, 3 values per pixel.
    public func lab(_ samples: UnsafeBufferPointer<UInt16>, into lab: UnsafeMutableBufferPointer<Double>) {
        precondition(samples.count % 3 == 0 && lab.count >= samples.count)
        let pixels = samples.count / 3
        guard pixels > 0 else { return }
        if bitDepth == 16 {
            cmsDoTransform(transform, samples.baseAddress, lab.baseAddress, UInt32(pixels))
        } else {
            let widened = samples.map { $0 &* 257 }
            widened.withUnsafeBufferPointer { cmsDoTransform(transform, $0.baseAddress, lab.baseAddress, UInt32(pixels)) }
        }
    }
}
