#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import EmulsionCore

/// The tiles of a compression-7 CFA DNG (lossless JPEG, LJ92; or the DCT variant, SOF1, that
/// Blackmagic writes and LibRaw's loader also takes), decoded in parallel straight into the
/// visible area, as LibRaw's `lossless_dng_load_raw` would lay them out.
///
/// Why: LibRaw decodes LJ92 DNGs (Google Pixel, Blackmagic) on one thread, then Emulsion copies
/// the visible area out of its raw buffer; here each tile is decoded on its own thread into the
/// image's array, through LibRaw's linearisation curve (docs/PERFORMANCE.md, "LJ92 DNG decode").
/// LibRaw still identifies the file and supplies every piece of metadata; this replaces only
/// `libraw_unpack`, and only where the result is the same: `RawFile.losslessTiles` requires
/// LibRaw's own choice of loader, one CFA directory of LibRaw's raw size, LJ92 (compression 7),
/// one sample per pixel, several tiles of LONG offsets, no masked areas; each tile's JPEG must
/// fill its tile exactly (no spill into the next, as LibRaw's layout would allow). Any tile that
/// `LosslessJPEG` cannot decode with certainty makes `decode` return nil: LibRaw then decodes
/// the whole file as before, with its own result or error. Tests compare with LibRaw's unpack on
/// every LJ92 sample (`LosslessJPEGTests`).
///
/// Layout (LibRaw 0.20 `lossless_dng_load_raw`): tiles in row-major order from the top left;
/// within a tile, the JPEG's `wide × clrs` values of each row follow on, row-major, in rows of
/// `min(TileWidth, raw width)`; each value goes through `curve[]` (`adobe_copy_pixel`); values
/// outside the raw area are skipped. Reference: DNG 1.6 §3 (tiles, compression 7), TIFF 6.0 §15.
struct LosslessDNGTiles: Sendable, Equatable {
    var offsets: [Int]
    var counts: [Int]
    var tileWidth: Int
    var tileLength: Int
    var rawWidth: Int
    var rawHeight: Int
    /// The visible area LibRaw reports (its margins and size).
    var top: Int
    var left: Int
    var width: Int
    var height: Int
    var dngVersion: UInt32
    /// LibRaw's linearisation curve, 65 536 entries, or none where it is the identity (no
    /// LinearizationTable: every phone DNG; `RawFile.losslessTiles` leaves it empty then), so
    /// that no 128 KB table is built to copy values.
    var curve: [UInt16] = []

    var tilesAcross: Int { (rawWidth + tileWidth - 1) / tileWidth }
    var tilesDown: Int { (rawHeight + tileLength - 1) / tileLength }

    /// Whether the geometry is one this decoder lays out exactly as LibRaw does.
    var isConsistent: Bool {
        tileWidth > 0 && tileLength > 0 && rawWidth > 0 && rawHeight > 0 && width > 0 && height > 0
            && top >= 0 && left >= 0 && top + height <= rawHeight && left + width <= rawWidth
            && tileWidth <= 65535 * 6 && tileLength <= 65535
            && offsets.count == counts.count && offsets.count == tilesAcross * tilesDown && offsets.count >= 2
            && (curve.isEmpty || curve.count == 0x10000)
    }

