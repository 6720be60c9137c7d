/// Normalised mosaic rows around a strip — the strip's rows plus `halo` rows above and below and
/// `pad` columns left and right — the input every demosaic algorithm reads.
///
/// Outside the image the window holds the image mirrored about its first and last row and column
/// without repeating the edge (`… 2 1 | 0 1 2 … n−2 n−1 | n−2 …`). Mirroring by whole photosites
/// keeps every Bayer layout intact (row −k has the colours of row k), so Bayer algorithms run one
/// uniform loop up to the border. Periodic layouts that are not mirror-symmetric (X-Trans) must
/// not read outside the image: `imageHeight` and `width` bound what is real.
public struct MosaicWindow: @unchecked Sendable {
    /// Image row `firstRow`, column 0.
    public let values: UnsafeMutablePointer<Float>
    /// Image width (columns `0 ..< width` are real).
    public let width: Int
    public let imageHeight: Int
    /// Image row held in buffer row 0 (negative near the top: mirrored rows).
    public let firstRow: Int
    public let rows: Int
    /// Columns of mirrored data on each side.
    public let pad: Int
    /// Distance between rows, `width + 2 * pad`.
    public let stride: Int
    public let cfa: CFAPattern
    /// Scratch planes the algorithm asked for (`DemosaicAlgorithm.scratchPlanes`), each laid out
    /// like the window itself: `plane(i) + (y - firstRow) * stride + x` for the same y and x.
    public let scratch: UnsafeMutablePointer<Float>?
    public let scratchPlaneCount: Int

    public init(values: UnsafeMutablePointer<Float>, width: Int, imageHeight: Int, firstRow: Int, rows: Int,
                pad: Int = 0, cfa: CFAPattern, scratch: UnsafeMutablePointer<Float>? = nil, scratchPlaneCount: Int = 0) {
        self.values = values
        self.width = width
        self.imageHeight = imageHeight
        self.firstRow = firstRow
        self.rows = rows
        self.pad = pad
        self.stride = width + 2 * pad
        self.cfa = cfa
        self.scratch = scratch
        self.scratchPlaneCount = scratchPlaneCount
    }

    /// Pointer to column 0 of image row `y` (which must lie inside the window).
    @inlinable @inline(__always) public func row(_ y: Int) -> UnsafeMutablePointer<Float> {
        values + (y - firstRow) * stride
    }

    @inlinable public func contains(row y: Int) -> Bool { y >= firstRow && y < firstRow + rows }

    /// Scratch plane `i`, addressed like `values` (column 0 of the window's first row).
    @inlinable @inline(__always) public func plane(_ i: Int) -> UnsafeMutablePointer<Float> {
        precondition(i < scratchPlaneCount)
        return scratch! + pad + i * (rows * stride + 32)
    }

    /// Floats a caller must provide for `planes` scratch planes of a window of `rows` × `stride`.
    public static func scratchCapacity(planes: Int, rows: Int, stride: Int) -> Int {
        planes == 0 ? 0 : planes * (rows * stride + 32) + 16
    }

    /// Mirror index of `i` into `0 ..< n` (reflection about 0 and n−1, edge not repeated).
    @inlinable public static func reflect(_ i: Int, _ n: Int) -> Int {
        guard n > 1 else { return 0 }
        let period = 2 * (n - 1)
        var j = i % period
        if j < 0 { j += period }
        return j < n ? j : period - j
    }
}

/// A demosaic algorithm: reconstructs full RGB for the rows of `strip` from a window of mosaic rows.
/// Colour space: white-balanced camera RGB in (one channel per photosite) and out (three per pixel).
public protocol DemosaicAlgorithm: Sendable {
    /// Rows of context needed above and below each strip (also the columns of padding).
    var halo: Int { get }
    /// Float planes of the window's size the algorithm needs as scratch (0 for none).
    var scratchPlanes: Int { get }
    func interpolate(_ window: MosaicWindow, into strip: Strip, engine: Engine)
}

extension DemosaicAlgorithm {
    public var scratchPlanes: Int { 0 }
}

/// A demosaic whose loops are written once over `Lanes`: it states its body, and
/// `interpolate(_:into:engine:)` picks the lane type through `Engine.dispatch`.
public protocol LanesDemosaic: DemosaicAlgorithm {
    func interpolate<L: Lanes>(_ window: MosaicWindow, into strip: Strip, lanes: L.Type)
}

extension LanesDemosaic {
    public func interpolate(_ window: MosaicWindow, into strip: Strip, engine: Engine) {
        engine.dispatch(LanesDemosaicBody(demosaic: self, window: window, strip: strip))
    }
}

/// `LanesDemosaic.interpolate(_:into:lanes:)` as a dispatch body.
struct LanesDemosaicBody<D: LanesDemosaic>: LanesBody {
    let demosaic: D
    let window: MosaicWindow
    let strip: Strip
    @inline(__always) func run<L: Lanes>(_ lanes: L.Type) { demosaic.interpolate(window, into: strip, lanes: lanes) }
}
