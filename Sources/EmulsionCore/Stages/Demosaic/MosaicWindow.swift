/// Normalised mosaic rows around a strip (the strip's rows plus a halo above and below), the
/// input every demosaic algorithm reads. Rows outside the image are simply absent: algorithms
/// treat the image border themselves.
public struct MosaicWindow: @unchecked Sendable {
    public let values: UnsafeMutablePointer<Float>
    public let width: Int
    public let imageHeight: Int
    /// Image row held in buffer row 0.
    public let firstRow: Int
    public let rows: Int
    public let cfa: CFAPattern

    /// Pointer to image row `y` (which must lie inside the window).
    @inlinable @inline(__always) public func row(_ y: Int) -> UnsafeMutablePointer<Float> {
        values + (y - firstRow) * width
    }

    @inlinable public func contains(row y: Int) -> Bool { y >= firstRow && y < firstRow + rows }
}

/// A demosaic algorithm: reconstructs full RGB for the rows of `strip` from a window of mosaic rows.
/// Colour space: white-balanced camera RGB in (one channel per photosite) and out (three per pixel).
public protocol DemosaicAlgorithm: Sendable {
    /// Rows of context needed above and below each strip.
    var halo: Int { get }
    func interpolate(_ window: MosaicWindow, into strip: Strip, engine: Engine)
}
