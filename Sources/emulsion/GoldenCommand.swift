import ArgumentParser
import Emulsion
import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// `emulsion golden check|report|record`: golden-image regression tests (docs/GOLDEN.md).
struct GoldenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "golden",
        abstract: "Golden-image regression tests: compare renders with approved images in CIEDE2000.",
        discussion: """
            A suite is a folder with a golden.json manifest and one folder per case holding its approved.png. \
            check and report never change approved images; record does, and says what it changed. \
            Exit codes of check and report: 0 every case identical or within tolerance, 1 a case failed, \
            2 the suite could not fully run (missing input or approved image, unreadable file, bad manifest).
            """,
        subcommands: [Check.self, Report.self, Record.self])

    struct Options: ParsableArguments {
        @Argument(help: "Suite folder (holding golden.json).")
        var suite: String

        @Option(name: .customLong("case"), help: "Only cases whose name matches (shell wildcards; repeatable).")
        var cases: [String] = []

        @Option(help: "Worker threads (default: all cores); cases render in parallel.")
        var threads: Int = Executor.defaultThreads

        func validate() throws {
            guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        }

        func load() throws -> (GoldenSuite, [GoldenCase]) {
            do {
                let suite = try GoldenSuite.load(self.suite)
                return (suite, try suite.select(cases))
            } catch {
                complain("emulsion: \(error)")
                throw ExitCode(2)
            }
        }
    }

    struct CheckOptions: ParsableArguments {
        @Option(name: .customLong("out"), help: "Folder for NAME/actual.png and NAME/heatmap.png on a difference (default: beside each approved image).")
        var outputDirectory: String?

        @Option(name: .customLong("junit"), help: "Also write JUnit XML to this file.")
        var junit: String?

        @Option(name: .customLong("set"), help: "What-if: override a parameter in every case, stage.parameter=value (repeatable).")
        var overrides: [String] = []

        @Option(name: .customLong("preview-size"), help: "Longest side of the images embedded in an HTML report.")
        var previewSize: Int = 480

        func validate() throws {
            guard previewSize >= 16 else { throw ValidationError("--preview-size must be at least 16") }
            // Checked before any case renders: otherwise every differing case noted the failure.
            var isFolder = false
            if let outputDirectory, FileManager.default.fileExists(atPath: outputDirectory, isDirectory: &isFolder), !isFolder {
                throw ValidationError("--out \(outputDirectory): exists and is not a folder")
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Render every case and compare it with its approved image (never records).")
        @OptionGroup var options: Options
        @OptionGroup var check: CheckOptions

        @Option(name: .customLong("html"), help: "Also write the HTML report to this file.")
        var html: String?

        func run() throws {
            let code = try GoldenCommand.runCheck(options, check, html: html)
            if code != 0 { throw ExitCode(code) }
        }
    }

    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Check the suite and write a self-contained HTML report (worst cases first).")
        @OptionGroup var options: Options
        @OptionGroup var check: CheckOptions

        @Option(name: .shortAndLong, help: "The HTML file to write.")
        var output: String

        func run() throws {
            let code = try GoldenCommand.runCheck(options, check, html: output)
            if code != 0 { throw ExitCode(code) }
        }
    }

    struct Record: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "record",
            abstract: "Render cases and make the renders their approved images; reports every change.",
            discussion: "Cases whose render equals the approved image are left untouched, so re-recording a whole suite only rewrites what changed.")
        @OptionGroup var options: Options

        func run() throws {
            let (suite, cases) = try options.load()
            Interrupts.install()
            let runner = GoldenRunner(renderer: GoldenRenderer(suite: suite), threads: options.threads)
            let terminal = isatty(STDERR_FILENO) == 1
            let outcomes = runner.record(cases) { done, total, outcome in
                if terminal { writeToStandardError("\r\u{1B}[K[\(done)/\(total)] \(outcome.goldenCase.name)") }
            }
            if terminal { writeToStandardError("\r\u{1B}[K") }
            var new = 0, changed = 0, unchanged = 0, failed = 0
            let width = min(40, cases.map(\.name.count).max() ?? 0)
            for o in outcomes {
                let name = o.goldenCase.name.padded(toLength: max(width, o.goldenCase.name.count))
                let size = o.size.map { "\($0.width)×\($0.height)" } ?? ""
                switch o.change {
                case .new:
                    new += 1
                    print("NEW        \(name)  recorded \(size) \(o.goldenCase.depth.rawValue)-bit \(o.goldenCase.space.rawValue) → \(o.approvedPath)")
                case .changed(let how):
                    changed += 1
                    print("CHANGED    \(name)  re-approved \(size): \(how) → \(o.approvedPath)")
                case .unchanged:
                    unchanged += 1
                    print("unchanged  \(name)  same pixels as the approved image; file not touched")
                case .failed(let why):
                    failed += 1
                    print("FAILED     \(name)  not recorded: \(why)")
                    complain("emulsion: \(o.goldenCase.name): \(why)")
                }
            }
            let written = new + changed
            for orphan in suite.orphanedApprovedImages {
                print("note: " + GoldenSuite.orphanNote(orphan))
            }
            print("RECORDED \(written) approved image\(written == 1 ? "" : "s") in \(suite.directory.path): "
                + "\(new) new, \(changed) changed, \(unchanged) unchanged, \(failed) failed."
                + (written > 0 ? " Review them (git diff --stat; emulsion golden report) before committing." : ""))
            if failed > 0 { throw ExitCode(2) }
        }
    }

    static func runCheck(_ options: Options, _ check: CheckOptions, html: String?) throws -> Int32 {
        let (suite, cases) = try options.load()
        // Overrides are checked before anything renders, so a typo is one error, not one per case.
        do { _ = try Profile.defaults.applying(overrides: check.overrides) } catch {
            complain("emulsion: \(error)")
            throw ExitCode(2)
        }
        let renderer = GoldenRenderer(suite: suite, extraOverrides: check.overrides)
        let runner = GoldenRunner(renderer: renderer, threads: options.threads,
                                  outputDirectory: check.outputDirectory.map { URL(fileURLWithPath: $0) },
                                  previewSize: html == nil ? nil : check.previewSize)
        let terminal = isatty(STDERR_FILENO) == 1
        let report = runner.check(cases) { done, total, result in
            if terminal { writeToStandardError("\r\u{1B}[K[\(done)/\(total)] \(result.goldenCase.name)") }
        }
        if terminal { writeToStandardError("\r\u{1B}[K") }

        if !check.overrides.isEmpty { print("what-if: every case rendered with --set \(check.overrides.joined(separator: " --set "))") }
        let width = min(40, cases.map(\.name.count).max() ?? 0)
        for r in report.results {
            let name = r.goldenCase.name.padded(toLength: max(width, r.goldenCase.name.count))
            print("\(r.verdict.tag.padded(toLength: 11)) \(name)  \(r.message)")
            for n in r.notes { print("            note: \(n)") }
            if let a = r.actualPath { print("            actual: \(a)" + (r.heatMapPath.map { "  heat map: \($0)" } ?? "")) }
        }
        var outputsOK = true
        func write(_ text: String, to path: String, what: String) {
            do {
                try AtomicOutput.write(Array(text.utf8), to: path, overwrite: true)
                print("\(what): \(path)")
            } catch {
                complain("emulsion: \(error)")
                outputsOK = false
            }
        }
        if let junit = check.junit { write(GoldenJUnitReport.xml(report), to: junit, what: "JUnit XML") }
        if let html { write(GoldenHTMLReport.html(report), to: html, what: "HTML report") }
        for note in report.orphanNotes { print("note: \(note)") }
        print("\(suite.name): \(report.summary) (\(CFormat.string("%.1f", report.seconds)) s)")
        return outputsOK ? report.exitCode : max(report.exitCode, 2)
    }
}
