/// The end of the pipeline: quantises encoded [0, 1] strips into the upright, interleaved output.
///
/// Orientation is applied here, as an index map, so no stage ever copies a whole image to turn it.
public final class OutputSink: @unchecked Sendable {
    public enum Depth: Int, Sendable, Codable { case eight = 8, sixteen = 16 }

    public let depth: Depth
    /// Size of the stored (pre-orientation) image the strips come from.
    public let sourceWidth: Int
    public let sourceHeight: Int
    public let orientation: Orientation
    public let width: Int
    public let height: Int
    /// Interleaved RGB, `3 * width * height` samples; 8-bit output uses the low byte range 0…255.
    public private(set) var samples: [UInt16]
    private let map: (start: Int, strideX: Int, strideY: Int)

    public init(sourceWidth: Int, sourceHeight: Int, orientation: Orientation, depth: Depth) {
        self.depth = depth
        self.sourceWidth = sourceWidth
        self.sourceHeight = sourceHeight
        self.orientation = orientation
        (width, height) = orientation.orientedSize(width: sourceWidth, height: sourceHeight)
        samples = [UInt16](repeating: 0, count: 3 * sourceWidth * sourceHeight)
        map = orientation.indexMap(width: sourceWidth, height: sourceHeight)
    }

    /// Writes one strip. Strips cover disjoint rows, so workers may call this concurrently.
    public func write(_ strip: Strip) {
        let scale: Float = depth == .sixteen ? 65535 : 255
        let map = self.map
        samples.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            for row in 0..<strip.rows {
                let y = strip.firstRow + row
                let i = row * strip.width
                var o = map.start + y * map.strideY
                for x in 0..<strip.width {
                    base[3 * o] = Self.quantise(strip.r[i + x], scale)
                    base[3 * o + 1] = Self.quantise(strip.g[i + x], scale)
                    base[3 * o + 2] = Self.quantise(strip.b[i + x], scale)
                    o += map.strideX
                }
            }
        }
    }

    @inline(__always) static func quantise(_ v: Float, _ scale: Float) -> UInt16 {
        let c = v.clamped(0, 1)
        return UInt16(c * scale + 0.5)
    }

    /// Hands the samples over (the sink is spent afterwards).
    public func takeSamples() -> [UInt16] {
        let s = samples
        samples = []
        return s
    }
}
