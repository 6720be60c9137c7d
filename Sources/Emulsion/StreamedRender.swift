import EmulsionCore
import EmulsionIO

/// A raw prepared to be rendered straight into a PNG: `encode` renders and compresses in one pass,
/// handing the file's bytes to its output in order (as `PNGFile.encode(_:options:to:)` does).
///
/// Why: rendering the whole image first holds a 6 B/px output array (144 MB at 24 MP) and
/// writes it all to memory only to read it back for compression. Here each encoding thread
/// takes a PNG segment (~1 MiB of filtered rows), renders exactly those output rows — and the
/// row above, which the up, avg and paeth filters read — into a small buffer of its own through
/// the executor (`Executor.run(rows:…)` into a band sink), and compresses them while they are in
/// cache; `PNGFile` writes the segments in order. The bytes are those of `Renderer.render`
/// followed by `PNGFile.encode` with the same options (tests check it).
///
/// Preparing builds the render plan (and any whole-image pre-pass, e.g. local contrast's
/// surround), so its errors come before an output file is opened. Orientations that swap axes
/// (90°/270°) have no stored rows for an output row: for them preparing renders the whole image
/// as stored (rows stay rows, so the sink writes sequentially), and each encoding thread turns
/// its segment's stored columns into output rows in a buffer of its own (`TransposedRows`;
/// `streams` is false). Written as output columns by the sink instead, the image's every
/// stored row touched one cache line in each output row: 3.9 ns/px against 1.0 upright
/// (docs/PERFORMANCE.md, session 15). The row above each segment is rendered twice,
/// about 1 row in 30 at 6000 px. `encode` renders on `png.effectiveThreads` threads
/// (`Processor` sets them from `RenderOptions.threads`).
public struct PNGRender {
    public let width: Int
    public let height: Int
    private let content: Content

    private enum Content {
        case bands(BandRendering, PNGLayout)
        case stored(StoredImage, PNGLayout)
    }

    public init(_ raw: RawImage, options: RenderOptions) throws {
        let orientation = raw.metadata.orientation
        guard Self.streams(orientation) else {
            let image = try Renderer.render(raw, options: options, orientation: .normal)
            let stored = StoredImage(samples: image.samples, width: image.width, height: image.height, orientation: orientation)
            let layout = PNGLayout(width: stored.outputWidth, height: stored.outputHeight, bitDepth: options.depth.rawValue,
                                   channels: 3, iccProfile: image.iccProfile)
            (width, height, content) = (layout.width, layout.height, .stored(stored, layout))
            return
        }
        let bands = BandRendering(plan: try RenderPlan(raw: raw, options: options), orientation: raw.metadata.orientation,
                                  options: options)
        let layout = PNGLayout(width: bands.width, height: bands.height, bitDepth: options.depth.rawValue, channels: 3,
                               iccProfile: try options.space.iccProfile())
        (width, height, content) = (layout.width, layout.height, .bands(bands, layout))
    }

    /// Whether an image stored in `orientation` streams (rows stay rows).
    public static func streams(_ orientation: Orientation) -> Bool { !orientation.swapsAxes }

    /// Whether `encode` renders band by band (false: the image was rendered whole when prepared).
    public var streams: Bool {
        if case .bands = content { return true }
        return false
    }

    /// Renders (when streaming) and encodes, handing the PNG's bytes to `output` in order; an error
    /// thrown by `output` stops the rendering and encoding and is rethrown.
    public func encode(png: PNGEncodingOptions, to output: (UnsafeRawBufferPointer) throws -> Void) throws {
        switch content {
        case .stored(let image, let layout):
            let bandRows = PNGFile.segmentRows(for: layout, options: png) + 1
            try PNGFile.encode(layout, options: png, rows: { TransposedRows(image, capacityRows: bandRows).rows }, to: output)
        case .bands(let bands, let layout):
            let bandRows = PNGFile.segmentRows(for: layout, options: png) + 1
            try PNGFile.encode(layout, options: png, rows: { bands.makeWorker(rows: bandRows).rows }, to: output)
        }
    }
}

/// What every worker of a streamed render shares: the plan's source and fused kernels, the
/// orientation and depth, and a one-thread executor (the encoder owns the threads).
struct BandRendering: @unchecked Sendable {
    let source: any StripSource
    let kernels: [any PointKernel]
    let orientation: Orientation
    let depth: OutputSink.Depth
    let executor: Executor

    init(plan: RenderPlan, orientation: Orientation, options: RenderOptions) {
        source = plan.source
        // Fused once: every band runs the same kernels.
        kernels = plan.chain.fusedKernels()
        self.orientation = orientation
        depth = options.depth
        executor = Executor(engine: options.engine, threads: 1)
    }

