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
/// surround), so its errors come before an output file is opened. An image stored on its side
/// (90°/270°) streams too: the plan transposes its raw (`RawImage.transposed`), so output rows
/// are source rows for every orientation. (Until session 17 such images were rendered whole
/// when prepared and each segment's stored columns copied into rows: 6 B/px more and slower,
/// docs/PERFORMANCE.md.) The row above each segment is rendered twice, about 1 row in 30 at
/// 6000 px. `encode` renders on `png.effectiveThreads` threads (`Processor` sets them from
/// `RenderOptions.threads`).
public struct PNGRender {
    public let width: Int
    public let height: Int
    private let rows: StreamedRows
    private let layout: PNGLayout

    /// `metadata`: also write the shot's Exif and the render's recipe (`OutputMetadata`), as
    /// `emulsion process` does; without it (and `fit`) the bytes are exactly those of
    /// `Renderer.render` followed by `PNGFile.encode`. `fit`: make the image smaller where it is larger than
    /// that box (`AreaReduction`: rendered at full size, averaged in linear light).
    public init(_ raw: RawImage, options: RenderOptions, metadata: Bool = false, fit: OutputFit? = nil) throws {
        rows = try StreamedRows(plan: try RenderPlan(raw: raw, options: options), options: options, fit: fit)
        layout = PNGLayout(width: rows.width, height: rows.height, bitDepth: options.depth.rawValue, channels: 3,
                           iccProfile: try options.space.iccProfile(),
                           ancillaryChunks: metadata ? OutputMetadata.chunks(raw.metadata, options: options, width: rows.width,
                                                                             height: rows.height) : [])
        (width, height) = (layout.width, layout.height)
    }

    /// Renders and encodes, handing the PNG's bytes to `output` in order; an error thrown by
    /// `output` stops the rendering and encoding and is rethrown.
    public func encode(png: PNGEncodingOptions, to output: (UnsafeRawBufferPointer) throws -> Void) throws {
        let bandRows = PNGFile.segmentRows(for: layout, options: png) + 1
        try PNGFile.encode(layout, options: png, rows: { rows.makeWorker(rows: bandRows) }, to: output)
    }
}

/// The output rows of one streamed render, for an encoder that asks for them band by band: the
/// plan's rows at full size, or reduced to fit a box (`--max-size`).
struct StreamedRows: @unchecked Sendable {
    let width: Int
    let height: Int
    private let bands: BandRendering
    private let reduction: ReducedRendering?

    init(plan: RenderPlan, options: RenderOptions, fit: OutputFit?) throws {
        // The plan's source is upright (BandRendering's width and height).
        let full = (width: plan.source.width, height: plan.source.height)
        let size = fit.map {
            AreaReduction.fittedSize(sourceWidth: full.width, sourceHeight: full.height, maxWidth: $0.maxWidth, maxHeight: $0.maxHeight)
        } ?? full
        if size != full {
            // Reduced from 16-bit codes whatever the output depth: an 8-bit output is quantised once, at the end.
            bands = BandRendering(plan: plan, options: options, depth: .sixteen)
            reduction = try ReducedRendering(AreaReduction(sourceWidth: full.width, sourceHeight: full.height,
                                                           width: size.width, height: size.height),
                                             space: options.space, depth: options.depth)
        } else {
            bands = BandRendering(plan: plan, options: options, depth: options.depth)
            reduction = nil
        }
        (width, height) = size
    }

