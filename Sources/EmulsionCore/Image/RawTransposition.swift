/// Transposition of a raw (rows become columns): how an image stored on its side (EXIF
/// orientations 5–8, every portrait shot of a phone, which stores the sensor's landscape frame)
/// renders row by row like an upright one.
///
/// Why: an upright output row of such an image is a stored *column*, so a renderer that works in
/// stored rows must render the whole image before it can hand out one output row (a 6 B/px
/// output buffer, then a column-by-column copy into PNG rows: 111 MB and +10–25 % time on a 12 MP
/// phone capture, docs/PERFORMANCE.md, session 17). Transposing the 2 B/px mosaic once instead
/// leaves an orientation without an axis swap (`Orientation.afterTransposition`), which streams.
/// Every photosite keeps its colour, black level and lens-shading gain: the CFA, the black-level
/// tile, the gain maps and the lens warp are transposed with it, the pixel aspect inverted. The
/// demosaic then runs across the transposed mosaic, which gives, up to rounding, the image a
/// renderer makes by demosaicing in stored order and turning afterwards (as darktable's flip
/// module, after its demosaic, does): interpolations add their neighbours in another order; tests
/// state the bound.
///
/// Colour: untouched (sensor DN in, sensor DN out).
extension RawImage {
    /// This raw with rows and columns exchanged — sample (x, y) becomes (y, x) — and the
    /// orientation that turns the result upright (`Orientation.afterTransposition`, never an axis
    /// swap). `threads` share the copy.
    public func transposed(threads: Int = 1) -> RawImage {
        let channels = cfa == nil ? 3 : 1
        let out = RawTransposition.transpose(samples, width: width, height: height, channels: channels, threads: threads)
        var image = RawImage(width: height, height: width, layout: cfa.map { .mosaic($0.transposed) } ?? .rgb,
                             samples: out, levels: levels.transposed, colour: colour, metadata: metadata)
        image.metadata.orientation = metadata.orientation.afterTransposition
        image.metadata.pixelAspect = 1 / metadata.pixelAspect
        (image.metadata.sensorWidth, image.metadata.sensorHeight) = (metadata.sensorHeight, metadata.sensorWidth)
        (image.metadata.cropLeft, image.metadata.cropTop) = (metadata.cropTop, metadata.cropLeft)
        image.metadata.defaultCrop = metadata.defaultCrop?.transposed
        image.metadata.userCrop = metadata.userCrop?.transposed
        image.lensShading = lensShading?.transposed
        image.lensWarp = lensWarp?.transposed
        image.lensVignette = lensVignette?.transposed
        return image
    }
}

extension Orientation {
    /// The orientation that turns a transposed stored image (`RawImage.transposed`) upright, where
    /// `self` turned the image as stored: transpose → as stored, 90° clockwise → mirrored
    /// horizontally, transverse → 180°, 90° counter-clockwise → mirrored vertically (and the
    /// reverse, transposition being its own inverse). Derived from `indexMap`; a test checks it.
    public var afterTransposition: Orientation {
        switch self {
        case .normal: return .transpose
        case .mirrorHorizontal: return .rotate90Clockwise
        case .rotate180: return .transverse
        case .mirrorVertical: return .rotate90CounterClockwise
        case .transpose: return .normal
        case .rotate90Clockwise: return .mirrorHorizontal
        case .transverse: return .rotate180
        case .rotate90CounterClockwise: return .mirrorVertical
        }
    }
}

extension CFAPattern {
    /// The pattern of the transposed mosaic: colour (row, column) is this one's (column, row).
    public var transposed: CFAPattern {
        CFAPattern(width: height, height: width, colours: RawTransposition.transposedGrid(colours, width: width, height: height))
    }
}

extension SensorLevels {
    /// The black-level tile of the transposed mosaic.
    public var transposed: SensorLevels {
        SensorLevels(blackTileWidth: blackTileHeight, blackTileHeight: blackTileWidth,
                     blackTile: RawTransposition.transposedGrid(blackTile, width: blackTileWidth, height: blackTileHeight),
                     white: white)
    }
}

