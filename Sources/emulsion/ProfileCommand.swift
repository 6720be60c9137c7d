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
                    print("  \(param.name) = \(p.value(stage.name, param.name))    (\(param.allowed); default \(param.defaultValue))")
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
                do { try LookPlan.checkFiles(try loader.load(name)); print("ok  \(name)") } catch { complain("emulsion: \(error)"); bad += 1 }
            }
            if bad > 0 { throw ExitCode(1) }
        }
    }
}
