import EmulsionCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// Writes a `RawImage` as a DNG 1.4 file (little-endian TIFF), in pure Swift.
///
/// What: one IFD (IFD0, NewSubFileType 0) holds the raw image itself, 16-bit samples stored either
/// as a single uncompressed strip or, for mosaics, as lossless JPEG tiles (Compression 7, the
/// layout phones write: `SampleStorage`), partial tiles at the right and bottom edges padded by
/// repeating the last column and row: a CFA mosaic (PhotometricInterpretation 32803,
/// CFARepeatPatternDim + CFAPattern for any pattern `CFAPattern` can hold, Bayer or X-Trans) or,
/// for `.rgb` layouts, three-sample LinearRaw (34892). Around it: Make, Model, UniqueCameraModel,
/// Orientation, Software, DateTime, DNGVersion 1.4.0.0, DNGBackwardVersion 1.1.0.0, BlackLevel
/// (+ BlackLevelRepeatDim for a per-position tile), WhiteLevel, ColorMatrix/CameraCalibration/
/// ForwardMatrix and CalibrationIlluminant for each recorded calibration, AnalogBalance (when not
/// ones), AsShotNeutral, BaselineExposure, the image's lens shading as GainMap opcodes in
/// OpcodeList2 (when its maps span the whole image), its lens warp and vignette as WarpRectilinear
/// and FixVignetteRadial opcodes in OpcodeList3 (likewise, in the vignette's recorded order), and an Exif IFD with ExposureTime, FNumber,
/// ISOSpeedRatings, ExifVersion, DateTimeOriginal, FocalLength and LensModel.
/// No thumbnail and no preview: the raw in IFD0 with no SubIFDs is the simplest layout the DNG
/// specification allows, and LibRaw 0.20 reads it (checked with `raw-identify` and `dcraw_emu` in the
/// tests: size, CFA layout, black, white, matrices, white balance and rendered colours; the tiles
/// against LibRaw's own unpack).
/// Why: the synthetic scene becomes a real file that LibRaw, darktable or RawTherapee can open, and the
/// project's reader can be tested against a file whose content is known exactly.
///
/// DefaultCropOrigin, DefaultCropSize and DefaultUserCrop when the image's metadata marks them.
/// Not written: pixel aspect (DefaultScale), opcodes other than GainMap, lens
/// shading of a cropped image (maps offset from the image's origin: no ActiveArea is written),
/// linearisation tables and the second white level per colour; the image is written as its
/// visible area.
/// Reference: Adobe DNG Specification 1.4.0.0 (2012), chapters 4–6, and 1.6 chapter 7 (opcode
/// lists); TIFF 6.0 (1992) for the container (tags in ascending order, values over four bytes stored
/// out of line at word-aligned offsets; tiles §15).
/// Colour space: none is transformed; sensor samples and matrices are written as they are in the image.
public enum DNGWriter {
    /// Why a DNG could not be written, in one line.
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    /// How the samples are stored.
    public enum SampleStorage: Sendable, Equatable {
        /// One uncompressed strip.
        case uncompressed
        /// Lossless JPEG tiles of this size (Compression 7), as phones store their raws; mosaic
        /// images only. TIFF 6.0 §15: both sides multiples of 16. Even tiles (in TileOffsets
        /// order) share one Huffman table between their two components, odd ones give each its own.
        case losslessJPEGTiles(width: Int, height: Int)
    }