extension GainMap {
    /// The same map over the transposed image: rectangle, pitches, grid and gains exchanged.
    public var transposed: GainMap {
        // An invalid map (`isValid` is false: the count does not match the grid) stays as invalid.
        let grid = gains.count == Self.valueCount(pointsV, pointsH, mapPlanes)
            ? RawTransposition.transposedGrid(gains, width: pointsH, height: pointsV, planes: mapPlanes) : gains
        return GainMap(top: left, left: top, bottom: right, right: bottom, plane: plane, planes: planes,
                       rowPitch: columnPitch, columnPitch: rowPitch, pointsV: pointsH, pointsH: pointsV,
                       spacingV: spacingH, spacingH: spacingV, originV: originH, originH: originV,
                       mapPlanes: mapPlanes, gains: grid)
    }
}

extension LensShading {
    /// The same maps over the transposed image.
    public var transposed: LensShading {
        LensShading(maps: maps.map(\.transposed), offsetX: offsetY, offsetY: offsetX,
                    imageWidth: imageHeight, imageHeight: imageWidth)!
    }
}

/// The sample copy behind `RawImage.transposed`.
public enum RawTransposition {
    /// Stored rows read per pass of the three-sample copy: each pass reads `tileRows` rows (one
    /// cache line each stays in L1 while the pass walks right) and writes `tileRows` consecutive
    /// pixels of every output row.
    static let tileRows = 16

    /// A small row-major grid (`height` rows of `width` cells of `planes` values: a CFA tile, a
    /// black-level tile, a gain map) transposed: cell (x, y) moves to (y, x).
    static func transposedGrid<T>(_ values: [T], width: Int, height: Int, planes: Int = 1) -> [T] {
        precondition(values.count == width * height * planes)
        return (0..<values.count).map { i in
            let (cell, plane) = i.quotientAndRemainder(dividingBy: planes)
            return values[((cell % height) * width + cell / height) * planes + plane]
        }
    }

    /// `samples` (`height` rows of `width` pixels of `channels` samples) transposed: pixel (x, y)
    /// moves to (y, x) of an image `height` pixels wide. Output rows are split between `threads`.
    public static func transpose(_ samples: [UInt16], width: Int, height: Int, channels: Int, threads: Int) -> [UInt16] {
        precondition(samples.count >= width * height * channels && (channels == 1 || channels == 3))
        let count = width * height * channels
        guard count > 0 else { return [] }
        return [UInt16](unsafeUninitializedCapacity: count) { out, initialised in
            samples.withUnsafeBufferPointer { input in
                let source = input.baseAddress!, target = out.baseAddress!
                // Bands of output rows (stored columns) of at least 64 KB of samples each.
                let workers = max(1, min(threads, count / 32_768))
                let work = { (band: Int) in
                    let columns = (band * width / workers) ..< ((band + 1) * width / workers)
                    // This thread's output rows mapped in one call: a page fault per 4 KiB page
                    // costs ~1.9 µs here (6 000 of them at 12 MP), a populated page 1.6× less.
                    MemoryAdvice.populate(UnsafeMutableRawBufferPointer(
                        start: target + columns.lowerBound * height * channels, count: 2 * columns.count * height * channels))
                    if channels == 1 {
                        copy(source, width: width, height: height, columns: columns, into: target)
                    } else {
                        copyPixels(source, width: width, height: height, columns: columns, into: target)
                    }
                }
                ParallelLoop.run(iterations: workers, work)
            }
            initialised = count
        }
    }

    /// One sample per pixel: 8 × 8 blocks through vector interleaves (`transposeBlock`), the
    /// columns and rows past the last whole block one sample at a time. Eight stored rows are
    /// read left to right while 16 bytes go to each output row, whose lines stay in L2 for the
    /// next eight rows. (A 12 MP mosaic, one thread, in C on this machine: 12.7 ms a sample at
    /// a time in tiles, 5.6–7 ms by 8 × 8 blocks of SSE2 interleaves.)
    private static func copy(_ source: UnsafePointer<UInt16>, width: Int, height: Int, columns: Range<Int>,
                             into target: UnsafeMutablePointer<UInt16>) {
        let wholeRows = height & ~7, wholeColumns = columns.lowerBound + (columns.count & ~7)
        var y0 = 0
        while y0 < wholeRows {
            var x = columns.lowerBound
            while x < wholeColumns {
                transposeBlock(UnsafeRawPointer(source + y0 * width + x), stride: 2 * width,
                               into: UnsafeMutableRawPointer(target + x * height + y0), stride: 2 * height)
                x += 8
            }
            for x in wholeColumns..<columns.upperBound {
                for k in 0..<8 { target[x * height + y0 + k] = source[(y0 + k) * width + x] }
            }
            y0 += 8
        }
        for y in wholeRows..<height {
            for x in columns { target[x * height + y] = source[y * width + x] }
        }
    }

