/// A band of whole image rows held as three float planes (structure of arrays), the unit the
/// executor hands to every stage. A strip fits in cache, so running the stages one after the other
/// over it costs little more than a fused loop, while each stage stays a small separate function.
public struct Strip: @unchecked Sendable {
    public let width: Int
    /// Rows in this strip (the last strip of an image may be shorter than the buffer's capacity).
    public var rows: Int
    /// Image row of the strip's first row.
    public var firstRow: Int
    public let r: UnsafeMutablePointer<Float>
    public let g: UnsafeMutablePointer<Float>
    public let b: UnsafeMutablePointer<Float>

    @inlinable public var count: Int { width * rows }
}

/// Owns the memory behind a `Strip`; one per worker thread, reused for every strip it runs.
public final class StripStorage: @unchecked Sendable {
    public let width: Int
    public let capacityRows: Int
    private let planes: UnsafeMutablePointer<Float>

    public init(width: Int, rows: Int) {
        self.width = width
        self.capacityRows = rows
        // Padding of one SIMD group per plane lets kernels read a full lane group past a row's end.
        let plane = width * rows + 16
        planes = .allocate(capacity: plane * 3)
        planes.initialize(repeating: 0, count: plane * 3)
    }

    deinit { planes.deallocate() }

    public func strip(firstRow: Int, rows: Int) -> Strip {
        precondition(rows <= capacityRows)
        let plane = width * capacityRows + 16
        return Strip(width: width, rows: rows, firstRow: firstRow,
                     r: planes, g: planes + plane, b: planes + 2 * plane)
    }
}
