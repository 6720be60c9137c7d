import ArgumentParser
import Emulsion
import EmulsionCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `profile diff`, `profile new`, `profile set`: comparing and editing looks as files.
extension ProfileCommand {
    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "diff", abstract: "The parameters in which two profiles differ (resolved, inheritance included).")
        @Argument(help: "First profile (name or path).") var a: String
        @Argument(help: "Second profile (name or path).") var b: String
        func run() throws {
            let loader = ProfileLoader.standard
            let pa: Profile, pb: Profile
            do { pa = try loader.load(a); pb = try loader.load(b) } catch { complain("emulsion: \(error)"); throw ExitCode(2) }
            var rows: [(String, String, String)] = []
            for stage in StageCatalogue.all {
                for p in stage.parameters where pa.value(stage.name, p.name) != pb.value(stage.name, p.name) {
                    rows.append(("\(stage.name).\(p.name)", pa.value(stage.name, p.name).description, pb.value(stage.name, p.name).description))
                }
            }
            print("\(pa.name) → \(pb.name): \(rows.count) parameter\(rows.count == 1 ? "" : "s") differ")
            let w1 = rows.map(\.0.count).max() ?? 0, w2 = rows.map(\.1.count).max() ?? 0
            for r in rows {
                print("  " + r.0.padded(toLength: w1) + "  " + r.1.padded(toLength: w2) + "  →  " + r.2)
            }
        }
    }

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "new", abstract: "Start a profile that extends another (writes NAME.json).")
        @Argument(help: "Name of the new profile.") var name: String
        @Option(help: "Profile it extends (name or path).") var from: String = "neutral"
        @Option(name: .shortAndLong, help: "File to write (default: NAME.json in the Profiles/ folder, else the current folder).") var output: String?
        @Flag(help: "Replace an existing file.") var overwrite = false
        func run() throws {
            let loader = ProfileLoader.standard
            guard !name.isEmpty, !name.contains("/") else { complain("emulsion: \(name): a profile name has no slashes"); throw ExitCode(2) }
            let base: Profile
            do { base = try loader.load(from) } catch { complain("emulsion: \(error)"); throw ExitCode(2) }
            let folder = loader.searchDirectories.first?.path ?? FileManager.default.currentDirectoryPath
            let path = output ?? URL(fileURLWithPath: folder).appendingPathComponent(name + ".json").path
            let document: JSONValue = .object([
                "schemaVersion": .number(Double(Profile.schemaVersion)),
                "name": .string(name),
                "description": .string("Based on \(base.name). Describe the intent of this look here."),
                "extends": .string(from),
            ])
            do {
                _ = try loader.resolve(document, file: path, directory: URL(fileURLWithPath: path).deletingLastPathComponent())
                try AtomicOutput.write(Array(ProfileDocument.format(document).utf8), to: path, overwrite: overwrite)
            } catch { complain("emulsion: \(error)"); throw ExitCode(2) }
            print("\(path): new profile \(name), extends \(from)")
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Change parameters in a profile file (stage.param=value, or name=/description=/extends=).",
            discussion: "The file is rewritten only if the result validates; values are checked like --set.")
        @Argument(help: "The profile file.") var file: String
        @Argument(help: "Assignments, e.g. tone.contrast=1.4 colour.vibrance=0.2") var assignments: [String]
        func run() throws {
            do {
                let profile = try Self.apply(assignments, to: file)
                // Written as asked, but a setting that changes nothing deserves a word.
                for idle in profile.idleAssignments(assignments) { complain("emulsion: warning: \(file): \(idle)") }
            } catch { complain("emulsion: \(error)"); throw ExitCode(2) }
        }

        /// Applies and writes the assignments; returns the profile as the file now resolves.
        @discardableResult
        static func apply(_ assignments: [String], to file: String) throws -> Profile {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ProfileError(file: file, keyPath: "", message: "no such file")
            }
            guard case .object(var object) = try ProfileLoader.document(data, file: file) else {
                throw ProfileError(file: file, keyPath: "", message: "expected a JSON object at the top level")
            }
            for assignment in assignments {
                guard let eq = assignment.firstIndex(of: "=") else {
                    throw ProfileError(file: file, keyPath: assignment, message: "expected key=value")
                }
                let key = String(assignment[..<eq]), text = String(assignment[assignment.index(after: eq)...])
                if ["name", "description", "extends"].contains(key) {
                    if key == "extends" && text.isEmpty { object.removeValue(forKey: key) } else { object[key] = .string(text) }
                    continue
                }
                let (stage, declaration) = try StageCatalogue.parameter(key, in: assignment, from: file)
                switch declaration.parse(text) {
                case .failure(let p): throw ProfileError(file: file, keyPath: key, message: p.message)
                case .success(let v):
                    var params: [String: JSONValue] = [:]
                    if case .object(let existing)? = object[stage.name] { params = existing }
                    params[declaration.name] = v.json
                    object[stage.name] = .object(params)
                }
            }
            let document = JSONValue.object(object)
            let url = URL(fileURLWithPath: file)
            let resolved = try ProfileLoader.standard.resolve(document, file: file, chain: [url.standardizedFileURL.path], directory: url.deletingLastPathComponent())
            // An edit in place goes to the file a link points to: replacing the link with a new
            // file would leave the profile it names unchanged.
            try AtomicOutput.write(Array(ProfileDocument.format(document).utf8), to: url.resolvingSymlinksInPath().path, overwrite: true)
            return resolved
        }
    }
}
