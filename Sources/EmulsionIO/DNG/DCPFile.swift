import EmulsionCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads a DNG camera profile file (`.dcp`: a TIFF-structured file with the magic "IIRC"/"MMCR"),
/// or the camera profile a DNG embeds in its IFD0 (the same tags: a phone's DNG carries its
/// maker's matrices, HueSatMap, LookTable and tone curve, the look Adobe's "Embedded" profile
/// renders; `process --dcp shot.dng`, or `--dcp embedded` for each input its own).
/// Reference: DNG specification 1.6, chapter 6 (profile tags, "Camera profiles" in IFD 0) and
/// appendix on DCP files.
public enum DCPFile {
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let path: String
        public let problem: String
        public var description: String { "\(path): \(problem)" }
    }

    /// Real profiles are well under a megabyte (Adobe's largest, with 3-D tables, ~1.5 MB).
    public static let maximumBytes = 64 << 20

    public static func read(path: String) throws -> CameraProfile {
        // The raw reader's check: missing, looping, unreadable, empty and special files are named
        // before reading (a FIFO would block it).
        let size: Int
        do { size = try InputFileCheck.regularReadableFile(path, kind: "camera profile") } catch let e as RawFileError {
            throw Failure(path: path, problem: e.problem)
        }
        // A DNG (TIFF's 42, not a profile's "RC") of any size: its IFD0 alone is read, page by page.
        if let profile = try embedded(path: path, missing: "holds no camera profile (no ColorMatrix in its IFD0; a DNG has one)") {
            return profile
        }
        guard size <= maximumBytes else {
            throw Failure(path: path, problem: "\(size) bytes is larger than any camera profile this reads (at most \(maximumBytes))")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure(path: path, problem: "cannot read the file") }
        return try read(bytes: [UInt8](data), path: path)
    }

    /// For `process --dcp embedded`: the camera profile the raw at `path` embeds, with the
    /// problem worded for that request when it has none.
    public static func readEmbedded(in path: String) throws -> CameraProfile {
        let missing = "--dcp embedded: this raw embeds no camera profile (only DNGs do)"
        guard let profile = try embedded(path: path, missing: missing) else { throw Failure(path: path, problem: missing) }
        return profile
    }

    /// The profile in IFD0 of the TIFF-structured file at `path`; nil when it is not one (a DCP's
    /// "RC" magic, or no TIFF at all).
    private static func embedded(path: String, missing: String) throws -> CameraProfile? {
        guard let file = FileBytes(path: path), file.count >= 8,
              file[0] == 0x49 && file[1] == 0x49 && file[2] == 42 && file[3] == 0 || file[0] == 0x4D && file[1] == 0x4D && file[2] == 0 && file[3] == 42
        else { return nil }
        guard let ifd = TIFFDirectory.first(file) else { throw Failure(path: path, problem: "not a DNG: no TIFF directory") }
        return try profile(ifd, path: path, missing: missing)
    }

    /// A profile from its bytes; `path` names it in errors and gives its default name.
    public static func read(bytes: [UInt8], path: String) throws -> CameraProfile {
        guard let ifd = TIFFDirectory.all(bytes).first else { throw Failure(path: path, problem: "not a DNG camera profile (DCP)") }
        return try profile(ifd, path: path, missing: "camera profile has no ColorMatrix")
    }

    /// The profile the tags of `ifd` describe; `missing` is the problem when it has no ColorMatrix.
    private static func profile(_ ifd: TIFFDirectory, path: String, missing: String) throws -> CameraProfile {
        func matrix(_ tag: Int) -> Matrix3? {
            guard let v = ifd.numbers(tag), v.count == 9 else { return nil }
            let m = Matrix3(rowMajor: v)
            return m.isFinite ? m : nil
        }
        var calibrations: [DNGCalibration] = []
        for k in 0..<2 {
            let cm = matrix(50721 + k), fm = matrix(50964 + k)
            guard cm != nil else { continue }
            calibrations.append(DNGCalibration(illuminant: ifd.integers(50778 + k)?.first ?? 0, colorMatrix: cm, forwardMatrix: fm))
        }
        guard !calibrations.isEmpty else { throw Failure(path: path, problem: missing) }
        func table(dims: Int, data: Int, encoding: Int) -> CameraProfile.HSVTable? {
            guard let d = ifd.integers(dims), d.count == 3, d.allSatisfy({ $0 < 1 << 16 }), let values = ifd.numbers(data) else { return nil }
            let t = CameraProfile.HSVTable(hues: d[0], saturations: d[1], values: max(1, d[2]),
                                           data: values.map { Float($0) }, sRGBEncoded: ifd.numbers(encoding)?.first == 1)
            return t.isValid ? t : nil
        }
        let maps = [table(dims: 50937, data: 50938, encoding: 51107), table(dims: 50937, data: 50939, encoding: 51107)].compactMap { $0 }
        var curve: [SIMD2<Float>] = []
        if let c = ifd.numbers(50940), c.count >= 4, c.count % 2 == 0 {
            curve = stride(from: 0, to: c.count, by: 2).map { SIMD2(Float(c[$0]), Float(c[$0 + 1])) }
        }
        var name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        if let bytes = ifd.data(50936) { name = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self) }
        return CameraProfile(name: name, calibrations: calibrations, hueSatMaps: maps,
                             lookTable: table(dims: 50981, data: 50982, encoding: 51108), toneCurve: curve,
                             baselineExposureOffset: Float(ifd.numbers(51109)?.first ?? 0))
    }
}