    /// The visible-area samples, or nil when LibRaw should decode the file instead.
    ///
    /// Each tile is read (`copyBytes`, into a buffer of its own) and decoded on one of the
    /// threads, so reading ~1 byte per sample overlaps decoding, and no whole-file copy is made;
    /// with at least two tiles per core, a thread takes two and decodes them together where they
    /// are alike (`decodeTilePair`: 12 MP phone capture, tile phase 29 → 26 ms).
    /// The output is not zeroed first: when every tile decodes, the tiles cover the raw area
    /// (`isConsistent`), each fills its own rows and columns exactly (`decodeTile`), so every
    /// visible sample is written once; when one fails, the array is dropped. Zeroing a 12 MP
    /// phone capture's 24 MB on one thread took 12 ms of its 48 ms decode, for values that are
    /// all overwritten (docs/PERFORMANCE.md, session 15). Debug builds fill it with a marker
    /// instead, so the comparisons with LibRaw (`LosslessJPEGTests`) would see a sample left out.
    func decode(file: any ByteSource) -> [UInt16]? {
        guard isConsistent else { return nil }
        // Each tile's bytes as the directory gives them (clamped to the file); the decoder gives
        // up rather than guess where LibRaw would read on past them.
        var ranges: [(offset: Int, count: Int)] = []
        for (offset, count) in zip(offsets, counts) {
            guard offset >= 0, count > 0, offset < file.count else { return nil }
            ranges.append((offset, min(count, file.count - offset)))
        }
        let total = width * height
        var failed = [Bool](repeating: false, count: ranges.count)
        // Without a LinearizationTable LibRaw's curve is the identity (phone DNGs): then a run of
        // values is a copy, not a lookup per sample in a 128 KB table (a nil table below).
        let identity = curve.isEmpty || RawFile.isIdentity(curve)
        let samples = [UInt16](unsafeUninitializedCapacity: total) { out, initialised in
            let base = out.baseAddress!
            MemoryAdvice.preferHugePages(UnsafeMutableRawBufferPointer(out))
            #if DEBUG
            base.initialize(repeating: Self.unwrittenMarker, count: total)
            #endif
            let outBox = OutputPointer(base)
            failed.withUnsafeMutableBufferPointer { flags in
                let flagBox = FlagPointer(flags.baseAddress!)
                curve.withUnsafeBufferPointer { curve in
                    let curveBox = CurvePointer(identity ? nil : curve.baseAddress)
                    // Tiles two at a time (`decodeTilePair`) where that still leaves every core
                    // a pair; one at a time otherwise.
                    let perTask = ranges.count >= 2 * Executor.defaultThreads ? 2 : 1
                    ParallelLoop.run(iterations: (ranges.count + perTask - 1) / perTask) { task in
                        let first = task * perTask, last = min(first + perTask, ranges.count) - 1
                        let ok = withTileBytes(ranges[first], file) { firstBytes in
                            guard last > first else {
                                return decodeTile(first, bytes: firstBytes, into: outBox.pointer, curve: curveBox.pointer)
                            }
                            return withTileBytes(ranges[last], file) { lastBytes in
                                decodeTilePair(first, firstBytes, last, lastBytes, into: outBox.pointer, curve: curveBox.pointer)
                            }
                        }
                        if !ok { flagBox.pointer[first] = true }
                    }
                }
            }
            initialised = total
        }
        return failed.contains(true) ? nil : samples
    }

    /// What a debug build's output holds before the tiles are decoded (see `decode`).
    static let unwrittenMarker: UInt16 = 0xDEAD

