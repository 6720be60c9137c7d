#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import EmulsionCore
#if canImport(Glibc)
import Glibc
#endif

/// Captures what C decoders print to stderr while they run.
///
/// Why: LibRaw decodes lossy DNGs through libjpeg, whose default error manager prints warnings
/// such as "Premature end of JPEG file" to stderr and carries on with grey data, and LibRaw
/// exposes no hook for them. Emulsion owes the user one line per bad file, so while a decode runs
/// stderr (fd 2) points at a temporary file; anything written there is read back and becomes
/// that file's error. fd 2 is process-wide, so decodes under capture are serialised; the CLI
/// writes its own messages to a duplicate of the original stderr (`originalStandardError`), so
/// nothing of ours is lost while a capture is in place.
public enum DecoderMessages {
    private static let lock = ThreadLock()
    /// A descriptor for the real stderr, valid for the life of the process.
    public static let originalStandardError: Int32 = dup(STDERR_FILENO)

    /// Runs `body` with stderr captured; returns its result and what was printed (trimmed).
    public static func capturing<T>(_ body: () throws -> T) rethrows -> (T, String) {
        _ = originalStandardError
        lock.lock()
        defer { lock.unlock() }
        guard let capture = tmpfile() else { return (try body(), "") }
        defer { fclose(capture) }
        fflush(stderr)
        let saved = dup(STDERR_FILENO)
        dup2(fileno(capture), STDERR_FILENO)
        let result: T
        do {
            result = try body()
        } catch {
            fflush(stderr)
            dup2(saved, STDERR_FILENO)
            close(saved)
            throw error
        }
        fflush(stderr)
        dup2(saved, STDERR_FILENO)
        close(saved)
        rewind(capture)
        var text = ""
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), capture) != nil, text.count < 4096 {
            text += String(cString: buffer)
        }
        return (result, text.trimmingWhitespace(newlines: true))
    }
}