    /// The DNG file's bytes.
    public static func encode(_ image: RawImage, storage: SampleStorage = .uncompressed) throws -> [UInt8] {
        try validate(image, storage: storage)
        var entries = mainEntries(image)
        let chunks: [[UInt8]]
        switch storage {
        case .uncompressed:
            chunks = [pixelBytes(image)]
            entries += [.long(273, [0]),  // StripOffsets: patched by the builder
                        .long(278, [UInt32(image.height)]), .long(279, [UInt32(image.samples.count * 2)])]
        case .losslessJPEGTiles(let tileWidth, let tileHeight):
            chunks = try losslessTiles(image, tileWidth: tileWidth, tileHeight: tileHeight)
            entries[entries.firstIndex { $0.tag == 259 }!] = .short(259, [7])
            entries += [.long(322, [UInt32(tileWidth)]), .long(323, [UInt32(tileHeight)]),
                        .long(324, [UInt32](repeating: 0, count: chunks.count)),  // TileOffsets: patched by the builder
                        .long(325, chunks.map { UInt32($0.count) })]
        }
        if !image.metadata.artist.isEmpty { entries.append(.text(315, image.metadata.artist)) }
        if !image.metadata.copyright.isEmpty { entries.append(.text(33432, image.metadata.copyright)) }
        // The rating as ExifTool writes it into a raw, for `RawFile` to read back.
        // (A rating outside −1…5, which no reader gives, is not written: `UInt16` would trap on it.)
        if let rating = image.metadata.rating, XMPRating.range.contains(rating) {
            entries.append(.short(0x4746, [rating < 0 ? 0xFFFF : UInt16(rating)]))
        }
        return TIFFBuilder.build(ifd0: entries, exif: exifEntries(image.metadata, taken: image.metadata.timestamp != 0 ? exifDate(image.metadata.timestamp) : nil),
                                 gps: gpsEntries(image.metadata.location), chunks: chunks)
    }

    /// Writes the DNG to `url`, replacing any file there.
    public static func write(_ image: RawImage, to url: URL, storage: SampleStorage = .uncompressed) throws {
        let bytes = try encode(image, storage: storage)
        // A temporary beside the target, then rename: Foundation's `.atomic` on Linux leaves an
        // empty TemporaryDirectory.* folder in /tmp behind on every write.
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try Data(bytes).write(to: temporary)
            if rename(temporary.path, url.path) != 0 {
                let reason = String(cString: strerror(errno))
                try? FileManager.default.removeItem(at: temporary)
                throw Failure("cannot write DNG \(url.path): \(reason)")
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw Failure("cannot write DNG \(url.path): \(PlainFile.reason(for: error))")
        }
    }

    // MARK: Tags

    static func validate(_ image: RawImage, storage: SampleStorage) throws {
        guard image.width > 0, image.height > 0 else { throw Failure("cannot write a DNG of an empty image") }
        let perPixel = image.cfa == nil ? 3 : 1
        guard image.samples.count == image.width * image.height * perPixel else {
            throw Failure("cannot write DNG: \(image.samples.count) samples for \(image.width)×\(image.height)×\(perPixel)")
        }
        guard image.samples.count * 2 < Int(UInt32.max) - 1 << 20 else {
            throw Failure("cannot write DNG: image too large for one uncompressed strip (over 4 GiB)")
        }
        if case .losslessJPEGTiles(let w, let h) = storage {
            guard image.cfa != nil else { throw Failure("cannot write DNG: lossless JPEG tiles are for mosaic images") }
            guard w > 0, h > 0, w % 16 == 0, h % 16 == 0, w <= 65535, h <= 65535 else {
                throw Failure("cannot write DNG: tile \(w)×\(h) is not a multiple of 16 on both sides")
            }
        }
    }

