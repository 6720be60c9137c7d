import ArgumentParser
import Emulsion
import EmulsionCore
import EmulsionIO
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct ProcessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process",
        abstract: "Render raw files to PNG.",
        discussion: """
            With no input, renders Emulsion's synthetic colour-chart raw (written beside the output as \
            emulsion-synthetic-chart.dng) so there is always something to process.
            """)

    @Argument(help: "Raw files (any format LibRaw reads).")
    var inputs: [String] = []

    @Option(name: .shortAndLong, help: "Output PNG (one input only).")
    var output: String?

    @Option(name: .customLong("out-dir"), help: "Folder for outputs, named after each input (created if missing; default: current folder).")
    var outputDirectory: String?

    @Option(help: "Profile name (in Profiles/) or path to a profile file.")
    var profile: String = "neutral"

    @Option(name: .customLong("set"), help: "Override a profile parameter: stage.parameter=value (repeatable).")
    var overrides: [String] = []

    @Option(help: "Demosaic algorithm: \(DemosaicMethod.allCases.map(\.rawValue).joined(separator: ", ")) (shortcut for --set demosaic.algorithm=…).")
    var demosaic: String?

    @Option(help: "Highlights: \(HighlightMode.allCases.map(\.rawValue).joined(separator: ", ")) (shortcut for --set highlights.mode=…).")
    var highlights: String?

    @Option(help: "White balance: as-shot, auto, daylight, cloudy, shade, tungsten, fluorescent, flash, or KELVIN[:TINT] (e.g. 5200:+8).")
    var wb: String?

    @Option(name: .customLong("wb-rect"), help: "White balance from a neutral rectangle x,y,w,h in output pixels.")
    var wbRect: String?

    @Option(help: "DNG camera profile (.dcp) to render with instead of the file's own matrices.")
    var dcp: String?

    @Option(help: "Render through a phone ISP's precision: a device name (Profiles/devices/, or ideal) or path.")
    var device: String?

    @Option(help: "Output colour space: \(OutputSpace.allCases.map(\.rawValue).joined(separator: ", ")).")
    var space: OutputSpace = .sRGB

    @Option(help: "Bits per sample: 8 or 16.")
    var bits: Int = 16

    @Option(help: "Kernel engine: simd or scalar.")
    var engine: Engine = .simd

    @Option(name: .customLong("png-level"), help: "PNG compression: 0 stores (fastest, largest); 1 (default) is a fast Huffman-only coder; 2…9 are zlib levels (slower, ~1% smaller).")
    var pngLevel: Int = PNGEncodingOptions.default.compressionLevel

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int = Executor.defaultThreads

    @Option(help: "Process only shard i of n (1-based), e.g. --shard 2/8, for spreading a batch over machines.")
    var shard: String?

    @Flag(help: "Replace existing outputs.")
    var overwrite = false

    @Flag(help: "Print where each file's time went (decode, prepare, render+encode+write, sync) to standard error.")
    var timings = false

    @Option(name: .customLong("max-megapixels"), help: "Refuse raws larger than this (guards against absurd headers).")
    var maxMegapixels: Int = RawFile.defaultPixelLimit / 1_000_000

    @OptionGroup var decoding: DecoderOptions

    func validate() throws {
        guard bits == 8 || bits == 16 else { throw ValidationError("--bits must be 8 or 16") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard (0...9).contains(pngLevel) else { throw ValidationError("--png-level must be 0…9") }
        guard maxMegapixels >= 1 else { throw ValidationError("--max-megapixels must be at least 1") }
        if output != nil && outputDirectory != nil { throw ValidationError("use either -o or --out-dir, not both") }
    }

    /// The shortcut options as `--set` assignments (validated by the profile like any other).
    func shortcutOverrides() throws -> [String] {
        var out: [String] = []
        if let demosaic { out.append("demosaic.algorithm=\(demosaic)") }
        if let highlights { out.append("highlights.mode=\(highlights)") }
        if let wb {
            let parts = wb.split(separator: ":", maxSplits: 1).map(String.init)
            if let kelvin = Double(parts[0]) {
                out += ["whiteBalance.mode=kelvin", "whiteBalance.temperature=\(kelvin)"]
                if parts.count == 2 {
                    guard let tint = Double(parts[1].hasPrefix("+") ? String(parts[1].dropFirst()) : parts[1]) else {
                        throw ProfileError(file: "--wb", keyPath: "", message: "expected KELVIN[:TINT], got \"\(wb)\"")
                    }
                    out.append("whiteBalance.tint=\(tint)")
                }
            } else {
                out.append("whiteBalance.mode=\(wb)")
            }
        }
        if let wbRect {
            let v = wbRect.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard v.count == 4, v.allSatisfy({ $0 >= 0 }), v[2] > 0, v[3] > 0 else {
                throw ProfileError(file: "--wb-rect", keyPath: "", message: "expected x,y,w,h (non-negative integers), got \"\(wbRect)\"")
            }
            out += ["whiteBalance.mode=spot", "whiteBalance.spotX=\(v[0])", "whiteBalance.spotY=\(v[1])",
                    "whiteBalance.spotWidth=\(v[2])", "whiteBalance.spotHeight=\(v[3])"]
        }
        return out
    }

    func run() throws {
        let loaded: Profile
        do {
            loaded = try ProfileLoader.standard.load(profile).applying(overrides: overrides + shortcutOverrides())
            try LookPlan.checkFiles(loaded)
        } catch {
            complain("emulsion: \(error)")
            throw ExitCode(2)
        }
        var cameraProfile: CameraProfile?
        if let dcp {
            do { cameraProfile = try DCPFile.read(path: dcp) } catch {
                complain("emulsion: \(error)")
                throw ExitCode(2)
            }
        }
        var options = RenderOptions(profile: loaded, space: space, depth: bits == 8 ? .eight : .sixteen,
                                    engine: engine, threads: threads, cameraProfile: cameraProfile)
        if let device {
            do { options.device = try DeviceLoader.standard.load(device) } catch {
                complain("emulsion: \(error)")
                throw ExitCode(2)
            }
        }
        if let outputDirectory, !FileManager.default.fileExists(atPath: outputDirectory) {
            do { try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true) } catch {
                complain("emulsion: \(outputDirectory): cannot create the output folder: \(error.localizedDescription)")
                throw ExitCode(2)
            }
        }
        var inputs = self.inputs
        if inputs.isEmpty {
            do {
                inputs = [try DefaultInput.write(into: outputDirectory ?? (output.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path } ?? "."))]
            } catch {
                complain("emulsion: cannot create the default input: \(error)")
                throw ExitCode(2)
            }
        }
        let items: [Batch.Item]
        do {
            items = try Batch.plan(inputs: inputs, output: output, outputDirectory: outputDirectory,
                                   shard: try shard.map { try Shard(parsing: $0) })
        } catch {
            complain("emulsion: \(error)")
            throw ExitCode(2)
        }
        Interrupts.install()
        let terminal = isatty(STDERR_FILENO) == 1
        let started = Date()
        let outcomes = Batch.run(items, options: options, overwrite: overwrite, pixelLimit: maxMegapixels * 1_000_000,
                                 decoder: decoding.decoder, concurrency: threads,
                                 png: PNGEncodingOptions(compressionLevel: pngLevel)) { done, total, outcome in
            if case .failed(_, let message) = outcome {
                if terminal { writeToStandardError("\r\u{1B}[K") }
                complain("emulsion: \(message)")
            }
            if timings, case .written(let r) = outcome {
                if terminal { writeToStandardError("\r\u{1B}[K") }
                complain("emulsion: \(r.input): \(r.phases)")
            }
            if terminal {
                let name: String
                switch outcome {
                case .written(let r): name = URL(fileURLWithPath: r.output).lastPathComponent
                case .failed(let input, _): name = URL(fileURLWithPath: input).lastPathComponent
                }
                writeToStandardError("\r\u{1B}[K[\(done)/\(total)] \(name)")
            }
        }
        if terminal { writeToStandardError("\r\u{1B}[K") }
        let failed = outcomes.filter { if case .failed = $0 { return true } else { return false } }.count
        let written = outcomes.count - failed
        let seconds = Date().timeIntervalSince(started)
        if outcomes.count == 1, case .written(let r) = outcomes[0] {
            print("\(r.output): \(r.width)×\(r.height), \(bits)-bit \(space.rawValue), profile \(loaded.name)")
        } else {
            print("\(written) written, \(failed) failed, \(String(format: "%.1f", seconds)) s" + (shard.map { " (shard \($0))" } ?? ""))
        }
        if failed > 0 { throw ExitCode(1) }
    }
}

/// SIGINT/SIGTERM: remove temporaries in flight, then exit, so an interrupted batch leaves only
/// complete outputs. The work happens on a dispatch queue, not inside a signal handler, so taking
/// locks and unlinking files is safe. SIGXFSZ is ignored so a file-size limit (or a full quota)
/// surfaces as a write error (EFBIG) on the one file instead of killing the batch.
enum Interrupts {
    nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []

    static func install() {
        signal(SIGXFSZ, SIG_IGN)
        for s in [SIGINT, SIGTERM] {
            signal(s, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: s, queue: .global())
            source.setEventHandler {
                AtomicOutput.InFlight.shared.removeAllBeforeExit()
                complain("emulsion: interrupted; temporary files removed")
                exit(128 + s)
            }
            source.resume()
            sources.append(source)
        }
    }
}
