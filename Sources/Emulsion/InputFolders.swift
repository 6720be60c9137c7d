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
///
/// A subfolder met in a walk that cannot be listed (a permission-denied folder on a shared
/// drive, an I/O error on a failing card) does not stop the batch: it is returned in
/// `Expansion.unlisted`, and the command says so, renders the rest and exits non-zero (as
/// `rsync` and `find` go on past a folder they cannot read). A folder named on the command line
/// that cannot be listed is still an error before anything runs: nothing of it could be done.
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

    /// A subfolder a walk could not list, and why (the system's reason).
    public struct Unlisted: Sendable, Equatable {
        public var folder: String
        public var reason: String

        public init(folder: String, reason: String) {
            self.folder = folder
            self.reason = reason
        }

        /// One line naming the folder and the problem.
        public var message: String { "\(folder): cannot list this folder: \(reason)" }
    }

    /// What the inputs stand for: the files to render, and the subfolders that could not be read.
    public struct Expansion: Sendable, Equatable {
        public var files: [Found]
        public var unlisted: [Unlisted]

        public var paths: [String] { files.map(\.path) }
    }

    /// `inputs` with each folder replaced by its raw files (and, when `recursive`, those of every
    /// subfolder below it); files stay as they are (whatever their extension: a file named on
    /// purpose is tried). A named folder that cannot be listed, or one with no raw file found,
    /// is an error naming it; a subfolder that cannot be listed is returned in `unlisted`.
    /// `listing` names a folder's entries (the file system's, but for tests).
    public static func expand(_ inputs: [String], recursive: Bool = false,
                              listing: (String) throws -> [String] = { try FileManager.default.contentsOfDirectory(atPath: $0) }) throws -> Expansion {
        var out = Expansion(files: [], unlisted: [])
        for input in inputs {
            var isFolder = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isFolder), isFolder else {
                out.files.append(Found(path: input))
                continue
            }
            let names: [String]
            do { names = try listing(input) } catch {
                throw RenderError(Unlisted(folder: input, reason: PlainFile.reason(for: error)).message)
            }
            let before = out.files.count, unlistedBefore = out.unlisted.count
            walk(input, names: names, subfolder: "", recursive: recursive, extensions: rawExtensions, listing: listing, into: &out)
            guard out.files.count > before else {
                let unread = out.unlisted[unlistedBefore...]
                throw RenderError("\(input): a folder with no raw files in it " +
                                  (!recursive ? "(subfolders are not searched without --recursive)"
                                   : unread.isEmpty ? "or in its subfolders"
                                   : "or in the subfolders that could be listed (\(unread.first!.message)" +
                                     (unread.count > 1 ? ", and \(unread.count - 1) more" : "") + ")"))
            }
        }
        return out
    }

    /// Every file below `folder` (subfolders too) whose lower-case extension is in `extensions`,
    /// by the same rules as raws in a recursive `expand`; `folder` itself must be listable.
    static func files(below folder: String, extensions: Set<String>) throws -> Expansion {
        var out = Expansion(files: [], unlisted: [])
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw RenderError(Unlisted(folder: folder, reason: PlainFile.reason(for: error)).message)
        }
        walk(folder, names: names, subfolder: "", recursive: true, extensions: extensions,
             listing: { try FileManager.default.contentsOfDirectory(atPath: $0) }, into: &out)
        return out
    }

    private static func walk(_ folder: String, names: [String], subfolder: String, recursive: Bool, extensions: Set<String>,
                             listing: (String) throws -> [String], into out: inout Expansion) {
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
                      extensions.contains(name[name.index(after: dot)...].lowercased()) else { continue }
                out.files.append(Found(path: path, subfolder: subfolder))
            }
        }
        for name in subfolders {
            let path = join(folder, name)
            let names: [String]
            do { names = try listing(path) } catch {
                out.unlisted.append(Unlisted(folder: path, reason: PlainFile.reason(for: error)))
                continue
            }
            walk(path, names: names, subfolder: subfolder.isEmpty ? name : subfolder + "/" + name,
                 recursive: true, extensions: extensions, listing: listing, into: &out)
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

    /// `name` below `folder`, with one "/" between them.
    public static func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }
}
