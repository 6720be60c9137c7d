import EmulsionIO
#if canImport(Glibc)
import Glibc
#endif

/// `emulsion process RAW -o -`: the image's bytes to standard output, for a pipeline
/// (`emulsion process shot.dng -o - --format jpeg | ssh host 'cat > shot.jpg'`, or into
/// ImageMagick), as `dcraw -c` and `dcraw_emu -Z -` write theirs.
///
/// What differs from a file (`AtomicOutput`): the bytes go out as they are encoded, so an error
/// part-way (a reader that went away: EPIPE) leaves what was written with the reader, and the
/// run exits non-zero with the error; there is no temporary to rename and nothing to fsync (a
/// pipe cannot be synced; a file the shell opened is the shell's). The command refuses a
/// terminal as standard output before any work (`refusalForTerminal`), and says what it wrote
/// on standard error, never on standard output.
public enum StandardOutput {
    /// The output name that means standard output.
    public static let name = "-"

    /// Why standard output cannot take an image now, or nil: a terminal would show binary bytes.
    public static var refusalForTerminal: String? {
        isatty(STDOUT_FILENO) == 1 ? "-o -: standard output is a terminal; pipe it into a program or redirect it to a file" : nil
    }

    /// Writes what `produce` emits to standard output, in order.
    public static func write(produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        try produce { buffer in
            guard PlainFile.write(buffer, to: STDOUT_FILENO) else {
                throw OutputError(path: "standard output", problem: "write failed: \(AtomicOutput.errnoText())")
            }
        }
    }
}
