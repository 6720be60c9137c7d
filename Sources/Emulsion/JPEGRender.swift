import Dispatch
import EmulsionCore
import EmulsionIO

/// A raw prepared to be rendered straight into a JPEG (`emulsion process --format jpeg`): rows are
/// rendered band by band and compressed as they come, with no whole-image buffer, as `PNGRender`
/// does for PNG.
///
/// Why two workers: JPEG compression is one sequential stream (libjpeg, on the calling thread),
/// so the next band is rendered on another thread while the current one is compressed; with one
/// thread they alternate. The bands are those `StreamedRows` gives any encoder, so a JPEG and a
/// PNG of the same options hold the same 8-bit pixels before compression (a test decodes one and
/// compares). The file carries the ICC profile, the shot's Exif and the recipe as its comment
/// (`OutputMetadata`).
public struct JPEGRender {
    public let width: Int
    public let height: Int
    private let rows: StreamedRows
    private let iccProfile: [UInt8]
    private let exif: [UInt8]?
    private let xmp: [UInt8]?
    private let comment: [UInt8]?

    /// `options.depth` must be `.eight`: a baseline JPEG holds 8 bits per sample.
    public init(_ raw: RawImage, options: RenderOptions, metadata: Bool = false, fit: OutputFit? = nil) throws {
        guard options.depth == .eight else { throw RenderError("a JPEG holds 8 bits per sample; render with --bits 8") }
        rows = try StreamedRows(plan: try RenderPlan(raw: raw, options: options), options: options, fit: fit)
        (width, height) = (rows.width, rows.height)
        iccProfile = try options.space.iccProfile()
        exif = metadata ? OutputMetadata.exif(raw.metadata, options: options, width: rows.width, height: rows.height, container: .jpeg) : nil
        xmp = metadata ? XMPRating.packet(rating: raw.metadata.rating, labels: raw.metadata.labels) : nil
        let recipe = Array(OutputMetadata.recipe(options).utf8)
        // A COM marker holds 65 533 bytes; a recipe is a few hundred (left out, never cut, if ever longer).
        comment = metadata && recipe.count <= 65_533 ? recipe : nil
    }

    /// Renders and compresses, handing the file's bytes to `output` in order; an error thrown by
    /// `output` stops both and is rethrown. `threads` above 1 render the next band meanwhile.
    public func encode(jpeg: JPEGEncodingOptions, threads: Int, to output: (UnsafeRawBufferPointer) throws -> Void) throws {
        let band = JPEGFile.bandRows
        // Band k is rendered into worker k mod 2's buffer: the other one holds band k − 1 until
        // libjpeg has read it, which it has when band k is asked for.
        let workers = threads > 1 ? [rows.makeWorker(rows: band), rows.makeWorker(rows: band)] : [rows.makeWorker(rows: band)]
        let ahead = BandAhead()
        defer { ahead.wait() }
        try JPEGFile.encode(width: width, height: height, options: jpeg, iccProfile: iccProfile, exif: exif, xmp: xmp, comment: comment,
                            rows: { range in
            let k = range.lowerBound / band
            let pointer = ahead.take(range) ?? workers[k % workers.count](range)
            let following = range.upperBound..<min(height, range.upperBound + band)
            if workers.count > 1, !following.isEmpty {
                let worker = workers[(k + 1) % 2]
                ahead.start(following) { worker(following) }
            }
            return pointer
        }, to: output)
    }
}

/// One band rendered on another thread while the calling thread compresses.
private final class BandAhead: @unchecked Sendable {
    private var range: Range<Int>?
    private var pointer: UnsafePointer<UInt16>?
    private var done: DispatchSemaphore?

    func start(_ range: Range<Int>, _ render: @escaping () -> UnsafePointer<UInt16>) {
        let done = DispatchSemaphore(value: 0)
        self.range = range
        self.done = done
        DispatchQueue.global(qos: .userInitiated).async {
            let p = render()
            self.pointer = p
            done.signal()
        }
    }

    /// The band started for `range`, once rendered; nil if none was.
    func take(_ range: Range<Int>) -> UnsafePointer<UInt16>? {
        guard self.range == range, let done else { return nil }
        done.wait()
        defer { self.range = nil; self.done = nil; pointer = nil }
        return pointer
    }

    /// Waits for a band still rendering (an encoder that stopped early).
    func wait() {
        done?.wait()
        done = nil
    }
}
