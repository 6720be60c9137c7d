import ArgumentParser
import Emulsion
import EmulsionCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile", abstract: "List, show, validate, compare, edit, chart and export profiles.",
        subcommands: [List.self, Show.self, Validate.self, Diff.self, New.self, Set.self, Chart.self, Export.self, Import.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Names of the shipped profiles.")
        func run() throws {
            let loader = ProfileLoader.standard
            for name in loader.availableNames() {
                let summary = (try? loader.load(name).summary) ?? "(invalid: run profile validate)"
                print("\(name.padded(toLength: 22)) \(summary)")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Every parameter of a profile, resolved, with its range.")
        @Argument var profile: String
        func run() throws {
            let p: Profile
            do { p = try ProfileLoader.standard.load(profile) } catch { complain("emulsion: \(error)"); throw ExitCode(2) }
            print("\(p.name): \(p.summary)\n  from \(p.origin)" + (p.parent.map { ", extends \($0)" } ?? ""))
            for stage in StageCatalogue.all {
                print("\(stage.name)  — \(stage.summary)")
                for param in stage.parameters {
                    let idle = p.idleness(of: stage.name, param.name).map { "; changes nothing here: \($0.reason)" } ?? ""
                    print("  \(param.name) = \(p.value(stage.name, param.name))    (\(param.allowed); default \(param.defaultValue)\(idle))")
                }
            }
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "validate", abstract: "Check profiles; exit non-zero if any is invalid.")
        @Argument(help: "Profile names or paths (default: all shipped).") var profiles: [String] = []
        func run() throws {
            let loader = ProfileLoader.standard
            let names = profiles.isEmpty ? loader.availableNames() : profiles
            var bad = 0
            for name in names {
                do {
                    let profile = try loader.load(name)
                    try LookPlan.checkFiles(profile)
                    // Valid but idle settings are warned about, not failed: the profile renders as written.
                    let idle = try loader.ownSettings(name).compactMap { path -> IdleParameter? in
                        let parts = path.split(separator: ".").map(String.init)
                        return profile.idleness(of: parts[0], parts[1])
                    }
                    for i in idle { complain("emulsion: warning: \(profile.origin): \(i.path): changes nothing: \(i.reason)") }
                    print("ok  \(name)" + (idle.isEmpty ? "" : " (\(idle.count) setting\(idle.count == 1 ? "" : "s") that change nothing)"))
                } catch { complain("emulsion: \(error)"); bad += 1 }
            }
            if bad > 0 { throw ExitCode(1) }
        }
    }
}
