/// A rectangle of the picture, as a source of its own: the crop a photographer asks for
/// (`process --crop x,y,w,h`, or `--aspect 16:9` resolved to a rectangle).
///
/// What: fills strips of the rectangle's rows and columns from the same rows of the inner source
/// (the demosaiced, white-balanced frame), so every stage after it sees the cropped frame: a
/// vignette is centred on the crop, local contrast's surround is the crop's, `--max-size` fits
/// the crop, as darktable's pipe crops before its vignette and output scaling.
/// Why here and not on the mosaic: the white balance, the highlight reconstruction and the
/// demosaic then see the whole sensor as without a crop (no edge where the crop cuts), so the
/// cropped pixels are exactly those of the full render wherever no stage depends on position.
/// Cost: rows outside the crop are never rendered; the inner source fills whole rows, so columns
/// outside are demosaiced and dropped.
/// Colour space: any (the inner source's, untouched).
public struct CroppedSource: StripSource {
    public let inner: any StripSource
    /// Top-left of the rectangle in the inner source's coordinates.
    public let x: Int
    public let y: Int
    public let width: Int
    public let height: Int

    public init(inner: any StripSource, x: Int, y: Int, width: Int, height: Int) {
        precondition(x >= 0 && y >= 0 && width >= 1 && height >= 1 && x + width <= inner.width && y + height <= inner.height)
        self.inner = inner
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// Whole rows of the inner source: its strips can be filled in place.
    private var keepsWholeRows: Bool { x == 0 && width == inner.width }

    public func makeScratch(stripRows: Int) -> SourceScratch {
        SourceScratch(capacity: 0, inner: inner.makeScratch(stripRows: stripRows),
                      innerStrip: keepsWholeRows ? nil : StripStorage(width: inner.width, rows: stripRows))
    }

    public func fill(_ strip: Strip, scratch: SourceScratch, engine: Engine) {
        if keepsWholeRows {
            var moved = strip
            moved.firstRow += y
            inner.fill(moved, scratch: scratch.inner!, engine: engine)
            return
        }
        let source = scratch.innerStrip!.strip(firstRow: strip.firstRow + y, rows: strip.rows)
        inner.fill(source, scratch: scratch.inner!, engine: engine)
        for (from, to) in [(source.r, strip.r), (source.g, strip.g), (source.b, strip.b)] {
            for row in 0..<strip.rows {
                (to + row * width).update(from: from + row * inner.width + x, count: width)
            }
        }
    }
}
