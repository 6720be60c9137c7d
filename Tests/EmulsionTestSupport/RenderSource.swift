import EmulsionCore

extension TestSupport {
    /// Runs a strip source strip by strip (`stripRows` rows at a time, so strip seams are
    /// exercised) into interleaved RGB floats: the demosaic and highlight tests' way of looking
    /// at a source's output without the rest of the pipeline.
    public static func renderSource(_ source: any StripSource, engine: Engine = .simd, stripRows: Int = 7) -> [Float] {
        let storage = StripStorage(width: source.width, rows: stripRows)
        let scratch = source.makeScratch(stripRows: stripRows)
        var out = [Float](repeating: 0, count: 3 * source.width * source.height)
        var y = 0
        while y < source.height {
            let strip = storage.strip(firstRow: y, rows: min(stripRows, source.height - y))
            source.fill(strip, scratch: scratch, engine: engine)
            for i in 0..<strip.count {
                out[3 * (y * source.width + i)] = strip.r[i]
                out[3 * (y * source.width + i) + 1] = strip.g[i]
                out[3 * (y * source.width + i) + 2] = strip.b[i]
            }
            y += strip.rows
        }
        return out
    }
}