    static func mainEntries(_ image: RawImage) -> [TIFFEntry] {
        let meta = image.metadata, colour = image.colour
        let spp = image.cfa == nil ? 3 : 1
        var e: [TIFFEntry] = [
            .long(254, [0]),
            .long(256, [UInt32(image.width)]),
            .long(257, [UInt32(image.height)]),
            .short(258, Array(repeating: 16, count: spp)),
            .short(259, [1]),
            .short(262, [image.cfa == nil ? 34892 : 32803]),
            .ascii(271, meta.make.isEmpty ? "Unknown" : meta.make),
            .ascii(272, meta.model.isEmpty ? "Unknown" : meta.model),
            .short(274, [UInt16(meta.orientation.rawValue)]),
            .short(277, [UInt16(spp)]),
            .short(284, [1]),
            .byte(50706, [1, 4, 0, 0]),
            .byte(50707, [1, 1, 0, 0]),
            .ascii(50708, uniqueCameraModel(meta)),
            .long(50717, [UInt32(max(0, min(Float(UInt32.max), image.levels.white.rounded())))]),
            .srational(50730, [colour.baselineExposure.isFinite ? Double(colour.baselineExposure) : 0]),
        ]
        if !meta.software.isEmpty { e.append(.ascii(305, meta.software)) }
        if meta.timestamp != 0 { e.append(.ascii(306, exifDate(meta.timestamp))) }
        if let cfa = image.cfa {
            e.append(.short(33421, [UInt16(cfa.height), UInt16(cfa.width)]))
            e.append(.byte(33422, cfa.colours))
            e.append(.byte(50710, [0, 1, 2]))  // CFAPlaneColor: red, green, blue
            e.append(.short(50711, [1]))  // CFALayout: rectangular
        }
        e.append(contentsOf: blackLevelEntries(image.levels, samplesPerPixel: spp))
        for (i, cal) in image.colour.dngCalibrations.prefix(2).enumerated() {
            let k = UInt16(i)  // tag pairs: 1 then 2
            if let cm = cal.colorMatrix { e.append(.srational(50721 + k, cm.m)) }
            if cal.cameraCalibration != .identity { e.append(.srational(50723 + k, cal.cameraCalibration.m)) }
            e.append(.short(50778 + k, [UInt16(clamping: cal.illuminant)]))
            if let fm = cal.forwardMatrix { e.append(.srational(50964 + k, fm.m)) }
        }
        if colour.analogBalance != .one {
            e.append(.rational(50727, (0..<3).map { Double(colour.analogBalance[$0]) }))
        }
        if let neutral = asShotNeutral(colour) { e.append(.rational(50728, neutral)) }
        if let crop = meta.defaultCrop {
            e.append(.long(50719, [UInt32(crop.x), UInt32(crop.y)]))
            e.append(.long(50720, [UInt32(crop.width), UInt32(crop.height)]))
        }
        if let user = meta.userCrop {
            // Top, left, bottom, right as fractions of the default crop (DNG 1.6).
            let base = meta.defaultCrop ?? ImageRectangle(x: 0, y: 0, width: image.width, height: image.height)
            let w = Double(base.width), h = Double(base.height)
            e.append(.rational(51125, [Double(user.y - base.y) / h, Double(user.x - base.x) / w,
                                       Double(user.maxY - base.y) / h, Double(user.maxX - base.x) / w]))
        }
        if let shading = image.lensShading, shading.offsetX == 0, shading.offsetY == 0,
           shading.imageWidth == image.width, shading.imageHeight == image.height {
            e.append(.undefined(51009, DNGOpcodes.listBytes(gainMaps: shading.maps)))
        }
        var warp: DNGOpcodes.Warp?, vignette: DNGOpcodes.Vignette?
        if let w = image.lensWarp, w.offsetX == 0, w.offsetY == 0, w.imageWidth == image.width, w.imageHeight == image.height {
            warp = .init(planes: w.planes, centreX: w.centreX, centreY: w.centreY)
        }
        if let v = image.lensVignette, v.offsetX == 0, v.offsetY == 0, v.imageWidth == image.width, v.imageHeight == image.height {
            vignette = .init(coefficients: v.coefficients, centreX: v.centreX, centreY: v.centreY)
        }
        if warp != nil || vignette != nil {
            e.append(.undefined(51022, DNGOpcodes.listBytes(warp: warp, vignette: vignette,
                                                            vignetteFirst: image.lensVignette?.precedesWarp ?? false)))
        }
        e.append(.long(34665, [0]))  // ExifIFD: patched by the builder
        return e
    }

