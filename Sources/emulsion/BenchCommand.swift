import ArgumentParser
import Emulsion
import EmulsionCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Print speed and memory figures: per stage, per engine, per thread count, end to end, against peers.",
        discussion: """
            Measures the given raws and synthetic raws the project makes (written as uncompressed DNGs, \
            so LibRaw decodes them like camera files, and a phone-style capture in lossless JPEG tiles \
            with GainMap lens shading). Use a release build (swift build -c release \
            --static-swift-stdlib, as the README builds it). \
            Prints figures only; it asserts nothing. See docs/PERFORMANCE.md.
            """)

    @Argument(help: "Raw files to measure (besides the synthetic ones).")
    var inputs: [String] = []

    @Option(name: .customLong("synthetic"), help: "Synthetic raw sizes in megapixels, comma-separated (empty for none).")
    var synthetic: String = "24,50"

    @Option(name: .customLong("synthetic-phone"), help: "Synthetic phone capture sizes in megapixels, 4:3, stored as a phone stores them (LJ92 tiles, gain maps), comma-separated (empty for none).")
    var syntheticPhone: String = "12"

    @Option(help: "Runs per figure (the minimum is reported).")
    var repeats: Int = 3

    @Option(name: .customLong("end-to-end-repeats"), help: "Rounds of end-to-end runs: each program (ours and each peer) runs once per round, in a new random order; the fastest run counts.")
    var endToEndRepeats: Int = 3

    @Flag(name: .customLong("no-peers"), help: "Skip dcraw_emu, darktable-cli and rawtherapee-cli.")
    var noPeers = false

    @Option(name: .customLong("keep-synthetic"), help: "Write the synthetic raws to this folder and keep them (reused when present).")
    var keepSynthetic: String?

    @Flag(name: .customLong("end-to-end-only"), help: "Only the end-to-end runs, ours and the peers'.")
    var endToEndOnly = false

    @Option(name: .customLong("looks"), help: "Profiles whose look stages to measure stage by stage, comma-separated (default: every shipped profile; empty for none).")
    var looks: String?

    /// Megapixel counts from a comma-separated list; nil unless every entry is a whole number in
    /// 1…400 (0 MP or an absurd size trapped while the raw was made).
    static func megapixels(_ list: String) -> [Int]? {
        let values = list.split(separator: ",").map { Int($0.trimmingWhitespace()) }
        guard values.allSatisfy({ $0.map { (1...400).contains($0) } ?? false }) else { return nil }
        return values.map { $0! }
    }

    func validate() throws {
        for (name, list) in [("--synthetic", synthetic), ("--synthetic-phone", syntheticPhone)] where Self.megapixels(list) == nil {
            throw ValidationError("\(name): expected megapixel counts 1…400, comma-separated, got \"\(list)\"")
        }
    }

    func run() throws {
        var options = Benchmark.Options()
        options.inputs = inputs
        options.syntheticMegapixels = Self.megapixels(synthetic) ?? []
        options.syntheticPhoneMegapixels = Self.megapixels(syntheticPhone) ?? []
        options.repeats = max(1, repeats)
        options.endToEndRepeats = max(1, endToEndRepeats)
        options.peers = !noPeers
        options.syntheticDirectory = keepSynthetic
        options.endToEndOnly = endToEndOnly
        let loader = ProfileLoader.standard
        let names = looks.map { $0.split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty } }
            ?? loader.availableNames()
        options.looks = try names.map { name in
            do { return try loader.load(name) } catch { throw ValidationError("--looks: \(error)") }
        }
        try Benchmark(options: options).run()
    }
}
