import EmulsionCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reading a LUT file from disk: the checks before any byte is parsed, and the `.cube` reader's
/// file half (the parser, `LUT3D.parseCube`, is the core's and reads bytes only).
///
/// The checks are the raw reader's (`InputFileCheck`: missing, folder, FIFO — a read would
/// block on one —, socket, link loop, permission, empty), worded for a LUT, plus a size limit
/// per format that stops an absurd file before it is read whole.
public enum LUTFile {
    /// The largest `.cube` read: a 256³ LUT written with six decimals is about 0.5 GB.
    public static let maximumCubeBytes = 1 << 30

    /// Refuses what is not a readable, non-empty regular file of at most `maximumBytes`, as a
    /// `LUTError` naming the file.
    public static func check(_ path: String, maximumBytes: Int) throws {
        let bytes: Int
        do { bytes = try InputFileCheck.regularReadableFile(path, kind: "LUT file") } catch let error as RawFileError {
            throw LUTError(file: path, message: error.problem)
        }
        guard bytes <= maximumBytes else {
            throw LUTError(file: path, message: "\(bytes) bytes is larger than any LUT this reads (at most \(maximumBytes) bytes)")
        }
    }
}

extension LUT3D {
    /// The `.cube` file at `path`, checked (`LUTFile.check`) and parsed.
    public static func readCube(path: String) throws -> LUT3D {
        try LUTFile.check(path, maximumBytes: LUTFile.maximumCubeBytes)
        guard let data = FileManager.default.contents(atPath: path) else { throw LUTError(file: path, message: "cannot be read") }
        return try parseCube(bytes: [UInt8](data), file: path)
    }
}
