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
    /// `buffer` (`MosaicSource`'s window) or of `innerStrip` (`LensWarpSource`'s inner rows) from
    /// the previous strip: a source whose strips overlap reuses them for the next strip.
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
