/// ICC profiles built and read through LittleCMS, and the errors LittleCMS calls can raise.
///
/// What: an owned LittleCMS profile handle; a builder for matrix/TRC RGB profiles (white point,
/// primaries, one parametric tone curve for all three channels) with description and copyright
/// tags; serialisation to bytes for embedding (PNG iCCP); the linear working-space profile.
/// Why: the PNG must carry a profile that describes its pixels exactly, and the numbers the output
/// kernel uses (matrix, curve) must be the ones that profile implies (see OutputSpace.swift).
/// Reference: ICC.1:2022 (profile format v4.4; LittleCMS 2.14 writes v4.3); LittleCMS 2.14 API
/// (cmsCreateRGBProfile stores colorants adapted to the D50 PCS with linear Bradford and the
/// adaptation in the 'chad' tag; the media white point tag is D50, as v4 requires).
/// Colour space: an RGB profile maps its device RGB to the PCS, XYZ relative to D50.
import CLCMS2
import EmulsionCore

/// Why a LittleCMS operation failed, in one line.
public enum ColourManagementError: Error, Sendable, Equatable, CustomStringConvertible {
    case toneCurveCreationFailed(TransferCurve)
    case profileCreationFailed(description: String)
    case tagWriteFailed(tag: String, profile: String)
    case serialisationFailed(profile: String)
    case unreadableProfile(byteCount: Int)
    case notAParametricMatrixProfile(profile: String)
    case transformCreationFailed
    case notAnRGBProfile(profile: String)

    public var description: String {
        switch self {
        case let .toneCurveCreationFailed(curve): return "LittleCMS could not build the tone curve \(curve)"
        case let .profileCreationFailed(name): return "LittleCMS could not create the RGB profile \"\(name)\""
        case let .tagWriteFailed(tag, name): return "LittleCMS could not write the \(tag) tag of profile \"\(name)\""
        case let .serialisationFailed(name): return "LittleCMS could not serialise profile \"\(name)\""
        case let .unreadableProfile(count): return "LittleCMS could not read an ICC profile from \(count) bytes"
        case let .notAParametricMatrixProfile(name):
            return "Profile \"\(name)\" has no colorant matrix or no shared parametric tone curve"
        case .transformCreationFailed: return "LittleCMS could not create a colour transform between the profiles"
        case let .notAnRGBProfile(name): return "ICC profile \"\(name)\" is not for RGB or grey images"
        }
    }
}

/// An open LittleCMS profile, closed when released. Not Sendable: use one instance on one thread
/// (share the serialised bytes instead).
public final class ICCProfile {
    /// The `cmsHPROFILE`, for LittleCMS calls; valid while this object is alive
    /// (use `withExtendedLifetime` around calls that only hold the handle).
    public let handle: UnsafeMutableRawPointer

    private init(handle: UnsafeMutableRawPointer) { self.handle = handle }

    deinit { cmsCloseProfile(handle) }

    /// Opens a serialised profile (for example one read back from a PNG's iCCP chunk).
    public convenience init(bytes: [UInt8]) throws(ColourManagementError) {
        guard let h = bytes.withUnsafeBytes({ cmsOpenProfileFromMem($0.baseAddress, UInt32($0.count)) }) else {
            throw .unreadableProfile(byteCount: bytes.count)
        }
        self.init(handle: h)
    }

    /// A matrix/TRC RGB profile: `primaries` (with their white) and the same decoding `curve` on all
    /// three channels, tagged with `description` and Emulsion's copyright line.
    public convenience init(primaries: RGBPrimaries, curve: TransferCurve, description: String) throws(ColourManagementError) {
        let tone = try LCMSToneCurve(curve)
        try self.init(primaries: primaries, toneCurve: tone, description: description)
    }

    /// As above, with an existing LittleCMS curve (so callers can evaluate the very curve the profile holds).
    convenience init(primaries: RGBPrimaries, toneCurve: LCMSToneCurve, description: String) throws(ColourManagementError) {
        var white = cmsCIExyY(x: primaries.white.x, y: primaries.white.y, Y: 1)
        var colorants = cmsCIExyYTRIPLE(
            Red: cmsCIExyY(x: primaries.red.x, y: primaries.red.y, Y: 1),
            Green: cmsCIExyY(x: primaries.green.x, y: primaries.green.y, Y: 1),
            Blue: cmsCIExyY(x: primaries.blue.x, y: primaries.blue.y, Y: 1))
        var curves: [OpaquePointer?] = [toneCurve.pointer, toneCurve.pointer, toneCurve.pointer]
        let created = withExtendedLifetime(toneCurve) {
            curves.withUnsafeMutableBufferPointer { c in cmsCreateRGBProfile(&white, &colorants, c.baseAddress) }
        }
        guard let h = created else { throw .profileCreationFailed(description: description) }
        self.init(handle: h)
        try writeText(description, tag: cmsSigProfileDescriptionTag, tagName: "description", profile: description)
        try writeText(ICCProfile.copyright, tag: cmsSigCopyrightTag, tagName: "copyright", profile: description)
    }

