import EmulsionCore

extension OutputSpace {
    /// `table[code]` = the embedded profile's decoding curve at code / (2^bitDepth − 1): encoded
    /// samples to linear light, exactly as `TransferCurve.decode` gives it, once per space and
    /// depth per process.
    /// Why shared: golden comparisons decode every pixel of two images (`EncodedLabDecoder`), and
    /// a `--max-size` render decodes every full-size sample it averages (`AreaReduction`); each
    /// built the same 65 536 `pow`s for itself, the latter once per file of a batch.
    public func decodingTable(bitDepth: Int) throws(ColourManagementError) -> [Double] {
        precondition(bitDepth == 8 || bitDepth == 16, "bit depth \(bitDepth)")
        let curve = try embeddedProfile().transferCurve
        return DecodingTables.shared.table("\(rawValue)/\(bitDepth)") {
            let maxCode = (1 << bitDepth) - 1
            return (0...maxCode).map { curve.decode(Double($0) / Double(maxCode)) }
        }
    }
}

private final class DecodingTables: @unchecked Sendable {
    static let shared = DecodingTables()
    private let lock = ThreadLock()
    private var tables: [String: [Double]] = [:]

    func table(_ key: String, build: () -> [Double]) -> [Double] {
        lock.lock()
        defer { lock.unlock() }
        if let t = tables[key] { return t }
        let t = build()
        tables[key] = t
        return t
    }
}
