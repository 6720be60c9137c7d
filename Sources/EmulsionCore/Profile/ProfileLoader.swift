#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds, parses, validates and resolves profile files.
///
/// A profile is named (`neutral`, looked up as `NAME.json` in the search directories) or given
/// as a path. Values resolve file → `extends` chain → stage defaults. Validation is strict: an
/// unknown key, a wrong type or an out-of-range value is an error naming file and key path.
public struct ProfileLoader: Sendable {
    public var searchDirectories: [URL]

    public init(searchDirectories: [URL]) {
        self.searchDirectories = searchDirectories
    }

    /// The shipped `Profiles/` folder: `$EMULSION_PROFILES`, else the first `Profiles/` found
    /// walking up from the executable, else from the current directory.
    public static var standard: ProfileLoader {
        var dirs: [URL] = []
        // getenv, not ProcessInfo's `environment`, which builds a dictionary of every variable
        // (~0.3 ms of the 0.2 MP crop's run).
        if let value = getenv("EMULSION_PROFILES"), case let env = String(cString: value), !env.isEmpty {
            dirs.append(URL(fileURLWithPath: env))
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
        for start in [executable.deletingLastPathComponent(), URL(fileURLWithPath: FileManager.default.currentDirectoryPath)] {
            var dir = start.standardizedFileURL
            for _ in 0..<8 {
                let candidate = dir.appendingPathComponent("Profiles")
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("neutral.json").path) {
                    dirs.append(candidate)
                    break
                }
                dir = dir.deletingLastPathComponent()
            }
        }
        return ProfileLoader(searchDirectories: dirs)
    }

    /// Whether a profile (or device) argument names a file rather than a shipped one: it holds a
    /// "/" or ends in ".json". The one rule for `--profile`, `--device`, `extends`, golden cases
    /// and output names.
    public static func namesFile(_ nameOrPath: String) -> Bool {
        nameOrPath.contains("/") || nameOrPath.hasSuffix(".json")
    }

    /// Names of the profiles in the search directories.
    public func availableNames() -> [String] {
        var names = Set<String>()
        for dir in searchDirectories {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            for f in files where f.hasSuffix(".json") { names.insert(String(f.dropLast(5))) }
        }
        return names.sorted()
    }

    /// Resolves a name or a path.
    public func load(_ nameOrPath: String) throws -> Profile {
        try load(nameOrPath, chain: [])
    }