    /// The copyright tag Emulsion writes into the profiles it builds.
    public static let copyright = "No copyright, use freely. Generated by Emulsion."

    /// The creation date written into every profile Emulsion serialises (UTC), so the same profile
    /// always has the same bytes (and PNGs that embed it are reproducible).
    public static let creationDate: (year: UInt16, month: UInt16, day: UInt16) = (2025, 1, 1)

    private func writeText(_ text: String, tag: cmsTagSignature, tagName: String, profile: String) throws(ColourManagementError) {
        guard let mlu = cmsMLUalloc(nil, 1) else { throw .tagWriteFailed(tag: tagName, profile: profile) }
        defer { cmsMLUfree(mlu) }
        guard cmsMLUsetASCII(mlu, "en", "US", text) != 0,
              cmsWriteTag(handle, tag, UnsafeRawPointer(mlu)) != 0
        else { throw .tagWriteFailed(tag: tagName, profile: profile) }
    }

    /// The colorant matrix of a matrix/TRC profile as stored (columns rXYZ, gXYZ, bXYZ: linear
    /// device RGB → PCS XYZ, D50), or nil when the tags are missing.
    public var colorantMatrix: Matrix3? {
        var columns = [SIMD3<Double>]()
        for tag in [cmsSigRedColorantTag, cmsSigGreenColorantTag, cmsSigBlueColorantTag] {
            guard let p = cmsReadTag(handle, tag)?.assumingMemoryBound(to: cmsCIEXYZ.self) else { return nil }
            columns.append(SIMD3(p.pointee.X, p.pointee.Y, p.pointee.Z))
        }
        return Matrix3((0..<3).map { row in columns.map { $0[row] } })
    }

    /// The red TRC tag's curve, owned by this profile (valid while it is alive).
    var redToneCurve: OpaquePointer? {
        cmsReadTag(handle, cmsSigRedTRCTag).map { OpaquePointer($0) }
    }

    /// The tone curve as stored when all three TRC tags hold the same parametric type 1 or 4 curve
    /// (as in every profile Emulsion builds); nil otherwise.
    public var parametricTransferCurve: TransferCurve? {
        let curves = [cmsSigRedTRCTag, cmsSigGreenTRCTag, cmsSigBlueTRCTag].map { tag in
            cmsReadTag(handle, tag).flatMap { TransferCurve(lcmsCurve: OpaquePointer($0)) }
        }
        guard let red = curves[0], curves.allSatisfy({ $0 == red }) else { return nil }
        return red
    }

    /// The profile's description tag (en-US), or nil when it has none.
    public var profileDescription: String? {
        let needed = cmsGetProfileInfoASCII(handle, cmsInfoDescription, "en", "US", nil, 0)
        guard needed > 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(needed))
        _ = cmsGetProfileInfoASCII(handle, cmsInfoDescription, "en", "US", &buffer, needed)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The ICC bytes of this profile, as embedded in a PNG iCCP chunk. Deterministic: the header's
    /// creation date is set to `creationDate` and the v4 profile ID (MD5) is computed over that.
    public func serialised() throws(ColourManagementError) -> [UInt8] {
        let name = profileDescription ?? "unnamed"
        var first = try ICCProfile.save(handle, name: name)
        // Header bytes 24…35: dateTimeNumber (year, month, day, hours, minutes, seconds; big-endian UInt16).
        let date = ICCProfile.creationDate
        for (i, v) in [date.year, date.month, date.day, 0, 0, 0].enumerated() {
            first[24 + 2 * i] = UInt8(v >> 8)
            first[25 + 2 * i] = UInt8(v & 0xFF)
        }
        // Reopen with the fixed date and let LittleCMS compute the profile ID over the final header.
        let reopened = try ICCProfile(bytes: first)
        guard cmsMD5computeID(reopened.handle) != 0 else { throw .serialisationFailed(profile: name) }
        return try ICCProfile.save(reopened.handle, name: name)
    }

    private static func save(_ handle: UnsafeMutableRawPointer, name: String) throws(ColourManagementError) -> [UInt8] {
        var size: UInt32 = 0
        guard cmsSaveProfileToMem(handle, nil, &size) != 0, size > 128 else { throw .serialisationFailed(profile: name) }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let ok = bytes.withUnsafeMutableBytes { cmsSaveProfileToMem(handle, $0.baseAddress, &size) }
        guard ok != 0 else { throw .serialisationFailed(profile: name) }
        return Array(bytes.prefix(Int(size)))
    }

    /// The working space as a profile: linear Rec.2020 primaries, D65 white, identity curves.
    /// For tests (the source side of LittleCMS reference transforms) and for LUT export.
    public static func linearWorkingSpace() throws(ColourManagementError) -> ICCProfile {
        try ICCProfile(primaries: WorkingSpace.primaries, curve: .linear, description: "Emulsion linear Rec.2020 (working space)")
    }

    /// The serialised linear working-space profile.
    public static func linearWorkingSpaceBytes() throws(ColourManagementError) -> [UInt8] {
        try linearWorkingSpace().serialised()
    }
}
