import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch

/// What `Processor` writes: a PNG (8/16-bit, lossless, compressed), a baseline JPEG (8-bit) or
/// a TIFF (8/16-bit, uncompressed or deflated).
public enum OutputFileFormat: Sendable {
    case png(PNGEncodingOptions)
    case jpeg(JPEGEncodingOptions)
    case tiff(TIFFFile.Compression)

    /// The extension of the files `emulsion process` names after their inputs.
    public var fileExtension: String {
        switch self {
        case .png: return "png"
        case .jpeg: return "jpg"
        case .tiff: return "tif"
        }
    }
}

/// One raw file in, one image out: read, render, encode, write atomically.
public enum Processor {
    public struct Result: Sendable {
        public var input: String
        public var output: String
        public var width: Int
        public var height: Int
        /// Where the time went (`emulsion process --timings`, `emulsion bench`).
        public var phases: Phases = Phases()
    }

    /// Wall seconds of each phase of one file. `renderAndEncode` includes writing the bytes to
    /// the temporary file (the render, the PNG encoding and the writes overlap); `sync` is the
    /// closing fsync that makes the output durable before it takes its name.
    public struct Phases: Sendable, CustomStringConvertible {
        public var decode: Double = 0
        public var prepare: Double = 0
        public var renderAndEncode: Double = 0
        public var sync: Double = 0
        public var total: Double { decode + prepare + renderAndEncode + sync }

        public var description: String {
            CFormat.string("decode %.3f s, prepare %.3f s, render+encode+write %.3f s, sync %.3f s, total %.3f s",
                   decode, prepare, renderAndEncode, sync, total)
        }
    }

    public static func process(input: String, output: String, options: RenderOptions, overwrite: Bool,
                               pixelLimit: Int = RawFile.defaultPixelLimit, decoder: RawDecoder = .inProcess,
                               format: OutputFileFormat = .png(PNGEncodingOptions()), fit: OutputFit? = nil) throws -> Result {
        try checkOutput(input: input, output: output, overwrite: overwrite)
        let decoded = try decode(input, decoder: decoder, pixelLimit: pixelLimit)
        return try render(decoded.raw, input: input, output: output, options: options, overwrite: overwrite, format: format, fit: fit,
                          decodeSeconds: decoded.seconds)
    }

    /// `input` decoded by `decoder`, its rating an XMP sidecar's where one gives it and its colour
    /// labels the sidecar's, with the wall seconds it took.
    public static func decode(_ input: String, decoder: RawDecoder, pixelLimit: Int) throws -> (raw: RawImage, seconds: Double) {
        var clock = DispatchTime.now()
        var raw = try decoder.decode(path: input, pixelLimit: pixelLimit)
        // The rating an XMP sidecar gives replaces the raw's own, as `--min-rating` reads it, and
        // its labels are the shot's, so that outputs carry them (as XMP: `OutputMetadata`,
        // `JPEGRender`, `TIFFFile`). A sidecar that cannot be read leaves the raw's own rating and
        // no labels: a run that selects by rating or label has failed that file before its
        // decode (`Batch.plan`).
        // (A second sidecar that cannot be read, reached while looking for labels, must not
        // cost the rating the first one gave.)
        if let sidecar = (try? XMPRating.sidecarTags(of: input)) ?? (try? XMPRating.sidecarTags(of: input, labels: false)) {
            if let rating = sidecar.rating { raw.metadata.rating = rating.value }
            raw.metadata.labels = sidecar.labels?.value ?? []
        }
        return (raw, seconds(since: &clock))
    }

    /// The checks of an output made before its input is decoded: not the input itself, and
    /// nothing in the way that `overwrite` does not allow replacing.
    public static func checkOutput(input: String, output: String, overwrite: Bool) throws {
        if output == StandardOutput.name { return }
        try refuseOverwritingInput(input: input, output: output)
        if let problem = AtomicOutput.problem(replacing: output, overwrite: overwrite) { throw problem }
    }