    /// The mosaic cut into `tileWidth × tileHeight` tiles, row-major from the top left, each as a
    /// lossless JPEG stream; partial tiles repeat their last column and row (LibRaw and the DNG
    /// SDK skip what lies outside the image). Tiles are encoded in parallel.
    static func losslessTiles(_ image: RawImage, tileWidth: Int, tileHeight: Int) throws -> [[UInt8]] {
        let across = (image.width + tileWidth - 1) / tileWidth, down = (image.height + tileHeight - 1) / tileHeight
        let largest = Int(image.samples.max() ?? 0)
        guard largest < 1 << 15 else {
            throw Failure("cannot write DNG: lossless JPEG tiles here hold samples of at most 15 bits")
        }
        let precision = max(2, Int.bitWidth - largest.leadingZeroBitCount)
        let results = TileResults(count: across * down)
        image.samples.withUnsafeBufferPointer { samples in
            let source = UncheckedPointer(samples.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: across * down) { t in
                let x0 = t % across * tileWidth, y0 = t / across * tileHeight
                var tile = [UInt16](repeating: 0, count: tileWidth * tileHeight)
                for y in 0..<tileHeight {
                    let row = min(y0 + y, image.height - 1) * image.width
                    for x in 0..<tileWidth { tile[y * tileWidth + x] = source.pointer[row + min(x0 + x, image.width - 1)] }
                }
                // Every other tile codes each component with its own table: a Pixel 7's DNG mixes
                // both kinds, and its decoder takes a loop of its own for each (LosslessJPEG's
                // `SampleTables`), so the synthetic capture measures both.
                let bytes = tile.withUnsafeBufferPointer {
                    LosslessJPEGEncoder.encode($0, width: tileWidth, height: tileHeight, precision: precision,
                                               tables: t % 2 == 0 ? .shared : .perComponent)
                }
                results.set(t, bytes)
            }
        }
        return results.values
    }

    /// A read-only pointer handed to concurrent tile encoders.
    struct UncheckedPointer: @unchecked Sendable {
        let pointer: UnsafePointer<UInt16>
        init(_ pointer: UnsafePointer<UInt16>) { self.pointer = pointer }
    }

    /// Tile streams collected from concurrent encoders, each written once under a lock.
    final class TileResults: @unchecked Sendable {
        private var streams: [[UInt8]]
        private let lock = ThreadLock()
        init(count: Int) { streams = Array(repeating: [], count: count) }
        func set(_ index: Int, _ bytes: [UInt8]) { lock.lock(); streams[index] = bytes; lock.unlock() }
        var values: [[UInt8]] { lock.lock(); defer { lock.unlock() }; return streams }
    }

    static func uniqueCameraModel(_ meta: ShotMetadata) -> String {
        let s = [meta.make, meta.model].filter { !$0.isEmpty }.joined(separator: " ")
        return s.isEmpty ? "Unknown" : s
    }

    /// AsShotNeutral from the image's neutral, else from the reciprocal of its as-shot multipliers.
    static func asShotNeutral(_ colour: CameraColour) -> [Double]? {
        if let n = colour.asShotNeutral, n.x > 0, n.y > 0, n.z > 0 { return (0..<3).map { Double(n[$0]) } }
        if let m = colour.asShotMultipliers, m.x > 0, m.y > 0, m.z > 0 {
            let n = (0..<3).map { 1 / Double(m[$0]) }
            return n.map { $0 / n[1] }
        }
        return nil
    }

    static func blackLevelEntries(_ levels: SensorLevels, samplesPerPixel spp: Int) -> [TIFFEntry] {
        var e: [TIFFEntry] = []
        let tile = levels.blackTile.map(Double.init)
        if levels.blackTileWidth != 1 || levels.blackTileHeight != 1 {
            e.append(.short(50713, [UInt16(levels.blackTileHeight), UInt16(levels.blackTileWidth)]))
        }
        let values = tile.flatMap { Array(repeating: $0, count: spp) }
        if values.allSatisfy({ $0 == $0.rounded() && $0 >= 0 && $0 <= 65535 }) {
            e.append(.short(50714, values.map { UInt16($0) }))
        } else {
            e.append(.rational(50714, values.map { max(0, $0) }))
        }
        return e
    }

