import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Folders given as inputs, replaced by the raw files directly in them, so a batch of thousands
/// need not pass through the shell's argument limit (darktable-cli and rawtherapee-cli take a
/// folder too).
///
/// What counts: regular files (or links to them) whose extension, in any case, is one of the raw
/// extensions LibRaw's own tools list (`rawExtensions`); sidecars, JPEGs and our own PNGs are
/// left alone. Names starting with "." are skipped (macOS's AppleDouble "._IMG_1.CR2" copies on
/// shared drives are not raws; our own temporaries start with "." too). Subfolders are not
/// entered: a folder is one shoot, and a recursive walk would flatten same-named files of
/// different folders into one output folder. Files come in name order, so runs and shards agree.
public enum InputFolders {
    /// Lower-case raw extensions, after LibRaw's list of the formats it reads.
    public static let rawExtensions: Set<String> = [
        "3fr", "ari", "arw", "bay", "cap", "cr2", "cr3", "crw", "data", "dcr", "dcs", "dng", "drf", "eip", "erf",
        "fff", "gpr", "iiq", "k25", "kdc", "mdc", "mef", "mos", "mrw", "nef", "nrw", "obm", "orf", "pef", "ptx",
        "pxn", "qtk", "r3d", "raf", "raw", "rw2", "rwl", "rwz", "sr2", "srf", "srw", "sti", "x3f",
    ]

    /// `inputs` with each folder replaced by its raw files; files stay as they are (whatever
    /// their extension: a file named on purpose is tried). A folder that cannot be listed, or
    /// holds no raw file, is an error naming it.
    public static func expand(_ inputs: [String]) throws -> [String] {
        var out: [String] = []
        for input in inputs {
            var isFolder = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isFolder), isFolder else {
                out.append(input)
                continue
            }
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: input) } catch {
                throw RenderError("\(input): cannot list this folder: \(PlainFile.reason(for: error))")
            }
            let raws = names.filter { name in
                guard !name.hasPrefix("."), let dot = name.lastIndex(of: "."),
                      rawExtensions.contains(name[name.index(after: dot)...].lowercased()) else { return false }
                // Everything but a folder: a broken or looping link named like a raw is kept, so
                // the decoder names it in an error rather than the batch skipping it unseen.
                var isDirectory = false
                return !(FileManager.default.fileExists(atPath: join(input, name), isDirectory: &isDirectory) && isDirectory)
            }.sorted()
            guard !raws.isEmpty else {
                throw RenderError("\(input): a folder with no raw files in it (subfolders are not searched)")
            }
            out += raws.map { join(input, $0) }
        }
        return out
    }

    static func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }
}
