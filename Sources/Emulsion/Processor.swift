import EmulsionCore
import EmulsionIO
import Foundation

/// One raw file in, one PNG out: read, render, encode, write atomically.
public enum Processor {
    public struct Result: Sendable {
        public var input: String
        public var output: String
        public var width: Int
        public var height: Int
    }

    public static func process(input: String, output: String, options: RenderOptions, overwrite: Bool,
                               pixelLimit: Int = RawFile.defaultPixelLimit, decoder: RawDecoder = .inProcess,
                               png: PNGEncodingOptions = PNGEncodingOptions()) throws -> Result {
        try refuseOverwritingInput(input: input, output: output)
        if !overwrite, FileManager.default.fileExists(atPath: output) {
            throw OutputError(path: output, problem: "already exists (use --overwrite to replace it)")
        }
        // Rendered and encoded in one streamed pass (`PNGRender`): each encoding thread renders
        // one PNG segment's rows into a small buffer and compresses them, and the segments go to
        // the file in order, so peak memory is the raw plus a band per thread, with no whole-image
        // output (docs/ARCHITECTURE.md). 90°/270° orientations render the whole image when
        // prepared (the raw is then released before encoding). Preparing builds the render plan,
        // so its errors come before the output file is created. The raw comes from `decoder`
        // (in-process LibRaw or the isolated decode worker, docs/RELIABILITY.md).
        let render = try PNGRender(try decoder.decode(path: input, pixelLimit: pixelLimit), options: options)
        var encoding = png
        encoding.threads = max(encoding.threads, options.threads)
        try AtomicOutput.write(to: output, overwrite: overwrite) { emit in
            do { try render.encode(png: encoding, to: emit) } catch let e as PNGError {
                throw OutputError(path: output, problem: "PNG encoding failed: \(e.message)")
            }
        }
        return Result(input: input, output: output, width: render.width, height: render.height)
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