    /// The Exif IFD's entries; `taken` is DateTimeOriginal as written ("YYYY:MM:DD HH:MM:SS"),
    /// nil for none: this writer's UTC reading of the seconds, or the camera's clock
    /// (`CaptureTime`) for an output's Exif.
    static func exifEntries(_ meta: ShotMetadata, taken: String?) -> [TIFFEntry] {
        var e: [TIFFEntry] = [.undefined(36864, Array("0230".utf8))]
        if meta.shutterSeconds > 0 { e.append(.rational(33434, [Double(meta.shutterSeconds)])) }
        if meta.aperture > 0 { e.append(.rational(33437, [Double(meta.aperture)])) }
        if meta.iso > 0 { e.append(.short(34855, [UInt16(clamping: Int(meta.iso.rounded()))])) }
        if let taken { e.append(.ascii(36867, taken)) }
        if meta.focalLength > 0 { e.append(.rational(37386, [Double(meta.focalLength)])) }
        if !meta.lens.isEmpty { e.append(.text(42036, meta.lens)) }
        return e
    }

    /// The GPS IFD's entries (Exif 2.32 §4.6.6): GPSVersionID 2.3.0.0, then each part of the
    /// location recorded: latitude and longitude as a reference letter and degrees, minutes,
    /// seconds (`GPSLocation.sexagesimal`), altitude as above/below sea level and metres,
    /// the time of the fix as UTC hours, minutes, seconds. None for no location.
    static func gpsEntries(_ location: GPSLocation?) -> [TIFFEntry] {
        guard let location, !location.isEmpty else { return [] }
        var e: [TIFFEntry] = [.byte(0, [2, 3, 0, 0])]
        func angle(_ refTag: UInt16, _ value: Double?, positive: String, negative: String) {
            guard let value else { return }
            let a = GPSLocation.sexagesimal(value)
            e.append(.ascii(refTag, value < 0 ? negative : positive))
            e.append(.rational(refTag + 1, [a.degrees, a.minutes, a.seconds]))
        }
        angle(1, location.latitude, positive: "N", negative: "S")
        angle(3, location.longitude, positive: "E", negative: "W")
        if let altitude = location.altitude {
            e.append(.byte(5, [altitude < 0 ? 1 : 0]))
            e.append(.rational(6, [abs(altitude)]))
        }
        if let t = location.secondsOfDay {
            let hours = (t / 3600).rounded(.down), minutes = ((t - hours * 3600) / 60).rounded(.down)
            e.append(.rational(7, [hours, minutes, t - hours * 3600 - minutes * 60]))
        }
        return e
    }

    /// "YYYY:MM:DD HH:MM:SS" (EXIF 2.3 §4.6.5) for seconds since 1970 UTC; days → civil date by
    /// Howard Hinnant's `civil_from_days`, so no calendar or time-zone lookup is involved.
    static func exifDate(_ seconds: Int) -> String {
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secs = seconds - days * 86400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let y = String(year)
        return String(repeating: "0", count: max(0, 4 - y.count)) + y + ":" + two(month) + ":" + two(day) + " "
            + two(secs / 3600) + ":" + two(secs / 60 % 60) + ":" + two(secs % 60)
    }

    static func pixelBytes(_ image: RawImage) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: image.samples.count * 2)
        image.samples.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<src.count {
                    let v = src[i]
                    dst[2 * i] = UInt8(truncatingIfNeeded: v)
                    dst[2 * i + 1] = UInt8(truncatingIfNeeded: v >> 8)
                }
            }
        }
        return out
    }
}