    private func locate(_ nameOrPath: String) throws -> URL {
        if Self.namesFile(nameOrPath) {
            return URL(fileURLWithPath: nameOrPath)
        }
        for dir in searchDirectories {
            let url = dir.appendingPathComponent(nameOrPath + ".json")
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        let known = availableNames()
        throw ProfileError(file: nameOrPath, keyPath: "",
                           message: "no such profile" + (known.isEmpty ? " (no Profiles/ folder found; set EMULSION_PROFILES)"
                                                          : "; available: " + known.joined(separator: ", ")))
    }

    private func load(_ nameOrPath: String, chain: [String]) throws -> Profile {
        let url = try locate(nameOrPath)
        let path = url.path
        if chain.contains(path) {
            throw ProfileError(file: path, keyPath: "extends",
                               message: "cycle: " + (chain + [path]).map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: " → "))
        }
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ProfileError(file: path, keyPath: "", message: "no such file")
        }
        guard !isDirectory else { throw ProfileError(file: path, keyPath: "", message: "is a directory, not a profile") }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ProfileError(file: path, keyPath: "", message: "cannot be read")
        }
        return try resolve(try Self.document(data, file: path), file: path, chain: chain + [path], directory: url.deletingLastPathComponent())
    }

    /// The `stage.parameter` paths a profile's own file sets (its parent's not included), for
    /// `profile validate`'s warnings about settings that change nothing. The file is read again:
    /// `Profile` holds resolved values only.
    public func ownSettings(_ nameOrPath: String) throws -> [String] {
        let url = try locate(nameOrPath)
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw ProfileError(file: url.path, keyPath: "", message: "cannot be read") }
        guard case .object(let object) = try Self.document(data, file: url.path) else { return [] }
        let migrated = try ProfileMigration.migrate(object, file: url.path)
        return StageCatalogue.all.flatMap { stage -> [String] in
            guard case .object(let params)? = migrated[stage.name] else { return [] }
            return stage.parameters.filter { params[$0.name] != nil }.map { "\(stage.name).\($0.name)" }
        }
    }

    /// Parses and resolves a profile held in memory (`label` names it in errors).
    public func profile(fromJSON data: Data, label: String) throws -> Profile {
        return try resolve(try Self.document(data, file: label), file: label)
    }

    /// A profile-style document (profile, device description, `profile set`'s file) read by
    /// `JSONText`, its errors as `ProfileError`s naming `file`.
    public static func document(_ data: Data, file: String) throws -> JSONValue {
        do { return try JSONText.parse([UInt8](data)) } catch let error as JSONText.ParseError {
            throw ProfileError(file: file, keyPath: error.keyPath, message: error.message)
        }
    }

    /// Validates a parsed document and resolves it against its parent and the defaults.
    public func resolve(_ document: JSONValue, file: String, chain: [String] = [], directory: URL? = nil) throws -> Profile {
        guard case .object(let object) = document else {
            throw ProfileError(file: file, keyPath: "", message: "expected a JSON object at the top level, got \(document.typeName)")
        }
        let migrated = try ProfileMigration.migrate(object, file: file)
        let meta = ["schemaVersion", "name", "description", "extends"]
        for key in migrated.keys.sorted() where !meta.contains(key) && StageCatalogue.stage(key) == nil {
            throw ProfileError(file: file, keyPath: key,
                               message: "unknown key; allowed: " + (meta + StageCatalogue.all.map(\.name)).joined(separator: ", "))
        }
        func string(_ key: String, required: Bool) throws -> String? {
            switch migrated[key] {
            case .string(let s)?: return s
            case nil where !required: return nil
            case nil: throw ProfileError(file: file, keyPath: key, message: "missing; expected a string")
            case let v?: throw ProfileError(file: file, keyPath: key, message: "expected a string, got \(v.typeName)")
            }
        }
        let name = try string("name", required: true)!
        let summary = try string("description", required: false) ?? ""
        let parentName = try string("extends", required: false)

        var base = Profile.defaults
        if let parentName {
            let parentPath: String
            if Self.namesFile(parentName), let directory {
                parentPath = parentName.hasPrefix("/") ? parentName : directory.appendingPathComponent(parentName).path
            } else {
                parentPath = parentName
            }
            do {
                base = try load(parentPath, chain: chain)
            } catch let e as ProfileError where e.keyPath.isEmpty && e.file == parentPath {
                throw ProfileError(file: file, keyPath: "extends", message: "parent \"\(parentName)\": \(e.message)")
            }
        }
        var values = base.values
        for stage in StageCatalogue.all {
            guard let entry = migrated[stage.name] else { continue }
            guard case .object(let params) = entry else {
                throw ProfileError(file: file, keyPath: stage.name, message: "expected an object of parameters, got \(entry.typeName)")
            }
            for (key, raw) in params.sorted(by: { $0.key < $1.key }) {
                guard let declaration = stage.parameter(key) else {
                    throw ProfileError(file: file, keyPath: "\(stage.name).\(key)",
                                       message: "unknown parameter; parameters of \(stage.name): " + stage.parameters.map(\.name).joined(separator: ", "))
                }
                switch declaration.validate(raw) {
                case .success(.text(let path)) where !path.isEmpty:
                    values[stage.name]![key] = .text(try Self.resolveFile(path, relativeTo: directory, file: file,
                                                                          keyPath: "\(stage.name).\(key)", declaration: declaration))
                case .success(let v): values[stage.name]![key] = v
                case .failure(let p): throw ProfileError(file: file, keyPath: "\(stage.name).\(key)", message: p.message)
                }
            }
        }
        return Profile(name: name, summary: summary, parent: parentName, origin: file, values: values)
    }

    /// A file parameter's path made absolute (relative to the profile's folder, or the current
    /// folder), checked to exist; the error names the profile file and key path.
    public static func resolveFile(_ path: String, relativeTo directory: URL?, file: String, keyPath: String,
                                   declaration: ParameterDeclaration) throws -> String {
        let base = directory ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.appendingPathComponent(path)
        let resolved = url.standardizedFileURL.path
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), !isDirectory else {
            throw ProfileError(file: file, keyPath: keyPath, message: "\(resolved): no such file; allowed: \(declaration.allowed)")
        }
        return resolved
    }

}

/// Schema migrations: each breaking change bumps `Profile.schemaVersion` and adds a step here
/// that rewrites the old document into the new shape, with a fixture test of the old file.
public enum ProfileMigration {
    public static func migrate(_ object: [String: JSONValue], file: String) throws -> [String: JSONValue] {
        guard case .number(let v)? = object["schemaVersion"] else {
            throw ProfileError(file: file, keyPath: "schemaVersion",
                               message: object["schemaVersion"] == nil ? "missing; expected \(Profile.schemaVersion)"
                                   : "expected a number, got \(object["schemaVersion"]!.typeName)")
        }
        // The upper bound keeps `Int(v)` from trapping on 1e60 (a fuzzer finding).
        guard v == v.rounded(), v >= 1, v <= 1_000_000 else {
            throw ProfileError(file: file, keyPath: "schemaVersion", message: "expected a positive whole number, got \(v)")
        }
        let version = Int(v)
        if version > Profile.schemaVersion {
            throw ProfileError(file: file, keyPath: "schemaVersion",
                               message: "version \(version) is newer than this Emulsion understands (\(Profile.schemaVersion))")
        }
        // Version 1 is current: nothing to migrate yet.
        return object
    }
}
