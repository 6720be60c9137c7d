import EmulsionCore
import EmulsionIO

/// `emulsion process`'s arguments read without ArgumentParser, for the command lines a batch
/// script writes: inputs, known options with their values (`--name value` or `--name=value`),
/// flags.
///
/// Why: ArgumentParser finds a command's options by reflection, and each type it asks about
/// costs the Swift runtime a scan of the static binary's protocol-conformance records (~6 000
/// when this was measured, ~4 200 since the product stopped linking all of Foundation).
/// Parsing `process` that way took ~17 M instructions (callgrind), more than rendering the
/// 0.2 MP Pixel crop; the scanner takes 0.4 M (docs/PERFORMANCE.md, run v19).
///
/// Correctness rests on declining: anything this reader is not certain ArgumentParser reads the
/// same way gives nil, and `EmulsionCommand.main` hands the line to ArgumentParser, whose
/// messages, help and checks are then the only ones a user sees. Declined: help, unknown or
/// combined short options, `--`, a value that is missing, empty or starts with `-`, a value that
/// does not convert, a single-valued option or a flag given twice, a positional `help`, and
/// values that fail `validationProblem`. `ProcessArgumentScannerTests` holds every line this
/// reader accepts to ArgumentParser's result, and its table to `ProcessCommand`'s options.
extension ProcessRequest {
    init?(scanning arguments: [String]) {
        var request = ProcessRequest()
        var given = Set<String>()
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            guard argument.hasPrefix("-") else {
                if argument == "help" { return nil }
                request.inputs.append(argument)
                continue
            }
            var name = Substring(argument), attached: Substring?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = argument[..<equals]
                attached = argument[argument.index(after: equals)...]
            }
            guard let option = Self.scannedOptions[String(name)] else { return nil }
            guard option.repeatable || given.insert(option.key).inserted else { return nil }
            switch option.reading {
            case .flag(let set):
                guard attached == nil else { return nil }
                set(&request)
            case .value(let set):
                let value: String
                if let attached {
                    value = String(attached)
                } else {
                    guard let next = rest.popFirst() else { return nil }
                    value = next
                }
                guard !value.isEmpty, !value.hasPrefix("-"), set(&request, value) else { return nil }
            }
        }
        guard request.validationProblem == nil else { return nil }
        self = request
    }

    struct ScannedOption {
        enum Reading {
            case flag((inout ProcessRequest) -> Void)
            /// Stores the value; false where it does not convert.
            case value((inout ProcessRequest, String) -> Bool)
        }
        /// One key per option, whatever name it was given by (`-o` and `--output`).
        let key: String
        let repeatable: Bool
        let reading: Reading
    }

    /// Every name `ProcessCommand` declares but `--help`/`-h`, read as ArgumentParser reads its type.
    static let scannedOptions: [String: ScannedOption] = {
        /// A single-valued option whose value `convert` turns into what `set` stores (nil: the
        /// value does not convert, as ArgumentParser's `init?(argument:)` would refuse it).
        func value<T>(_ key: String, _ convert: @escaping (String) -> T?, _ set: @escaping (inout ProcessRequest, T) -> Void) -> ScannedOption {
            ScannedOption(key: key, repeatable: false, reading: .value { request, text in
                guard let v = convert(text) else { return false }
                set(&request, v)
                return true
            })
        }
        func text(_ key: String, _ set: @escaping (inout ProcessRequest, String) -> Void) -> ScannedOption { value(key, { $0 }, set) }
        func integer(_ key: String, _ set: @escaping (inout ProcessRequest, Int) -> Void) -> ScannedOption { value(key, { Int($0) }, set) }
        func flag(_ key: String, _ set: @escaping (inout ProcessRequest) -> Void) -> ScannedOption {
            ScannedOption(key: key, repeatable: false, reading: .flag(set))
        }
        let output = text("output") { $0.output = $1 }
        let recursive = flag("recursive") { $0.recursive = true }
        return [
            "-o": output, "--output": output,
            "-r": recursive, "--recursive": recursive,
            "--out-dir": text("out-dir") { $0.outputDirectory = $1 },
            "--name": text("name") { $0.name = $1 },
            "--min-rating": integer("min-rating") { $0.minRating = $1 },
            "--label": text("label") { $0.label = $1 },
            "--profile": text("profile") { $0.profile = $1 },
            "--set": ScannedOption(key: "set", repeatable: true, reading: .value { $0.overrides.append($1); return true }),
            "--demosaic": text("demosaic") { $0.demosaic = $1 },
            "--highlights": text("highlights") { $0.highlights = $1 },
            "--wb": text("wb") { $0.wb = $1 },
            "--wb-rect": text("wb-rect") { $0.wbRect = $1 },
            "--dcp": text("dcp") { $0.dcp = $1 },
            "--device": text("device") { $0.device = $1 },
            "--space": value("space", { OutputSpace(rawValue: $0) }) { $0.space = $1 },
            "--bits": integer("bits") { $0.bits = $1 },
            "--format": value("format", { FileFormat(rawValue: $0) }) { $0.format = $1 },
            "--quality": integer("quality") { $0.quality = $1 },
            "--tiff-compression": value("tiff-compression", { TIFFFile.Compression(rawValue: $0) }) { $0.tiffCompression = $1 },
            "--engine": value("engine", { Engine(rawValue: $0) }) { $0.engine = $1 },
            "--png-level": integer("png-level") { $0.pngLevel = $1 },
            "--threads": integer("threads") { $0.threads = $1 },
            "--shard": text("shard") { $0.shard = $1 },
            "--max-size": text("max-size") { $0.maxSize = $1 },
            "--crop": text("crop") { $0.crop = $1 },
            "--aspect": text("aspect") { $0.aspect = $1 },
            "--report": text("report") { $0.report = $1 },
            "--overwrite": flag("overwrite") { $0.overwrite = true },
            "--skip-existing": flag("skip-existing") { $0.skipExisting = true },
            "--strip-location": flag("strip-location") { $0.stripLocation = true },
            "--timings": flag("timings") { $0.timings = true },
            "--dry-run": flag("dry-run") { $0.dryRun = true },
            "--max-megapixels": integer("max-megapixels") { $0.maxMegapixels = $1 },
            "--decode-timeout": value("decode-timeout", { Double($0) }) { $0.decodeTimeout = $1 },
            "--in-process-decoder": flag("in-process-decoder") { $0.inProcessDecoder = true },
        ]
    }()
}