    /// Upright size (no axis swap).
    var width: Int { source.width }
    var height: Int { source.height }

    func makeWorker(rows: Int) -> BandWorker { BandWorker(rendering: self, capacityRows: rows) }
}

/// One encoding thread's part of a streamed render: a buffer of `capacityRows` output rows and the
/// executor workspace (strip planes, mosaic window), both made once and reused for every segment.
final class BandWorker {
    let rendering: BandRendering
    let capacityRows: Int
    let workspace: ExecutorWorkspace
    let buffer: UnsafeMutableBufferPointer<UInt16>

    init(rendering: BandRendering, capacityRows: Int) {
        self.rendering = rendering
        self.capacityRows = capacityRows
        workspace = rendering.executor.makeWorkspace(for: rendering.source)
        buffer = .allocate(capacity: 3 * rendering.width * capacityRows)
    }

    deinit { buffer.deallocate() }

    /// Renders upright rows `rows` into the buffer and returns it (a `PNGRowSource`).
    func rows(_ rows: Range<Int>) -> UnsafePointer<UInt16> {
        precondition(rows.count <= capacityRows)
        let r = rendering
        let sink = OutputSink(sourceWidth: r.width, sourceHeight: r.height, orientation: r.orientation, depth: r.depth,
                              outputRows: rows, into: buffer)
        let stored = r.orientation.storedRows(ofOutputRows: rows, height: r.height)!
        r.executor.run(rows: stored, source: r.source, kernels: r.kernels, sink: sink, workspace: workspace)
        return UnsafePointer(buffer.baseAddress!)
    }
}

/// A whole image rendered as stored, for an orientation that swaps the axes (`PNGRender`).
struct StoredImage: Sendable {
    let samples: [UInt16]
    /// Stored size.
    let width: Int
    let height: Int
    let orientation: Orientation

    var outputWidth: Int { orientation.orientedSize(width: width, height: height).width }
    var outputHeight: Int { orientation.orientedSize(width: width, height: height).height }
}

/// One encoding thread's output rows of a `StoredImage`, in a buffer made once and reused for
/// every segment. Output pixel of stored (x, y) is `start + x · strideX + y · strideY`
/// (`Orientation.indexMap`); where the axes swap, `strideY` is ±1 and `strideX` ±(output
/// width), so a band of output rows is a run of stored columns. The band is filled stored row
/// by stored row: each reads that run of columns in one piece and puts one pixel into each of
/// the band's rows, whose current cache lines stay in L1 while the next stored rows fill them.
final class TransposedRows {
    let image: StoredImage
    let capacityRows: Int
    let buffer: UnsafeMutableBufferPointer<UInt16>

    init(_ image: StoredImage, capacityRows: Int) {
        precondition(image.orientation.swapsAxes)
        self.image = image
        self.capacityRows = capacityRows
        buffer = .allocate(capacity: 3 * image.outputWidth * capacityRows)
    }

    deinit { buffer.deallocate() }

    /// Output rows `rows` into the buffer (a `PNGRowSource`).
    func rows(_ rows: Range<Int>) -> UnsafePointer<UInt16> {
        precondition(!rows.isEmpty && rows.count <= capacityRows && rows.lowerBound >= 0 && rows.upperBound <= image.outputHeight)
        let (w, h, outWidth) = (image.width, image.height, image.outputWidth)
        let map = image.orientation.indexMap(width: w, height: h)
        // Stored column x lies in output row start / outWidth ± x (`strideX` is ±outWidth, and
        // the start's own column is below outWidth): the band's rows are a run of columns.
        let firstRow = map.start / outWidth
        func column(_ row: Int) -> Int { map.strideX > 0 ? row - firstRow : firstRow - row }
        let (x0, x1) = (column(rows.lowerBound), column(rows.upperBound - 1))
        let columns = min(x0, x1) ... max(x0, x1)
        let band = buffer.baseAddress!
        let origin = map.start - rows.lowerBound * outWidth
        image.samples.withUnsafeBufferPointer { samples in
            let stored = samples.baseAddress!
            for y in 0..<h {
                let row = stored + 3 * y * w
                var out = band + 3 * (origin + columns.lowerBound * map.strideX + y * map.strideY)
                let step = 3 * map.strideX
                for x in columns {
                    let pixel = row + 3 * x
                    out[0] = pixel[0]; out[1] = pixel[1]; out[2] = pixel[2]
                    out += step
                }
            }
        }
        return UnsafePointer(band)
    }
}