extension DNGWriter {
    /// One TIFF directory entry with its value already encoded little-endian.
    struct TIFFEntry {
        let tag: UInt16
        let type: UInt16
        let count: UInt32
        var payload: [UInt8]

        static func byte(_ tag: UInt16, _ v: [UInt8]) -> TIFFEntry { TIFFEntry(tag: tag, type: 1, count: UInt32(v.count), payload: v) }

        static func undefined(_ tag: UInt16, _ v: [UInt8]) -> TIFFEntry {
            TIFFEntry(tag: tag, type: 7, count: UInt32(v.count), payload: v)
        }

        /// Text a person wrote (an artist, a copyright notice, a lens name) in an ASCII field as
        /// UTF-8, NUL-terminated (NULs inside dropped): "© Jane Doé" stays readable, as ExifTool
        /// writes it and validates it, where 7-bit ASCII turned it into "? Jane Do?".
        static func text(_ tag: UInt16, _ s: String) -> TIFFEntry {
            let bytes = Array(s.utf8).filter { $0 != 0 } + [0]
            return TIFFEntry(tag: tag, type: 2, count: UInt32(bytes.count), payload: bytes)
        }

        /// NUL-terminated 7-bit ASCII; other characters become "?".
        static func ascii(_ tag: UInt16, _ s: String) -> TIFFEntry {
            let bytes = s.unicodeScalars.map { $0.isASCII && $0.value != 0 ? UInt8($0.value) : UInt8(ascii: "?") } + [0]
            return TIFFEntry(tag: tag, type: 2, count: UInt32(bytes.count), payload: bytes)
        }

        static func short(_ tag: UInt16, _ v: [UInt16]) -> TIFFEntry {
            TIFFEntry(tag: tag, type: 3, count: UInt32(v.count), payload: v.flatMap { le16($0) })
        }

        static func long(_ tag: UInt16, _ v: [UInt32]) -> TIFFEntry {
            TIFFEntry(tag: tag, type: 4, count: UInt32(v.count), payload: v.flatMap { le32($0) })
        }

        /// Unsigned rationals; negative or non-finite values are written as 0.
        static func rational(_ tag: UInt16, _ v: [Double]) -> TIFFEntry {
            let payload = v.flatMap { x -> [UInt8] in
                let (n, d) = fraction(x.isFinite ? max(0, x) : 0, limit: Double(UInt32.max))
                return le32(UInt32(n)) + le32(UInt32(d))
            }
            return TIFFEntry(tag: tag, type: 5, count: UInt32(v.count), payload: payload)
        }

        /// Signed rationals; non-finite values are written as 0.
        static func srational(_ tag: UInt16, _ v: [Double]) -> TIFFEntry {
            let payload = v.flatMap { x -> [UInt8] in
                let (n, d) = fraction(x.isFinite ? x : 0, limit: Double(Int32.max))
                return le32(UInt32(bitPattern: Int32(n))) + le32(UInt32(d))
            }
            return TIFFEntry(tag: tag, type: 10, count: UInt32(v.count), payload: payload)
        }

        /// `x ≈ n / d` with the largest power-of-ten denominator (≤ 10⁶) that keeps |n| within `limit`.
        static func fraction(_ x: Double, limit: Double) -> (Int64, Int64) {
            var d: Int64 = 1_000_000
            while d > 1 && abs(x * Double(d)) > limit { d /= 10 }
            let n = min(max((x * Double(d)).rounded(), -limit), limit)
            return (Int64(n), d)
        }
    }
}

fileprivate func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
fileprivate func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }

extension DNGWriter {
    /// Lays out header, IFD0, its out-of-line values, the Exif IFD and its values, then the pixels.
    enum TIFFBuilder {
        static let stripOffsetsTag: UInt16 = 273
        static let tileOffsetsTag: UInt16 = 324
        static let exifIFDTag: UInt16 = 34665
        static let gpsIFDTag: UInt16 = 34853