    /// The 8 × 8 block of 16-bit samples at `source` (rows `stride` bytes apart) transposed into
    /// `target`: three rounds of interleaving pairs of rows (16-, 32-, then 64-bit lanes), which
    /// LLVM lowers to `punpck{l,h}{wd,dq,qdq}` (SSE2) or `zip1`/`zip2` (NEON): 24 shuffles for 64
    /// samples, against a load and a store per sample.
    @inline(__always)
    static func transposeBlock(_ source: UnsafeRawPointer, stride: Int, into target: UnsafeMutableRawPointer, stride targetStride: Int) {
        typealias Row = SIMD8<UInt16>
        @inline(__always) func row(_ k: Int) -> Row { source.loadUnaligned(fromByteOffset: k * stride, as: Row.self) }
        @inline(__always) func low16(_ a: Row, _ b: Row) -> Row { Row(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3]) }
        @inline(__always) func high16(_ a: Row, _ b: Row) -> Row { Row(a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7]) }
        @inline(__always) func low32(_ a: Row, _ b: Row) -> Row {
            let x = unsafeBitCast(a, to: SIMD4<UInt32>.self), y = unsafeBitCast(b, to: SIMD4<UInt32>.self)
            return unsafeBitCast(SIMD4(x[0], y[0], x[1], y[1]), to: Row.self)
        }
        @inline(__always) func high32(_ a: Row, _ b: Row) -> Row {
            let x = unsafeBitCast(a, to: SIMD4<UInt32>.self), y = unsafeBitCast(b, to: SIMD4<UInt32>.self)
            return unsafeBitCast(SIMD4(x[2], y[2], x[3], y[3]), to: Row.self)
        }
        @inline(__always) func store(_ k: Int, _ a: Row, _ b: Row, high: Bool) {
            let x = unsafeBitCast(a, to: SIMD2<UInt64>.self), y = unsafeBitCast(b, to: SIMD2<UInt64>.self)
            let v = high ? SIMD2(x[1], y[1]) : SIMD2(x[0], y[0])
            target.storeBytes(of: unsafeBitCast(v, to: Row.self), toByteOffset: k * targetStride, as: Row.self)
        }
        let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3), r4 = row(4), r5 = row(5), r6 = row(6), r7 = row(7)
        let a0 = low16(r0, r1), a1 = high16(r0, r1), a2 = low16(r2, r3), a3 = high16(r2, r3)
        let a4 = low16(r4, r5), a5 = high16(r4, r5), a6 = low16(r6, r7), a7 = high16(r6, r7)
        let b0 = low32(a0, a2), b1 = high32(a0, a2), b2 = low32(a1, a3), b3 = high32(a1, a3)
        let b4 = low32(a4, a6), b5 = high32(a4, a6), b6 = low32(a5, a7), b7 = high32(a5, a7)
        store(0, b0, b4, high: false); store(1, b0, b4, high: true)
        store(2, b1, b5, high: false); store(3, b1, b5, high: true)
        store(4, b2, b6, high: false); store(5, b2, b6, high: true)
        store(6, b3, b7, high: false); store(7, b3, b7, high: true)
    }

    private static func copyPixels(_ source: UnsafePointer<UInt16>, width: Int, height: Int, columns: Range<Int>,
                                   into target: UnsafeMutablePointer<UInt16>) {
        var y0 = 0
        while y0 < height {
            let rows = min(tileRows, height - y0)
            for x in columns {
                let column = source + 3 * (y0 * width + x)
                let row = target + 3 * (x * height + y0)
                for k in 0..<rows {
                    let p = column + 3 * k * width
                    row[3 * k] = p[0]; row[3 * k + 1] = p[1]; row[3 * k + 2] = p[2]
                }
            }
            y0 += rows
        }
    }
}
