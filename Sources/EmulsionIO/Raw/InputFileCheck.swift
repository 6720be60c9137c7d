#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Checks a path before any decoder touches it, so hostile inputs fail fast and clearly:
/// missing files, directories, FIFOs (a decoder would block on them), symlink loops, unreadable
/// and empty files are refused with a precise reason.
public enum InputFileCheck {
    /// Returns the file's size in bytes, or throws `RawFileError`; `kind` names what the file
    /// should have been ("is a directory, not a raw file"; `DCPFile` asks for a camera profile).
    public static func regularReadableFile(_ path: String, kind: String = "raw file") throws -> Int {
        var info = stat()
        if stat(path, &info) != 0 {
            let e = errno
            switch e {
            case ENOENT: throw RawFileError(path: path, problem: "no such file")
            case ELOOP: throw RawFileError(path: path, problem: "symbolic link loop")
            case EACCES: throw RawFileError(path: path, problem: "permission denied")
            default: throw RawFileError(path: path, problem: String(cString: strerror(e)))
            }
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw RawFileError(path: path, problem: "is a directory, not a \(kind)")
        case S_IFIFO: throw RawFileError(path: path, problem: "is a FIFO (named pipe), not a \(kind)")
        case S_IFSOCK: throw RawFileError(path: path, problem: "is a socket, not a \(kind)")
        default: throw RawFileError(path: path, problem: "is not a regular file")
        }
        if access(path, R_OK) != 0 { throw RawFileError(path: path, problem: "permission denied") }
        if info.st_size == 0 { throw RawFileError(path: path, problem: "empty file (0 bytes)") }
        return Int(info.st_size)
    }

    /// The whole file, after `regularReadableFile`'s check (a FIFO would block the read); the
    /// problem, when there is one, as the one phrase a reader puts after the path.
    public static func contents(of path: String, kind: String) throws(RawFileError) -> [UInt8] {
        do { _ = try regularReadableFile(path, kind: kind) } catch let e as RawFileError { throw e } catch {
            throw RawFileError(path: path, problem: "\(error)")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw RawFileError(path: path, problem: "cannot read the file") }
        return [UInt8](data)
    }
}