    /// A worker's row source for bands of at most `rows` rows: its buffer holds the last band asked for.
    func makeWorker(rows: Int) -> PNGRowSource {
        if let reduction { return reduction.makeWorker(rows: rows, rendering: bands).rows }
        return bands.makeWorker(rows: rows).rows
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

    init(plan: RenderPlan, options: RenderOptions, depth: OutputSink.Depth) {
        source = plan.source
        // Fused once: every band runs the same kernels.
        kernels = plan.chain.fusedKernels()
        orientation = plan.orientation
        self.depth = depth
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

/// The largest output `emulsion process --max-size` allows: a box the image is fitted into.
public struct OutputFit: Sendable, Equatable, CustomStringConvertible {
    public let maxWidth: Int
    public let maxHeight: Int

    public init(maxWidth: Int, maxHeight: Int) throws {
        guard maxWidth >= 1, maxHeight >= 1 else { throw RenderError("--max-size \(maxWidth)x\(maxHeight): expected sides of 1 pixel or more") }
        self.maxWidth = maxWidth
        self.maxHeight = maxHeight
    }

    /// "N" (the long side at most N, the short one too) or "WxH" (a box).
    public init(parsing text: String) throws {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let w = Int(parts[0]), let h = Int(parts.last!), w >= 1, h >= 1 else {
            throw RenderError("--max-size \(text): expected N (the long side in pixels) or WxH, e.g. 2048 or 1920x1080, each 1 or more")
        }
        try self.init(maxWidth: w, maxHeight: h)
    }

    public var description: String { maxWidth == maxHeight ? "\(maxWidth)" : "\(maxWidth)x\(maxHeight)" }
}

/// What every worker of a reduced streamed render shares: the reduction's weights and the output
/// space's curves (code → linear as a table, linear → encoded as the output encoding's own).
struct ReducedRendering: @unchecked Sendable {
    let reduction: AreaReduction
    let decode: FloatTable
    let encode: ExponentCurveTable
    let scale: Float

    init(_ reduction: AreaReduction, space: OutputSpace, depth: OutputSink.Depth) throws {
        self.reduction = reduction
        decode = FloatTable(try space.decodingTable(bitDepth: 16).map(Float.init))
        encode = try space.outputEncoding().curve
        scale = depth == .sixteen ? 65535 : 255
    }

    func makeWorker(rows: Int, rendering: BandRendering) -> ReducedBandWorker {
        ReducedBandWorker(reducing: self, rendering: rendering, capacityRows: rows)
    }
}

/// One encoding thread's part of a reduced streamed render: the full-size rows an output band
/// covers are rendered by a `BandWorker`, then averaged into the band's rows.
///
/// The full-size rows are rendered a few at a time, at most `fullRowLimit` (or what one output
/// row reads, if more): a band of 64 output rows reduced 90× read 5 800 full-size rows, the whole
/// of a 24 MP picture held per thread (205 MB peak for `--max-size 64`, against 73 MB unreduced).
/// A source row two output rows share is rendered again with the second; rows render the same
/// whatever band they are in, so the file does not change.
final class ReducedBandWorker {
    static let fullRowLimit = 128
    let reducing: ReducedRendering
    let full: BandWorker
    let fullCapacity: Int
    let capacityRows: Int
    let accumulator: UnsafeMutableBufferPointer<Float>
    let buffer: UnsafeMutableBufferPointer<UInt16>

    init(reducing: ReducedRendering, rendering: BandRendering, capacityRows: Int, fullRowLimit: Int = ReducedBandWorker.fullRowLimit) {
        self.reducing = reducing
        self.capacityRows = capacityRows
        let r = reducing.reduction
        fullCapacity = max(r.maximumSourceRows(forOutputRows: 1), min(r.maximumSourceRows(forOutputRows: capacityRows), fullRowLimit))
        full = rendering.makeWorker(rows: fullCapacity)
        accumulator = .allocate(capacity: 3 * reducing.reduction.sourceWidth)
        buffer = .allocate(capacity: 3 * reducing.reduction.width * capacityRows)
    }

    deinit {
        accumulator.deallocate()
        buffer.deallocate()
    }

    /// Renders reduced rows `rows` into the buffer and returns it (a `PNGRowSource`).
    func rows(_ rows: Range<Int>) -> UnsafePointer<UInt16> {
        precondition(rows.count <= capacityRows)
        let r = reducing.reduction
        var start = rows.lowerBound
        while start < rows.upperBound {
            // As many output rows as the full-size rows they read fit (one at least: it fits by construction).
            var end = start + 1
            while end < rows.upperBound, r.sourceRows(of: start..<(end + 1)).count <= fullCapacity { end += 1 }
            let source = r.sourceRows(of: start..<end)
            let band = full.rows(source)
            for row in start..<end {
                r.reduceRow(row, band: band, bandFirstRow: source.lowerBound, decode: reducing.decode.pointer,
                            accumulator: accumulator.baseAddress!, encode: reducing.encode, scale: reducing.scale,
                            into: buffer.baseAddress! + 3 * r.width * (row - rows.lowerBound))
            }
            start = end
        }
        return UnsafePointer(buffer.baseAddress!)
    }
}
