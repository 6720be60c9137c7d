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

/// `emulsion process` as ArgumentParser sees it: the options, their help and their checks. What a
/// run does is `ProcessRequest`'s; `ProcessRequest(scanning:)` reads the common command lines
/// without this type (see `EmulsionCommand.main`), and a test holds the two to the same result.
struct ProcessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process",
        abstract: "Render raw files to PNG, JPEG or TIFF.",
        discussion: """
            With no input, renders Emulsion's synthetic colour-chart raw (written beside the output as \
            emulsion-synthetic-chart.dng) so there is always something to process.
            """)

    private static let defaults = ProcessRequest()

    @Argument(help: "Raw files (any format LibRaw reads), or folders: a folder stands for the raw files directly in it (by extension; subfolders only with --recursive).")
    var inputs: [String] = []

    @Flag(name: .shortAndLong, help: "Also take the raw files in every subfolder of a folder given; outputs mirror the subfolders below the output folder.")
    var recursive = false

    @Option(name: .shortAndLong, help: "Output file (one input only; .png, .jpg or .tif picks the format; - writes to standard output).")
    var output: String?

    @Option(name: .customLong("out-dir"), help: "Folder for outputs, named after each input (created if missing; default: current folder).")
    var outputDirectory: String?

    @Option(help: "Name outputs by a template, below the output folder, without extension: {name} {ext} {folder} {subfolder} {look} {seq}, and from the raw's header {date} {time} {year} {month} {day} {hour} {minute} {second} {make} {model} {lens} {iso} {rating}, and from its XMP sidecar {label}; e.g. {year}/{date}/{name}-{look}.")
    var name: String?

    @Option(name: .customLong("min-rating"), help: "Render only raws rated at least this: 1…5 stars, or 0 for all but the rejected; the rating of an XMP sidecar (darktable's NAME.EXT.xmp, Lightroom's NAME.xmp) or the raw's own (Exif or XMP); unrated is 0.")
    var minRating: Int?

    @Option(help: "Render only raws with one of these colour labels (red, yellow, green, blue, purple; several as green,purple) in their XMP sidecar: Lightroom's xmp:Label, else darktable's colour labels.")
    var label: String?

    @Option(help: "Profile name (in Profiles/) or path to a profile file; several (a,b,c) or all: each raw is decoded once and rendered through each, into NAME-LOOK.png (or .jpg, .tif).")
    var profile: String = defaults.profile

    @Option(name: .customLong("set"), help: "Override a profile parameter: stage.parameter=value (repeatable).")
    var overrides: [String] = []

    @Option(help: "Demosaic algorithm: \(DemosaicMethod.allCases.map(\.rawValue).joined(separator: ", ")) (shortcut for --set demosaic.algorithm=…).")
    var demosaic: String?

    @Option(help: "Highlights: \(HighlightMode.allCases.map(\.rawValue).joined(separator: ", ")) (shortcut for --set highlights.mode=…).")
    var highlights: String?

    @Option(help: "White balance: as-shot, auto, daylight, cloudy, shade, tungsten, fluorescent, flash, or KELVIN[:TINT] (e.g. 5200:+8).")
    var wb: String?

    @Option(name: .customLong("wb-rect"), help: "White balance from a neutral rectangle x,y,w,h in output pixels (of the full-size output, whatever --max-size).")
    var wbRect: String?

    @Option(help: "DNG camera profile to render with instead of the file's own matrices: a .dcp, a DNG (the profile it embeds), or embedded (each input's own).")
    var dcp: String?

    @Option(help: "Render through a phone ISP's precision: a device name (Profiles/devices/, or ideal) or path.")
    var device: String?

    @Option(help: "Output colour space: \(OutputSpace.allCases.map(\.rawValue).joined(separator: ", ")).")
    var space: OutputSpace = defaults.space

    @Option(help: "Bits per sample: 8 or 16 (default: 16; 8 for JPEG).")
    var bits: Int?

    @Option(help: "Output file format: png, jpeg or tiff (see --tiff-compression); default: what -o's extension names, else png.")
    var format: ProcessRequest.FileFormat?

    @Option(name: .customLong("tiff-compression"), help: "TIFF storage: none (default, fastest) or deflate (Adobe Deflate with the horizontal predictor, about two thirds of the size).")
    var tiffCompression: TIFFFile.Compression?

    @Option(help: "JPEG quality, 1…100 (default: \(JPEGEncodingOptions.defaultQuality); full-resolution chroma from 90).")
    var quality: Int?

    @Option(help: "Kernel engine: simd or scalar.")
    var engine: Engine = defaults.engine

    @Option(name: .customLong("png-level"), help: "PNG compression: 0 stores (fastest, largest); 1 (default) is a fast Huffman-only coder; 2…9 are zlib levels (slower, ~1% smaller).")
    var pngLevel: Int?

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int = defaults.threads

    @Option(help: "Render only this rectangle x,y,w,h of the picture, in pixels of the full-size upright output (before --max-size); the colours stay those of the whole picture.")
    var crop: String?

    @Option(help: "Render the largest centred part of this shape, W:H (16:9, 1:1, 4:5, 2.39:1), turned to each picture: its long side along the picture's long side.")
    var aspect: String?

    @Option(name: .customLong("max-size"), help: "Make outputs larger than this smaller: N (the long side at most N pixels) or WxH (fit a box), averaged in linear light after a full-size render; never enlarges.")
    var maxSize: String?

    @Option(help: "Process only shard i of n (1-based), e.g. --shard 2/8, for spreading a batch over machines.")
    var shard: String?

    @Flag(help: "Replace existing outputs.")
    var overwrite = false

    @Flag(name: .customLong("skip-existing"), help: "Leave inputs whose output file already exists alone (to resume a batch); counted as skipped.")
    var skipExisting = false

    @Option(help: "Also write what happened to each output as JSON to this file: input, output, profile (and the --profile argument), status (written, failed, skipped; below-rating for a raw --min-rating left out; unread for a subfolder that could not be listed), size, seconds, error. - writes it to standard output (the summary then goes to standard error).")
    var report: String?

    @Flag(name: .customLong("strip-location"), help: "Leave the GPS location out of the outputs' metadata (the rest of the shot's Exif stays).")
    var stripLocation = false

    @Flag(name: .customLong("dry-run"), help: "Print each input's output file (after --name, --min-rating, --skip-existing, --shard) and what would fail, and render nothing.")
    var dryRun = false

    @Flag(help: "Print where each file's time went (decode, prepare, render+encode+write, sync) to standard error.")
    var timings = false

    @Option(name: .customLong("max-megapixels"), help: "Refuse raws larger than this (guards against absurd headers).")
    var maxMegapixels: Int = defaults.maxMegapixels

    @OptionGroup var decoding: DecoderOptions

    var request: ProcessRequest {
        ProcessRequest(inputs: inputs, recursive: recursive, output: output, outputDirectory: outputDirectory, name: name, minRating: minRating, label: label, profile: profile, overrides: overrides,
                       demosaic: demosaic, highlights: highlights, wb: wb, wbRect: wbRect, dcp: dcp, device: device,
                       space: space, bits: bits, format: format, quality: quality, tiffCompression: tiffCompression, engine: engine, pngLevel: pngLevel, threads: threads, shard: shard, maxSize: maxSize, crop: crop, aspect: aspect, report: report,
                       overwrite: overwrite, skipExisting: skipExisting, stripLocation: stripLocation, timings: timings, dryRun: dryRun, maxMegapixels: maxMegapixels,
                       decodeTimeout: decoding.decodeTimeout, inProcessDecoder: decoding.inProcess)
    }

    func validate() throws {
        if let problem = request.validationProblem { throw ValidationError(problem) }
    }

    func run() throws { try request.run() }
}

extension ProcessRequest.FileFormat: ExpressibleByArgument {}
extension TIFFFile.Compression: ExpressibleByArgument {}
