import Dispatch
import EmulsionCore
import EmulsionIO

/// A raw prepared to be rendered straight into a TIFF (`emulsion process --format tiff`,
/// `TIFFFile`): the directory first, then the rows in order, with no whole-image buffer.
///
/// Why bands in groups: each thread renders one band of a group at once (the bands
/// `StreamedRows` gives every encoder) — and, for a deflated file, compresses it into its strip
/// (`TIFFFile.deflateStrip`; a band is a strip) — and the group is written in order before the
/// next starts. Uncompressed, 16-bit rows are written as the sink stores them (host order:
/// little-endian on every target Emulsion builds for, as the file's "II" header says); 8-bit rows
/// are narrowed to bytes. A deflated file's strip table (where each strip starts and how long it
/// is) is known only once the strips are written: `encode` hands it to `patch`, for the bytes the
/// directory reserved (`TIFFFile.stripTablePositions`).
public struct TIFFRender {
    public static let bandRows = TIFFFile.deflateStripRows
    public let width: Int
    public let height: Int
    public let compression: TIFFFile.Compression
    private let rows: StreamedRows
    private let header: [UInt8]
    private let eightBit: Bool

    public init(_ raw: RawImage, options: RenderOptions, fit: OutputFit? = nil, compression: TIFFFile.Compression = .uncompressed) throws {
        rows = try StreamedRows(plan: try RenderPlan(raw: raw, options: options), options: options, fit: fit)
        (width, height) = (rows.width, rows.height)
        eightBit = options.depth == .eight
        self.compression = compression
        header = try TIFFFile.header(width: width, height: height, bitDepth: options.depth.rawValue,
                                     iccProfile: try options.space.iccProfile(), shot: OutputMetadata.shot(raw.metadata, options: options),
                                     sRGB: options.space == .sRGB, software: OutputMetadata.software, compression: compression)
    }

    /// Renders and writes, handing the file's bytes to `output` in order, then, for a deflated
    /// file, the strip table to `patch` (bytes to write over the file at an offset). An error
    /// thrown by either stops the render and is rethrown. A deflated file without `patch` (a pipe)
    /// is refused before anything is written.
    public func encode(threads: Int, to output: (UnsafeRawBufferPointer) throws -> Void,
                       patch: ((_ offset: Int, _ bytes: [UInt8]) throws -> Void)? = nil) throws {
        precondition(1.littleEndian == 1, "TIFF rows are written in host order under an \"II\" header")
        guard compression == .uncompressed || patch != nil else {
            throw RenderError("a compressed TIFF's strip table is written after its strips: write it to a file, not a pipe")
        }
        try header.withUnsafeBytes(output)
        let band = Self.bandRows, rowSamples = 3 * width
        let workers = (0..<max(1, threads)).map { _ in rows.makeWorker(rows: band) }
        let rendered = UnsafeMutableBufferPointer<UnsafePointer<UInt16>?>.allocate(capacity: workers.count)
        defer { rendered.deallocate() }
        let narrow = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: eightBit && compression == .uncompressed ? band * rowSamples : 0)
        defer { narrow.deallocate() }
        // One slot per worker, written by that worker alone (an array would be shared mutable state).
        let strips = UnsafeMutableBufferPointer<Result<[UInt8], any Error>>.allocate(capacity: workers.count)
        _ = strips.initialize(from: repeatElement(.success([]), count: workers.count))
        defer {
            _ = strips.deinitialize()
            strips.deallocate()
        }
        var offsets: [UInt32] = [], byteCounts: [UInt32] = []
        var position = header.count
        var first = 0
        while first < height {
            let bands = (0..<workers.count).map { first + $0 * band }.filter { $0 < height }.map { $0..<min(height, $0 + band) }
            let bitDepth = eightBit ? 8 : 16
            let work = { [compression, width] (i: Int) in
                rendered[i] = workers[i](bands[i])
                if compression == .deflate {
                    strips[i] = Result { try TIFFFile.deflateStrip(rendered[i]!, width: width, rows: bands[i].count, bitDepth: bitDepth) }
                }
            }
            if bands.count == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: bands.count, execute: work) }
            for (i, range) in bands.enumerated() {
                let samples = range.count * rowSamples
                switch compression {
                case .deflate:
                    let strip = try strips[i].get()
                    guard position + strip.count < Int(UInt32.max) else {
                        throw RenderError("the compressed TIFF would pass the 4 GiB a TIFF's offsets reach; write a PNG")
                    }
                    offsets.append(UInt32(position))
                    byteCounts.append(UInt32(strip.count))
                    try strip.withUnsafeBytes(output)
                    position += strip.count
                case .uncompressed where eightBit:
                    for j in 0..<samples { narrow[j] = UInt8(truncatingIfNeeded: rendered[i]![j]) }
                    try output(UnsafeRawBufferPointer(start: narrow.baseAddress, count: samples))
                case .uncompressed:
                    try output(UnsafeRawBufferPointer(start: rendered[i], count: 2 * samples))
                }
            }
            first = bands.last!.upperBound
        }
        if compression == .deflate, let patch {
            let table = TIFFFile.stripTablePositions(in: header)
            func bytes(_ values: [UInt32]) -> [UInt8] { values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } } }
            try patch(table.offsets, bytes(offsets))
            try patch(table.byteCounts, bytes(byteCounts))
        }
    }
}
