/// How the stored image must be turned to stand upright, as EXIF/TIFF Orientation 1…8.
public enum Orientation: Int, Sendable, CaseIterable {
    case normal = 1
    case mirrorHorizontal = 2
    case rotate180 = 3
    case mirrorVertical = 4
    case transpose = 5
    case rotate90Clockwise = 6
    case transverse = 7
    case rotate90CounterClockwise = 8

    public var swapsAxes: Bool { rawValue >= 5 }

    /// Size of the upright image for a stored image of `width × height`.
    public func orientedSize(width: Int, height: Int) -> (width: Int, height: Int) {
        swapsAxes ? (height, width) : (width, height)
    }

    /// The stored rows that make upright rows `rows` of an image `height` stored rows high, or nil
    /// when the orientation swaps axes (then every upright row is a stored column). Without a swap
    /// an upright row is one whole stored row, mirrored or not, which lets a renderer produce the
    /// output band by band (the streamed render).
    public func storedRows(ofOutputRows rows: Range<Int>, height: Int) -> Range<Int>? {
        switch self {
        case .normal, .mirrorHorizontal: return rows
        case .rotate180, .mirrorVertical: return (height - rows.upperBound) ..< (height - rows.lowerBound)
        case .transpose, .rotate90Clockwise, .transverse, .rotate90CounterClockwise: return nil
        }
    }

    /// The output pixel index of stored pixel (x, y) is `start + x * strideX + y * strideY`
    /// (in pixels, row-major upright image). One affine map serves all eight orientations.
    public func indexMap(width w: Int, height h: Int) -> (start: Int, strideX: Int, strideY: Int) {
        switch self {
        case .normal: return (0, 1, w)
        case .mirrorHorizontal: return (w - 1, -1, w)
        case .rotate180: return (w * h - 1, -1, -w)
        case .mirrorVertical: return ((h - 1) * w, 1, -w)
        // Upright width is h for the axis-swapping cases.
        case .transpose: return (0, h, 1)
        case .rotate90Clockwise: return (h - 1, h, -1)
        case .transverse: return ((w - 1) * h + h - 1, -h, -1)
        case .rotate90CounterClockwise: return ((w - 1) * h, -h, 1)
        }
    }
}
