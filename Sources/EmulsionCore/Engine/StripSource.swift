/// The front of the pipeline: fills strips of white-balanced camera RGB from the raw data.
/// A source owns its neighbourhood work (normalisation over a halo, demosaic, resampling) and
/// asks its worker for scratch memory once, so nothing allocates per strip.
public protocol StripSource: Sendable {
    var width: Int { get }
    var height: Int { get }
    /// Per-worker scratch for strips of at most `stripRows` rows.
    func makeScratch(stripRows: Int) -> SourceScratch
    func fill(_ strip: Strip, scratch: SourceScratch, engine: Engine)
}

/// Scratch memory a source keeps per worker (a float buffer and, for nested sources, inner scratch).
public final class SourceScratch: @unchecked Sendable {
    public let buffer: UnsafeMutablePointer<Float>
    public let capacity: Int
    public let inner: SourceScratch?
    public let innerStrip: StripStorage?
    /// Image rows `cachedFirstRow ..< cachedFirstRow + cachedRows` are held at the start of
    /// `buffer` from the previous strip (a source with a halo reuses them for the next strip).
    public var cachedFirstRow = 0
    public var cachedRows = 0

    public init(capacity: Int, inner: SourceScratch? = nil, innerStrip: StripStorage? = nil) {
        self.capacity = capacity
        buffer = .allocate(capacity: max(capacity, 1))
        buffer.initialize(repeating: 0, count: max(capacity, 1))
        self.inner = inner
        self.innerStrip = innerStrip
    }

    deinit { buffer.deallocate() }
}

/// Mosaic raw → normalised window → demosaic.
public struct MosaicSource: StripSource {
    public let raw: [UInt16]
    public let width: Int
    public let height: Int
    public let cfa: CFAPattern
    public let normalisation: RawNormalisation
    public let demosaic: any DemosaicAlgorithm

    public init(raw: [UInt16], width: Int, height: Int, cfa: CFAPattern, normalisation: RawNormalisation,
                demosaic: any DemosaicAlgorithm) {
        precondition(raw.count >= width * height)
        self.raw = raw
        self.width = width
        self.height = height
        self.cfa = cfa
        self.normalisation = normalisation
        self.demosaic = demosaic
    }

    public func makeScratch(stripRows: Int) -> SourceScratch {
        SourceScratch(capacity: (stripRows + 2 * demosaic.halo) * width + 16)
    }

    public func fill(_ strip: Strip, scratch: SourceScratch, engine: Engine) {
        let top = max(0, strip.firstRow - demosaic.halo)
        let bottom = min(height, strip.firstRow + strip.rows + demosaic.halo)
        // Rows the previous strip of this worker already normalised (strips run top to bottom
        // inside a band) move to the front of the window; only the new rows are normalised.
        var ready = top
        let cacheEnd = scratch.cachedFirstRow + scratch.cachedRows
        if scratch.cachedRows > 0, scratch.cachedFirstRow <= top, cacheEnd > top {
            let keep = min(cacheEnd, bottom) - top
            // Overlapping regions: copyMemory is memmove.
            UnsafeMutableRawPointer(scratch.buffer).copyMemory(from: scratch.buffer + (top - scratch.cachedFirstRow) * width,
                                                               byteCount: keep * width * MemoryLayout<Float>.stride)
            ready = top + keep
        }
        normalise(rows: ready..<bottom, into: scratch.buffer + (ready - top) * width, engine: engine)
        scratch.cachedFirstRow = top
        scratch.cachedRows = bottom - top
        let window = MosaicWindow(values: scratch.buffer, width: width, imageHeight: height,
                                  firstRow: top, rows: bottom - top, cfa: cfa)
        demosaic.interpolate(window, into: strip, engine: engine)
    }

    /// Normalises mosaic rows `rows` into consecutive rows of `destination` (the raw
    /// normalisation stage on its own; the benchmark times it through this entry point).
    public func normalise(rows: Range<Int>, into destination: UnsafeMutablePointer<Float>, engine: Engine) {
        raw.withUnsafeBufferPointer { samples in
            for y in rows {
                let out = destination + (y - rows.lowerBound) * width
                let source = samples.baseAddress! + y * width
                switch engine {
                case .scalar: normaliseRow(source, out, y, Float.self)
                case .simd:
                    switch SIMDWidth.selected {
                    case .four: normaliseRow(source, out, y, SIMD4<Float>.self)
                    case .eight: normaliseRow(source, out, y, SIMD8<Float>.self)
                    case .sixteen: normaliseRow(source, out, y, SIMD16<Float>.self)
                    }
                }
            }
        }
    }

    @inline(__always)
    private func normaliseRow<L: Lanes>(_ source: UnsafePointer<UInt16>, _ destination: UnsafeMutablePointer<Float>,
                                        _ y: Int, _: L.Type) {
        let n = normalisation
        n.blacks.withUnsafeBufferPointer { blacks in
            n.gains.withUnsafeBufferPointer { gains in
                let base = (y % n.periodHeight) * n.rowStride
                let blackRow = blacks.baseAddress! + base, gainRow = gains.baseAddress! + base
                let ceiling = n.ceiling
                let period = n.periodWidth
                // The column phase advances by laneCount mod period per group (no division in the loop).
                let step = L.laneCount % period
                var phase = 0
                var x = 0
                while x + L.laneCount <= width {
                    let v = RawNormalisation.normalise(L(loadingSamples: source + x), black: L(loading: blackRow + phase),
                                                       gain: L(loading: gainRow + phase), ceiling: ceiling)
                    v.store(to: destination + x)
                    x += L.laneCount
                    phase += step
                    if phase >= period { phase -= period }
                }
                while x < width {
                    destination[x] = RawNormalisation.normalise(Float(source[x]), black: blackRow[phase], gain: gainRow[phase], ceiling: ceiling)
                    x += 1
                    phase += 1
                    if phase >= period { phase -= period }
                }
            }
        }
    }
}

/// Three-channel raw (linear DNG) → normalised RGB; no demosaic.
public struct RGBSource: StripSource {
    public let raw: [UInt16]
    public let width: Int
    public let height: Int
    /// One normalisation per channel.
    public let channels: [RawNormalisation]

    public init(raw: [UInt16], width: Int, height: Int, channels: [RawNormalisation]) {
        precondition(raw.count >= 3 * width * height && channels.count == 3)
        self.raw = raw
        self.width = width
        self.height = height
        self.channels = channels
    }

    public func makeScratch(stripRows: Int) -> SourceScratch { SourceScratch(capacity: 0) }

    public func fill(_ strip: Strip, scratch: SourceScratch, engine: Engine) {
        // Interleaved input needs a gather either way; both engines run this one scalar loop.
        let planes = [strip.r, strip.g, strip.b]
        raw.withUnsafeBufferPointer { samples in
            for row in 0..<strip.rows {
                let y = strip.firstRow + row
                let source = samples.baseAddress! + 3 * y * width
                for c in 0..<3 {
                    let n = channels[c]
                    let black = n.blacks[0], gain = n.gains[0], ceiling = n.ceiling
                    let out = planes[c] + row * width
                    for x in 0..<width {
                        out[x] = RawNormalisation.normalise(Float(source[3 * x + c]), black: black, gain: gain, ceiling: ceiling)
                    }
                }
            }
        }
    }
}