    /// Renders a decoded raw into `output` (checked by `checkOutput` first): `process` after
    /// its decode, and each further look of one raw in a batch (`Batch.run`), which decodes once.
    /// `decodeSeconds` is the decode's wall time (0 for a raw reused), reported in the phases.
    public static func render(_ raw: RawImage, input: String, output: String, options: RenderOptions, overwrite: Bool,
                              format: OutputFileFormat = .png(PNGEncodingOptions()), fit: OutputFit? = nil,
                              decodeSeconds: Double = 0) throws -> Result {
        // Rendered and encoded in one streamed pass (`PNGRender`, `JPEGRender` or `TIFFRender`):
        // encoding threads render the rows they compress into small buffers, and the
        // file's bytes go out in order, so peak memory is the raw plus a band per thread, with no
        // whole-image output (docs/ARCHITECTURE.md); a raw stored on its side is transposed when
        // prepared. Preparing builds the render plan, so its errors come before the output file
        // is created. The raw comes from a `RawDecoder` (in-process LibRaw or the isolated decode
        // worker, docs/RELIABILITY.md).
        var phases = Phases()
        var clock = DispatchTime.now()
        phases.decode = decodeSeconds
        var options = options
        if options.embeddedCameraProfile { options.cameraProfile = try DCPFile.readEmbedded(in: input) }
        let size: (width: Int, height: Int)
        // What writes the file: its bytes in order to `emit`, and (a deflated TIFF's strip table)
        // bytes over earlier ones to `patch`, which a pipe cannot take (nil there).
        typealias Emit = (UnsafeRawBufferPointer) throws -> Void
        typealias Patch = (_ offset: Int, _ bytes: [UInt8]) throws -> Void
        let encode: (_ emit: Emit, _ patch: Patch?) throws -> Void
        switch format {
        case .jpeg(let jpeg):
            let render = try JPEGRender(raw, options: options, metadata: true, fit: fit)
            size = (render.width, render.height)
            encode = { emit, _ in
                do { try render.encode(jpeg: jpeg, threads: options.threads, to: emit) } catch let e as JPEGError {
                    throw OutputError(path: output, problem: e.message)
                }
            }
        case .tiff(let compression):
            let render = try TIFFRender(raw, options: options, fit: fit, compression: compression)
            size = (render.width, render.height)
            encode = { emit, patch in try render.encode(threads: options.threads, to: emit, patch: patch) }
        case .png(let png):
            let render = try PNGRender(raw, options: options, metadata: true, fit: fit)
            size = (render.width, render.height)
            var encoding = png
            encoding.threads = max(encoding.threads, options.threads)
            encode = { emit, _ in
                do { try render.encode(png: encoding, to: emit) } catch let e as PNGError {
                    throw OutputError(path: output, problem: "PNG encoding failed: \(e.message)")
                }
            }
        }
        phases.prepare = seconds(since: &clock)
        let sync = AtomicOutput.SyncTime()
        if output == StandardOutput.name {
            try StandardOutput.write { emit in try encode(emit, nil) }
        } else {
            try AtomicOutput.write(to: output, overwrite: overwrite, syncTime: sync) { emit, patch in
                try withoutActuallyEscaping(patch) { try encode(emit, $0) }
            }
        }
        phases.sync = sync.seconds
        phases.renderAndEncode = seconds(since: &clock) - sync.seconds
        return Result(input: input, output: output, width: size.width, height: size.height, phases: phases)
    }

    /// Wall seconds since `clock`, which moves to now.
    private static func seconds(since clock: inout DispatchTime) -> Double {
        let now = DispatchTime.now()
        defer { clock = now }
        return Double(now.uptimeNanoseconds - clock.uptimeNanoseconds) / 1e9
    }

    /// An output that is the input (same file through any path or link) would destroy the raw.
    static func refuseOverwritingInput(input: String, output: String) throws {
        let a = URL(fileURLWithPath: input).resolvingSymlinksInPath().standardizedFileURL.path
        let b = URL(fileURLWithPath: output).resolvingSymlinksInPath().standardizedFileURL.path
        if a == b { throw OutputError(path: output, problem: "is the input file; refusing to overwrite it") }
    }
}

extension RenderedImage {
    public var pngImage: PNGImage {
        PNGImage(width: width, height: height, bitDepth: depth.rawValue, channels: 3, samples: samples, iccProfile: iccProfile)
    }
}
