extension RawImage {
    /// The rectangle `x ..< x + width`, `y ..< y + height` of this raw as a raw of its own: CFA
    /// and black-level tile re-phased so every photosite keeps its colour and black. For tests
    /// and previews that need a small piece of a large raw. Metadata is kept unchanged but for the
    /// picture areas a DNG marks (default and user crop), moved with the piece and clipped to it.
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> RawImage {
        precondition(x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= width && y + h <= height)
        let perPixel = cfa == nil ? 3 : 1
        var out = [UInt16]()
        out.reserveCapacity(w * h * perPixel)
        for row in y..<(y + h) {
            let start = (row * width + x) * perPixel
            out.append(contentsOf: samples[start..<(start + w * perPixel)])
        }
        var tile = [Float]()
        for r in 0..<levels.blackTileHeight {
            for c in 0..<levels.blackTileWidth { tile.append(levels.black(row: r + y, column: c + x)) }
        }
        let shiftedLevels = SensorLevels(blackTileWidth: levels.blackTileWidth, blackTileHeight: levels.blackTileHeight,
                                         blackTile: tile, white: levels.white)
        let shiftedLayout: Layout = cfa.map { .mosaic($0.shifted(rows: y, columns: x)) } ?? .rgb
        var image = RawImage(width: w, height: h, layout: shiftedLayout, samples: out, levels: shiftedLevels,
                             colour: colour, metadata: metadata)
        image.lensShading = lensShading?.shifted(x: x, y: y)
        image.lensWarp = lensWarp?.shifted(x: x, y: y)
        image.lensVignette = lensVignette?.shifted(x: x, y: y)
        let piece = ImageRectangle(x: x, y: y, width: w, height: h)
        image.metadata.defaultCrop = metadata.defaultCrop?.within(piece)
        image.metadata.userCrop = metadata.userCrop?.within(piece)
        return image
    }
}