        /// `chunks` (the strip, or the tiles) follow the directories, each at a 16-byte boundary;
        /// StripOffsets or TileOffsets receive where each starts. A GPS IFD is written when `gps`
        /// has entries, and IFD0 then points to it (Exif 2.32 §4.6.3, tag 34853).
        static func build(ifd0 entries0: [TIFFEntry], exif entriesExif: [TIFFEntry], gps entriesGPS: [TIFFEntry] = [],
                          chunks: [[UInt8]]) -> [UInt8] {
            let ifd0 = (entriesGPS.isEmpty ? entries0 : entries0 + [.long(gpsIFDTag, [0])]).sorted { $0.tag < $1.tag }
            let exif = entriesExif.sorted { $0.tag < $1.tag }
            let gps = entriesGPS.sorted { $0.tag < $1.tag }
            let ifd0Offset = 8
            let exifOffset = align(ifd0Offset + size(of: ifd0), to: 2)
            let gpsOffset = align(exifOffset + size(of: exif), to: 2)
            var chunkOffsets: [Int] = []
            var end = align(gpsOffset + (gps.isEmpty ? 0 : size(of: gps)), to: 16)
            for chunk in chunks {
                chunkOffsets.append(end)
                end = align(end + chunk.count, to: 16)
            }

            var patched = ifd0
            for i in patched.indices {
                if patched[i].tag == stripOffsetsTag || patched[i].tag == tileOffsetsTag {
                    patched[i].payload = chunkOffsets.flatMap { le32(UInt32($0)) }
                }
                if patched[i].tag == exifIFDTag { patched[i].payload = le32(UInt32(exifOffset)) }
                if patched[i].tag == gpsIFDTag { patched[i].payload = le32(UInt32(gpsOffset)) }
            }
            var out: [UInt8] = [UInt8(ascii: "I"), UInt8(ascii: "I")] + le16(42) + le32(UInt32(ifd0Offset))
            out.reserveCapacity(end)
            append(patched, at: ifd0Offset, to: &out)
            pad(&out, to: exifOffset)
            append(exif, at: exifOffset, to: &out)
            if !gps.isEmpty {
                pad(&out, to: gpsOffset)
                append(gps, at: gpsOffset, to: &out)
            }
            for (chunk, offset) in zip(chunks, chunkOffsets) {
                pad(&out, to: offset)
                out.append(contentsOf: chunk)
            }
            return out
        }

        static func align(_ v: Int, to a: Int) -> Int { (v + a - 1) / a * a }

        static func pad(_ out: inout [UInt8], to offset: Int) {
            precondition(out.count <= offset)
            out.append(contentsOf: repeatElement(0, count: offset - out.count))
        }

        /// Bytes an IFD takes with its out-of-line values (each word-aligned).
        static func size(of entries: [TIFFEntry]) -> Int {
            2 + 12 * entries.count + 4 + entries.reduce(0) { $0 + ($1.payload.count > 4 ? align($1.payload.count, to: 2) : 0) }
        }

        /// Writes the directory at `offset` (which `out` has reached) followed by its out-of-line values.
        static func append(_ entries: [TIFFEntry], at offset: Int, to out: inout [UInt8]) {
            precondition(out.count == offset)
            var valueOffset = offset + 2 + 12 * entries.count + 4
            var values: [UInt8] = []
            out += le16(UInt16(entries.count))
            for e in entries {
                out += le16(e.tag) + le16(e.type) + le32(e.count)
                if e.payload.count <= 4 {
                    out += e.payload + [UInt8](repeating: 0, count: 4 - e.payload.count)
                } else {
                    out += le32(UInt32(valueOffset))
                    values += e.payload
                    if e.payload.count % 2 == 1 { values.append(0) }
                    valueOffset += align(e.payload.count, to: 2)
                }
            }
            out += le32(0)  // no next IFD
            out += values
        }
    }
}
