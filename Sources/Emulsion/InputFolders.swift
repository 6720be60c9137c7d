import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Folders given as inputs, replaced by the raw files in them, so a batch of thousands need not
/// pass through the shell's argument limit (darktable-cli and rawtherapee-cli take a folder too).
///
/// What counts: regular files (or links to them) whose extension, in any case, is one of the raw
/// extensions LibRaw's own tools list (`rawExtensions`); sidecars, JPEGs and our own PNGs are
/// left alone. Names starting with "." are skipped (macOS's AppleDouble "._IMG_1.CR2" copies on
/// shared drives are not raws; our own temporaries start with "." too; so are ".thumbnails" and
/// ".git"). By default subfolders are not entered: a folder is one shoot. Walked recursively (a
/// card's DCIM/100APPLE, 101APPLE…, a year of dated folders), each file keeps the path of its
/// subfolder below the folder named (`Found.subfolder`), so that outputs mirror it and the
/// same name in two subfolders does not meet in one output folder. A link to a folder is not
/// followed in a walk (as `find` does not): a link to a parent would never end. Files come in
/// name order, a folder's own files before its subfolders', so runs and shards agree.
public enum InputFolders {
    /// Lower-case raw extensions, after LibRaw's list of the formats it reads.
    public static let rawExtensions: Set<String> = [
        "3fr", "ari", "arw", "bay", "cap", "cr2", "cr3", "crw", "data", "dcr", "dcs", "dng", "drf", "eip", "erf",
        "fff", "gpr", "iiq", "k25", "kdc", "mdc", "mef", "mos", "mrw", "nef", "nrw", "obm", "orf", "pef", "ptx",
        "pxn", "qtk", "r3d", "raf", "raw", "rw2", "rwl", "rwz", "sr2", "srf", "srw", "sti", "x3f",
    ]

    /// An input file: named directly, or found in a folder that was named.
    public struct Found: Sendable, Equatable {
        public var path: String
        /// The folders between the named folder and the file ("" when it was named, or lies
        /// directly in the named folder), "/"-separated: where its output goes below the output folder.
        public var subfolder: String

        public init(path: String, subfolder: String = "") {
            self.path = path
            self.subfolder = subfolder
        }
    }

    /// `inputs` with each folder replaced by its raw files (and, when `recursive`, those of every
    /// subfolder below it); files stay as they are (whatever their extension: a file named on
    /// purpose is tried). A folder that cannot be listed, or a named folder with no raw file
    /// found, is an error naming it.
    public static func expand(_ inputs: [String], recursive: Bool = false) throws -> [Found] {
        var out: [Found] = []
        for input in inputs {
            var isFolder = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isFolder), isFolder else {
                out.append(Found(path: input))
                continue
            }
            let before = out.count
            try walk(input, subfolder: "", recursive: recursive, into: &out)
            guard out.count > before else {
                throw RenderError("\(input): a folder with no raw files in it " +
                                  (recursive ? "or in its subfolders" : "(subfolders are not searched without --recursive)"))
            }
        }
        return out
    }

    private static func walk(_ folder: String, subfolder: String, recursive: Bool, into out: inout [Found]) throws {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw RenderError("\(folder): cannot list this folder: \(PlainFile.reason(for: error))")
        }
        var subfolders: [String] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = join(folder, name)
            switch kind(of: path) {
            case .folder:
                // Only a real folder is entered; a link to one is neither entered nor a raw.
                if recursive { subfolders.append(name) }
            case .linkToFolder:
                continue
            case .other:
                // Everything else named like a raw: a broken or looping link is kept, so the
                // decoder names it in an error rather than the batch skipping it unseen.
                guard let dot = name.lastIndex(of: "."),
                      rawExtensions.contains(name[name.index(after: dot)...].lowercased()) else { continue }
                out.append(Found(path: path, subfolder: subfolder))
            }
        }
        for name in subfolders {
            try walk(join(folder, name), subfolder: subfolder.isEmpty ? name : subfolder + "/" + name,
                     recursive: true, into: &out)
        }
    }

    private enum Kind { case folder, linkToFolder, other }

    private static func kind(of path: String) -> Kind {
        var own = stat()
        guard lstat(path, &own) == 0 else { return .other }
        if (own.st_mode & S_IFMT) == S_IFDIR { return .folder }
        guard (own.st_mode & S_IFMT) == S_IFLNK else { return .other }
        var target = stat()
        return stat(path, &target) == 0 && (target.st_mode & S_IFMT) == S_IFDIR ? .linkToFolder : .other
    }

    static func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }
}
