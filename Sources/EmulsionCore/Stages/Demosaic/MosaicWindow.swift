/// Normalised mosaic rows around a strip — the strip's rows plus `halo` rows above and below and
/// `pad` columns left and right — the input every demosaic algorithm reads.
///
/// Outside the image the window holds the image mirrored about its first and last row and column
/// without repeating the edge (`… 2 1 | 0 1 2 … n−2 n−1 | n−2 …`). Mirroring by whole photosites
/// keeps every Bayer layout intact (row −k has the colours of row k), so Bayer algorithms run one
/// uniform loop up to the border. Periodic layouts that are not mirror-symmetric (X-Trans) must
/// not read outside the image: `imageHeight` and `width` bound what is real.
///
/// A row is stored in one of two layouts (`Layout`): the photosites in sensor order, or split into
/// an even-column plane and an odd-column plane, which a Bayer kernel working on one site colour
/// per lane group reads without shuffles.
public struct MosaicWindow: @unchecked Sendable {
    /// How a row's photosites lie in memory.
    public enum Layout: Sendable {
        /// Column x at `row(y)[x]`, x from `-pad` to `width + pad`.
        case interleaved
        /// Column 2i at `row(y)[i]` and column 2i + 1 at `row(y)[oddPlaneOffset + i]`, each plane
        /// with `pad` mirrored entries before index 0 and after its last real column. Mirroring
        /// keeps a column's parity, so the padding of each plane holds columns of its own parity.
        case columnPlanes
    }

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
    /// Distance between rows (`MosaicWindow.stride(width:pad:layout:)`).
    public let stride: Int
    public let layout: Layout
    /// From a row's even-column plane to its odd-column plane (`columnPlanes`; 0 when interleaved).
    public let oddPlaneOffset: Int
    public let cfa: CFAPattern
    /// Scratch planes the algorithm asked for (`DemosaicAlgorithm.scratchPlanes`), each laid out
    /// like the window itself: `plane(i) + (y - firstRow) * stride + x` for the same y and x.
    public let scratch: UnsafeMutablePointer<Float>?
    public let scratchPlaneCount: Int

    public init(values: UnsafeMutablePointer<Float>, width: Int, imageHeight: Int, firstRow: Int, rows: Int,
                pad: Int = 0, cfa: CFAPattern, layout: Layout = .interleaved,
                scratch: UnsafeMutablePointer<Float>? = nil, scratchPlaneCount: Int = 0) {
        self.values = values
        self.width = width
        self.imageHeight = imageHeight
        self.firstRow = firstRow
        self.rows = rows
        self.pad = pad
        self.stride = Self.stride(width: width, pad: pad, layout: layout)
        self.layout = layout
        oddPlaneOffset = layout == .interleaved ? 0 : self.stride / 2
        self.cfa = cfa
        self.scratch = scratch
        self.scratchPlaneCount = scratchPlaneCount
    }

    /// Floats between rows: the row and its padding, or two planes of `(width + 1) / 2` columns
    /// and their padding each.
    public static func stride(width: Int, pad: Int, layout: Layout) -> Int {
        layout == .interleaved ? width + 2 * pad : 2 * ((width + 1) / 2 + 2 * pad)
    }

    /// Pointer to column 0 of image row `y` (which must lie inside the window); in the
    /// `columnPlanes` layout, to index 0 of its even-column plane.
    @inlinable @inline(__always) public func row(_ y: Int) -> UnsafeMutablePointer<Float> {
        values + (y - firstRow) * stride
    }

    /// Photosite (x, y) in either layout; −pad ≤ x < width + pad.
    @inlinable @inline(__always) public func photosite(row y: Int, column x: Int) -> Float {
        layout == .interleaved ? row(y)[x] : row(y)[(x & 1) * oddPlaneOffset + (x >> 1)]
    }

    /// Fills an interleaved row's `pad` entries on each side with the mirrored columns (`reflect`).
    public static func padInterleaved(_ row: UnsafeMutablePointer<Float>, width: Int, pad: Int) {
        for k in 1...pad {
            row[-k] = row[reflect(-k, width)]
            row[width - 1 + k] = row[reflect(width - 1 + k, width)]
        }
    }

    /// Fills a `columnPlanes` row's padding, whose planes hold columns `0 ..< width`: each
    /// padding entry takes the mirrored column's value (`reflect`).
    public static func padColumnPlanes(_ row: UnsafeMutablePointer<Float>, width: Int, pad: Int) {
        let offset = stride(width: width, pad: pad, layout: .columnPlanes) / 2
        func at(_ x: Int) -> UnsafeMutablePointer<Float> { row + (x & 1) * offset + (x >> 1) }
        // Each plane: `pad` entries before column 0 or 1, and after its last real column up to
        // `pad` entries past (width + 1) / 2.
        for x in -2 * pad..<0 { at(x).pointee = at(reflect(x, width)).pointee }
        for x in width..<(2 * ((width + 1) / 2 + pad)) { at(x).pointee = at(reflect(x, width)).pointee }
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
    /// True when it reads a Bayer window fastest as column planes (`MosaicWindow.Layout`); it must
    /// read an interleaved one as well (the mosaic stage writes one).
    var readsColumnPlanes: Bool { get }
    func interpolate(_ window: MosaicWindow, into strip: Strip, engine: Engine)
}

extension DemosaicAlgorithm {
    public var scratchPlanes: Int { 0 }
    public var readsColumnPlanes: Bool { false }
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