    /// A tile's bytes, read into a buffer of the calling thread's own for `body`. At most two
    /// tiles per thread are held at once (each clamped to the file's size), where every tile
    /// was read before the first was decoded.
    private func withTileBytes(_ range: (offset: Int, count: Int), _ file: any ByteSource,
                               _ body: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: range.count) { tile in
            file.copyBytes(range.offset, into: UnsafeMutableRawBufferPointer(tile))
            return body(UnsafeBufferPointer(tile))
        }
    }

    /// Tile `t` into the visible area. Tiles cover disjoint areas (`fillsItsTile`, and the DCT
    /// layout's own check), so threads never write the same element. A nil `curve` is the
    /// identity, here and below.
    private func decodeTile(_ t: Int, bytes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt16>,
                            curve: UnsafePointer<UInt16>?) -> Bool {
        guard let jpeg = LosslessJPEG(bytes) else { return false }
        return decodeTile(t, jpeg, bytes: bytes, into: out, curve: curve)
    }

    /// Tile `t`, its JPEG header already parsed.
    private func decodeTile(_ t: Int, _ jpeg: LosslessJPEG, bytes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt16>,
                            curve: UnsafePointer<UInt16>?) -> Bool {
        if jpeg.algo == 0xC1 {
            let trow = (t / tilesAcross) * tileLength, tcol = (t % tilesAcross) * tileWidth
            return decodeDCTTile(jpeg, bytes: bytes, trow: trow, tcol: tcol, into: out, curve: curve)
        }
        guard fillsItsTile(jpeg) else { return false }
        return jpeg.decode(bytes, dngVersion: dngVersion, row: placer(t, jpeg, into: out, curve: curve))
    }

    /// Tiles `t` and `u`, decoded together (`LosslessJPEG.decodeTogether`) where they are alike
    /// (predictor 1, one table, the same size: phone DNGs), else one after the other; false if
    /// either fails.
    private func decodeTilePair(_ t: Int, _ tBytes: UnsafeBufferPointer<UInt8>, _ u: Int, _ uBytes: UnsafeBufferPointer<UInt8>,
                                into out: UnsafeMutablePointer<UInt16>, curve: UnsafePointer<UInt16>?) -> Bool {
        // A header that does not parse fails the image whichever way the tiles are decoded.
        guard let first = LosslessJPEG(tBytes), let second = LosslessJPEG(uBytes) else { return false }
        if fillsItsTile(first), fillsItsTile(second),
           let together = LosslessJPEG.decodeTogether(
               first, tBytes, second, uBytes, dngVersion: dngVersion,
               rows: placer(t, first, into: out, curve: curve), placer(u, second, into: out, curve: curve)) {
            return together
        }
        return decodeTile(t, first, bytes: tBytes, into: out, curve: curve)
            && decodeTile(u, second, bytes: uBytes, into: out, curve: curve)
    }

    /// Whether an LJ92 tile's JPEG fills its tile exactly, as this decoder lays it out.
    private func fillsItsTile(_ jpeg: LosslessJPEG) -> Bool {
        let rowWidth = min(tileWidth, rawWidth)
        let values = jpeg.wide * jpeg.clrs
        // LibRaw copies clrs × as many values per JPEG row when clrs² × wide is the raw width
        // (reading on past the decoded row): not reproduced here.
        if jpeg.clrs > 1 && jpeg.clrs * values == rawWidth { return false }
        // The JPEG must fill its tile exactly: whole rows of the tile, as many as it has.
        return (values * jpeg.high) == rowWidth * tileLength
    }

    /// Where tile `t`'s decoded JPEG rows go: each row's visible values, through the curve.
    private func placer(_ t: Int, _ jpeg: LosslessJPEG, into out: UnsafeMutablePointer<UInt16>,
                        curve: UnsafePointer<UInt16>?) -> (UnsafePointer<UInt16>, Int) -> Void {
        let trow = (t / tilesAcross) * tileLength, tcol = (t % tilesAcross) * tileWidth
        let rowWidth = min(tileWidth, rawWidth)
        let values = jpeg.wide * jpeg.clrs
        let (top, left, width, height) = (self.top, self.left, self.width, self.height)
        // Position within the tile where each JPEG row starts.
        return { row, jrow in
            var index = jrow * values
            var k = 0
            while k < values {
                let r = index / rowWidth, c = index % rowWidth
                let span = min(rowWidth - c, values - k)
                let y = trow + r - top
                if y >= 0 && y < height {
                    // Visible columns of this run: [tcol + c, tcol + c + span) ∩ [left, left + width).
                    let from = max(tcol + c, left), to = min(tcol + c + span, left + width)
                    if from < to {
                        let destination = out + y * width - left
                        let source = row + k - (tcol + c)
                        if let curve {
                            for x in from..<to { destination[x] = curve[Int(source[x])] }
                        } else {
                            (destination + from).update(from: source + from, count: to - from)
                        }
                    }
                }
                k += span
                index += span
            }
        }
    }
}

extension LosslessDNGTiles {
    /// A DCT tile (Blackmagic): LibRaw puts block (jrow, jcol) at tile row jcol / TileWidth +
    /// 2·jrow, column jcol mod TileWidth, its eight rows on every other tile row. Taken only where
    /// that fills the tile exactly once: a JPEG twice the tile's width and half its length, in
    /// whole blocks (the two halves of each JPEG block row interleave as even and odd rows).
    fileprivate func decodeDCTTile(_ jpeg: LosslessJPEG, bytes: UnsafeBufferPointer<UInt8>, trow: Int, tcol: Int,
                                   into out: UnsafeMutablePointer<UInt16>, curve: UnsafePointer<UInt16>?) -> Bool {
        guard tileWidth % 8 == 0, jpeg.wide == 2 * tileWidth, 2 * jpeg.high == tileLength, jpeg.high % 8 == 0 else { return false }
        return jpeg.decodeBlocks(bytes, dngVersion: dngVersion) { block, jrow, jcol in
            let row = trow + jcol / tileWidth + jrow * 2, col = tcol + jcol % tileWidth
            // The block's columns inside the visible area, worked out once per block.
            let first = max(0, left - col), last = min(8, width + left - col)
            guard first < last else { return }
            for i in 0..<8 {
                let y = row + 2 * i - top
                guard y >= 0 && y < height else { continue }
                let target = out + y * width + col - left, source = block + i * 8
                if let curve {
                    for j in first..<last { target[j] = curve[Int(source[j])] }
                } else {
                    (target + first).update(from: source + first, count: last - first)
                }
            }
        }
    }
}

private struct OutputPointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<UInt16>
    init(_ p: UnsafeMutablePointer<UInt16>) { pointer = p }
}
private struct FlagPointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Bool>
    init(_ p: UnsafeMutablePointer<Bool>) { pointer = p }
}
private struct CurvePointer: @unchecked Sendable {
    let pointer: UnsafePointer<UInt16>?
    init(_ p: UnsafePointer<UInt16>?) { pointer = p }
}
