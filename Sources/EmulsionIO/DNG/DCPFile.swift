import EmulsionCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads a DNG camera profile file (`.dcp`: a TIFF-structured file with the magic "IIRC"/"MMCR").
/// Reference: DNG specification 1.6, chapter 6 (profile tags) and appendix on DCP files.
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
        guard size <= maximumBytes else {
            throw Failure(path: path, problem: "\(size) bytes is larger than any camera profile this reads (at most \(maximumBytes))")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure(path: path, problem: "cannot read the file") }
        return try read(bytes: [UInt8](data), path: path)
    }

    /// A profile from its bytes; `path` names it in errors and gives its default name.
    public static func read(bytes: [UInt8], path: String) throws -> CameraProfile {
        guard let ifd = TIFFDirectory.all(bytes).first else { throw Failure(path: path, problem: "not a DNG camera profile (DCP)") }
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
        guard !calibrations.isEmpty else { throw Failure(path: path, problem: "camera profile has no ColorMatrix") }
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
