import Dispatch
import EmulsionCore
import EmulsionIO

/// A raw prepared to be rendered straight into an uncompressed TIFF (`emulsion process --format
/// tiff`, `TIFFFile`): the directory first, then the rows in order, with no whole-image buffer.
///
/// Why bands in groups: nothing is compressed, so the render is the whole cost; each thread
/// renders one band of a group at once (the bands `StreamedRows` gives every encoder), and the
/// group is written in order before the next starts. 16-bit rows are written as the sink stores
/// them (host order: little-endian on every target Emulsion builds for, as the file's "II"
/// header says); 8-bit rows are narrowed to bytes.
public struct TIFFRender {
    public static let bandRows = 64
    public let width: Int
    public let height: Int
    private let rows: StreamedRows
    private let header: [UInt8]
    private let eightBit: Bool

    public init(_ raw: RawImage, options: RenderOptions, fit: OutputFit? = nil) throws {
        rows = try StreamedRows(plan: try RenderPlan(raw: raw, options: options), options: options, fit: fit)
        (width, height) = (rows.width, rows.height)
        eightBit = options.depth == .eight
        header = try TIFFFile.header(width: width, height: height, bitDepth: options.depth.rawValue,
                                     iccProfile: try options.space.iccProfile(), shot: OutputMetadata.shot(raw.metadata, options: options),
                                     sRGB: options.space == .sRGB, software: OutputMetadata.software)
    }

    /// Renders and writes, handing the file's bytes to `output` in order; an error thrown by
    /// `output` stops both and is rethrown.
    public func encode(threads: Int, to output: (UnsafeRawBufferPointer) throws -> Void) throws {
        precondition(1.littleEndian == 1, "TIFF rows are written in host order under an \"II\" header")
        try header.withUnsafeBytes(output)
        let band = Self.bandRows, rowSamples = 3 * width
        let workers = (0..<max(1, threads)).map { _ in rows.makeWorker(rows: band) }
        let rendered = UnsafeMutableBufferPointer<UnsafePointer<UInt16>?>.allocate(capacity: workers.count)
        defer { rendered.deallocate() }
        let narrow = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: eightBit ? band * rowSamples : 0)
        defer { narrow.deallocate() }
        var first = 0
        while first < height {
            let bands = (0..<workers.count).map { first + $0 * band }.filter { $0 < height }.map { $0..<min(height, $0 + band) }
            if bands.count == 1 {
                rendered[0] = workers[0](bands[0])
            } else {
                DispatchQueue.concurrentPerform(iterations: bands.count) { rendered[$0] = workers[$0](bands[$0]) }
            }
            for (i, range) in bands.enumerated() {
                let samples = range.count * rowSamples
                if eightBit {
                    for j in 0..<samples { narrow[j] = UInt8(truncatingIfNeeded: rendered[i]![j]) }
                    try output(UnsafeRawBufferPointer(start: narrow.baseAddress, count: samples))
                } else {
                    try output(UnsafeRawBufferPointer(start: rendered[i], count: 2 * samples))
                }
            }
            first = bands.last!.upperBound
        }
    }
}
