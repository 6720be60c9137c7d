/// The end of the pipeline: quantises encoded [0, 1] strips into the upright, interleaved output.
///
/// Orientation is applied here, as an index map, so no stage ever copies a whole image to turn it.
/// Quantisation is `clamped(0, 1) · (2^bits − 1)` rounded to nearest, ties to even (the same
/// magic-number rounding in both engines: `Lanes.storeQuantised`). The executor normally fuses
/// the sink with the last point kernel (`PointKernel.run(over:into:engine:)`); `write` is the
/// stand-alone form for pipelines without point stages.
public final class OutputSink: @unchecked Sendable {
    public enum Depth: Int, Sendable { case eight = 8, sixteen = 16 }

    public let depth: Depth
    /// Size of the stored (pre-orientation) image the strips come from.
    public let sourceWidth: Int
    public let sourceHeight: Int
    public let orientation: Orientation
    public let width: Int
    public let height: Int
    /// `2^bits − 1`.
    public let scale: Float
    /// Output pixel of stored pixel (x, y) is `start + x · strideX + y · strideY`.
    public let map: (start: Int, strideX: Int, strideY: Int)
    /// Interleaved RGB, `3 * width * height` samples; 8-bit output uses the low byte range 0…255.
    public let destination: UnsafeMutablePointer<UInt16>

    /// A sink writing into `destination` (at least `3 · sourceWidth · sourceHeight` samples), which
    /// the caller owns: e.g. the buffer of `[UInt16](unsafeUninitializedCapacity:)`, so the
    /// output is never copied.
    public convenience init(sourceWidth: Int, sourceHeight: Int, orientation: Orientation, depth: Depth,
                            into destination: UnsafeMutableBufferPointer<UInt16>) {
        precondition(destination.count >= 3 * sourceWidth * sourceHeight)
        self.init(sourceWidth: sourceWidth, sourceHeight: sourceHeight, orientation: orientation, depth: depth,
                  map: orientation.indexMap(width: sourceWidth, height: sourceHeight), rowOffset: 0,
                  destination: destination.baseAddress!)
    }

    /// A sink for a band of the output: upright rows `outputRows` only, written to `band` from its
    /// start (output row `outputRows.lowerBound` first). Only the stored rows
    /// `orientation.storedRows(ofOutputRows:height:)` may be written into it. The streamed renderer
    /// renders each PNG segment through one of these into a buffer its worker reuses, so no
    /// whole-image output exists. Orientations that swap axes have no stored rows for an output
    /// row (each output row is a stored column), so they cannot be banded.
    public convenience init(sourceWidth: Int, sourceHeight: Int, orientation: Orientation, depth: Depth,
                            outputRows: Range<Int>, into band: UnsafeMutableBufferPointer<UInt16>) {
        precondition(!orientation.swapsAxes && outputRows.lowerBound >= 0 && outputRows.upperBound <= sourceHeight)
        precondition(band.count >= 3 * sourceWidth * outputRows.count)
        self.init(sourceWidth: sourceWidth, sourceHeight: sourceHeight, orientation: orientation, depth: depth,
                  map: orientation.indexMap(width: sourceWidth, height: sourceHeight), rowOffset: outputRows.lowerBound,
                  destination: band.baseAddress!)
    }

    private init(sourceWidth: Int, sourceHeight: Int, orientation: Orientation, depth: Depth,
                 map: (start: Int, strideX: Int, strideY: Int), rowOffset: Int, destination: UnsafeMutablePointer<UInt16>) {
        self.depth = depth
        self.sourceWidth = sourceWidth
        self.sourceHeight = sourceHeight
        self.orientation = orientation
        (width, height) = orientation.orientedSize(width: sourceWidth, height: sourceHeight)
        scale = depth == .sixteen ? 65535 : 255
        // Moving the map's start up by the band's first row makes that row index 0 of `destination`.
        self.map = (map.start - rowOffset * width, map.strideX, map.strideY)
        self.destination = destination
    }

    /// A sink owning its output; `takeSamples()` copies it out.
    public convenience init(sourceWidth: Int, sourceHeight: Int, orientation: Orientation, depth: Depth) {
        let count = max(1, 3 * sourceWidth * sourceHeight)
        let buffer = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: count)
        buffer.initialize(repeating: 0)
        self.init(sourceWidth: sourceWidth, sourceHeight: sourceHeight, orientation: orientation, depth: depth, into: buffer)
        ownsBuffer = true
    }

    private var ownsBuffer = false

    deinit { if ownsBuffer { destination.deallocate() } }

    /// Where stored row `y`, column 0 goes (column x goes to `rowStart(y) + 3 · x · strideX`).
    @inlinable @inline(__always) public func rowStart(_ y: Int) -> UnsafeMutablePointer<UInt16> {
        destination + 3 * (map.start + y * map.strideY)
    }

    /// Writes one stored row of quantised codes, given as three planar rows of code words (the
    /// code in each word's low 16 bits: `Lanes.storeQuantisedWords`), into the oriented
    /// interleaved output. Rows are disjoint, so workers may call this concurrently.
    @inlinable @inline(__always)
    public func interleave(_ r: UnsafePointer<UInt32>, _ g: UnsafePointer<UInt32>, _ b: UnsafePointer<UInt32>, row y: Int) {
        let out = rowStart(y)
        let step = 3 * map.strideX
        @inline(__always) func code(_ word: UInt32) -> UInt16 { UInt16(truncatingIfNeeded: word) }
        if step == 3 {
            for x in 0..<sourceWidth { out[3 * x] = code(r[x]); out[3 * x + 1] = code(g[x]); out[3 * x + 2] = code(b[x]) }
        } else {
            var o = out
            for x in 0..<sourceWidth { o[0] = code(r[x]); o[1] = code(g[x]); o[2] = code(b[x]); o += step }
        }
    }

    /// Writes one strip. Strips cover disjoint rows, so workers may call this concurrently.
    public func write(_ strip: Strip, engine: Engine = .simd) {
        engine.dispatch(Write(sink: self, strip: strip))
    }

    private struct Write: LanesBody {
        let sink: OutputSink
        let strip: Strip
        @inline(__always) func run<L: Lanes>(_ lanes: L.Type) { sink.write(strip, lanes) }
    }

    @inline(__always)
    private func write<L: Lanes>(_ strip: Strip, _: L.Type) {
        let padded = strip.width + 16
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 3 * padded) { codes in
            let r = codes.baseAddress!, g = r + padded, b = g + padded
            for row in 0..<strip.rows {
                let i = row * strip.width
                var x = 0
                while x + L.laneCount <= strip.width {
                    L(loading: strip.r + i + x).storeQuantisedWords(scale: scale, to: r + x)
                    L(loading: strip.g + i + x).storeQuantisedWords(scale: scale, to: g + x)
                    L(loading: strip.b + i + x).storeQuantisedWords(scale: scale, to: b + x)
                    x += L.laneCount
                }
                while x < strip.width {
                    strip.r[i + x].storeQuantisedWords(scale: scale, to: r + x)
                    strip.g[i + x].storeQuantisedWords(scale: scale, to: g + x)
                    strip.b[i + x].storeQuantisedWords(scale: scale, to: b + x)
                    x += 1
                }
                interleave(r, g, b, row: strip.firstRow + row)
            }
        }
    }

    /// The samples as an array (a copy; renderers that care about memory pass their own buffer).
    public func takeSamples() -> [UInt16] {
        Array(UnsafeBufferPointer(start: destination, count: 3 * sourceWidth * sourceHeight))
    }
}
