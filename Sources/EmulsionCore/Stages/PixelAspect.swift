/// Non-square photosites: resamples so output pixels are square.
///
/// What: linear interpolation along the short axis (rows are stretched when pixels are taller
/// than wide, aspect < 1; columns when wider). Why: some sensors (Nikon D1X, aspect 0.5) record
/// half as many rows as their picture has; without this the image is squashed. Matches dcraw's
/// `stretch()`, which LibRaw's processed size reports. Colour space: any, linear in and out.
public struct PixelAspectSource: StripSource {
    public let inner: any StripSource
    public let aspect: Double
    public let width: Int
    public let height: Int

    public init(inner: any StripSource, aspect: Double) {
        self.inner = inner
        self.aspect = aspect
        if aspect < 1 {
            width = inner.width
            height = Int((Double(inner.height) / aspect).rounded())
        } else {
            width = Int((Double(inner.width) * aspect).rounded())
            height = inner.height
        }
    }

    private func sourceRows(for strip: Strip) -> (Int, Int) {
        if aspect >= 1 { return (strip.firstRow, strip.firstRow + strip.rows) }
        let first = Int(Double(strip.firstRow) * aspect)
        let last = min(inner.height, Int(Double(strip.firstRow + strip.rows - 1) * aspect) + 2)
        return (first, last)
    }

    public func makeScratch(stripRows: Int) -> SourceScratch {
        let innerRows = aspect < 1 ? Int(Double(stripRows) * aspect) + 3 : stripRows
        return SourceScratch(capacity: 0, inner: inner.makeScratch(stripRows: innerRows),
                             innerStrip: StripStorage(width: inner.width, rows: innerRows))
    }

    public func fill(_ strip: Strip, scratch: SourceScratch, engine: Engine) {
        let (first, last) = sourceRows(for: strip)
        let source = scratch.innerStrip!.strip(firstRow: first, rows: last - first)
        inner.fill(source, scratch: scratch.inner!, engine: engine)
        let sourcePlanes = [source.r, source.g, source.b]
        let outPlanes = [strip.r, strip.g, strip.b]
        for row in 0..<strip.rows {
            let y = strip.firstRow + row
            if aspect < 1 {
                let position = Double(y) * aspect
                let y0 = min(Int(position), inner.height - 1)
                let y1 = min(y0 + 1, inner.height - 1)
                let f = Float(position - Double(y0))
                for c in 0..<3 {
                    let a = sourcePlanes[c] + (y0 - first) * inner.width
                    let b = sourcePlanes[c] + (y1 - first) * inner.width
                    let o = outPlanes[c] + row * width
                    for x in 0..<width { o[x] = a[x] + f * (b[x] - a[x]) }
                }
            } else {
                for c in 0..<3 {
                    let a = sourcePlanes[c] + row * inner.width
                    let o = outPlanes[c] + row * width
                    for x in 0..<width {
                        let position = Double(x) / aspect
                        let x0 = min(Int(position), inner.width - 1)
                        let x1 = min(x0 + 1, inner.width - 1)
                        let f = Float(position - Double(x0))
                        o[x] = a[x0] + f * (a[x1] - a[x0])
                    }
                }
            }
        }
    }
}
