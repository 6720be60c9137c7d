import CLibRaw
import CLibRawPeek
import EmulsionCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads any format LibRaw reads into a `RawImage`: the visible-area samples with their CFA
/// layout, levels, white balance, colour matrices and shot metadata.
///
/// Why a facade: LibRaw is C with one big mutable struct; everything past this file sees typed,
/// immutable Swift values and one-line errors. The thread-safe `raw_r` library is linked, and each
/// read has its own handle, so reads may run concurrently. Raw values are copied out and the
/// handle closed at once, so peak memory is the raw twice for the length of one copy.
/// Reference: LibRaw API docs (data structures, `libraw_COLOR`), DNG 1.6 §4–6 for DNG fields.
public enum RawFile {
    /// Images above this many pixels are refused before decoding unless the caller raises it.
    public static let defaultPixelLimit = 250_000_000

    /// Decodes `path`. Throws `RawFileError` naming the file and the problem.
    public static func read(path: String, pixelLimit: Int = defaultPixelLimit) throws -> RawImage {
        var (image, deferred) = try readDeferringSamples(path: path, pixelLimit: pixelLimit)
        if let deferred {
            guard let samples = try deferred.read(path: path) else { return try readWithLibRawUnpack(path: path, pixelLimit: pixelLimit) }
            image.samples = samples
        }
        return image
    }

    /// As `read(path:)`, except that the samples Emulsion's own readers can take from the file
    /// (`DeferredSamples`: an uncompressed DNG's, an LJ92 DNG's tiles, a compressed NEF's) are
    /// not read: the image comes back without them, with where they lie, so the decode worker can
    /// let its parent read them from the file instead of piping them over.
    ///
    /// With `mapping` (the decode worker), LibRaw reads a DNG (DNGVersion in IFD0) from a private
    /// mapping of the file (`MappedFile`) instead of through its file stream, and Emulsion's tag
    /// readers read the same mapping.
    static func readDeferringSamples(path: String, pixelLimit: Int = defaultPixelLimit,
                                     mapping: Bool = false) throws -> (RawImage, DeferredSamples?) {
        _ = try InputFileCheck.regularReadableFile(path)
        if mapping, let mapped = MappedFile(path: path), TIFFDirectory.first(mapped)?.entries[50706] != nil {
            return try withExtendedLifetime(mapped) {
                try decode(label: path, header: mapped.bytes(0, min(4, mapped.count)), pixelLimit: pixelLimit, contents: { mapped },
                           defersDecoding: true) {
                    libraw_open_buffer($0, mapped.base, mapped.count)
                }
            }
        }
        return try decode(label: path, header: PlainFile.prefix(of: path, count: 4), pixelLimit: pixelLimit, contents: { FileBytes(path: path) },
                          defersDecoding: true) { libraw_open_file($0, path) }
    }

    /// Decodes a raw file held in memory (fuzzing, tests); `label` names it in errors.
    public static func read(bytes: [UInt8], label: String, pixelLimit: Int = defaultPixelLimit) throws -> RawImage {
        guard !bytes.isEmpty else { throw RawFileError(path: label, problem: "empty file (0 bytes)") }
        var (image, deferred) = try bytes.withUnsafeBytes { buffer in
            try decode(label: label, header: Array(bytes.prefix(4)), pixelLimit: pixelLimit, contents: { bytes }) {
                libraw_open_buffer($0, UnsafeMutableRawPointer(mutating: buffer.baseAddress!), buffer.count)
            }
        }
        if let stored = deferred?.uncompressed { image.samples = try stored.read(bytes: bytes, label: label) }
        return image
    }

    /// Decodes with LibRaw's own unpack even where `UncompressedSamples` or `LosslessDNGTiles`
    /// could read the file (the reference the fast paths are tested against).
    public static func readWithLibRawUnpack(path: String, pixelLimit: Int = defaultPixelLimit) throws -> RawImage {
        _ = try InputFileCheck.regularReadableFile(path)
        return try decode(label: path, header: [], pixelLimit: pixelLimit, contents: { FileBytes(path: path) },
                          allowFastPaths: false) { libraw_open_file($0, path) }.0
    }

    /// As `readWithLibRawUnpack(path:)`, from memory.
    static func readWithLibRawUnpack(bytes: [UInt8], label: String) throws -> RawImage {
        try bytes.withUnsafeBytes { buffer in
            try decode(label: label, header: Array(bytes.prefix(4)), pixelLimit: defaultPixelLimit, contents: { bytes },
                       allowFastPaths: false) {
                libraw_open_buffer($0, UnsafeMutableRawPointer(mutating: buffer.baseAddress!), buffer.count)
            }.0
        }
    }

    /// Makes the LibRaw handle the next decode will use, now: the decode worker calls this
    /// before it waits for a request. `libraw_init` zeroes LibRaw's ~400 KB of state (~100 page
    /// faults, ~0.4 ms on the 0.2 MP crop's critical path, docs/PERFORMANCE.md, session 21); made
    /// while the worker would wait anyway, it overlaps the parent's work instead. A handle holds
    /// no file's state until it is opened, so a spare one is a fresh one.
    public static func prepareSpareHandle() { SpareHandle.shared.prepare() }

    final class SpareHandle: @unchecked Sendable {
        static let shared = SpareHandle()
        private let lock = ThreadLock()
        private var handle: UnsafeMutablePointer<libraw_data_t>?

        func prepare() {
            lock.lock()
            defer { lock.unlock() }
            if handle == nil { handle = libraw_init(0) }
        }

        func take() -> UnsafeMutablePointer<libraw_data_t>? {
            lock.lock()
            defer { lock.unlock() }
            defer { handle = nil }
            return handle
        }
    }

    /// Whether `decode` took the LJ92 tile path for the last file it read on this thread (tests).
    @TaskLocal static var losslessTilesProbe: LosslessTilesProbe?
    final class LosslessTilesProbe: @unchecked Sendable {
        var used = false, declined = false
        /// A fast path's outcome: samples (used) or nil (declined, LibRaw decodes).
        func record(_ decoded: [UInt16]?) { if decoded == nil { declined = true } else { used = true } }
    }
    /// The same for `NikonCompressedSamples`.
    @TaskLocal static var nikonProbe: LosslessTilesProbe?

    /// The shot's metadata as LibRaw's header parse gives it (make, model, lens, ISO, exposure,
    /// capture time, GPS, orientation, sizes), without reading the samples: what
    /// `--name`'s shot variables and `--min-rating` need before a batch is planned, with IFD0's
    /// copyright and rating and a DNG's picture areas as `decode` reads them. Not read: the DNG
    /// opcodes, which need the decode. Throws as `read` does for a file LibRaw cannot open, a
    /// Foveon sensor or one above `pixelLimit`.
    public static func readShotMetadata(path: String, pixelLimit: Int = defaultPixelLimit) throws -> ShotMetadata {
        _ = try InputFileCheck.regularReadableFile(path)
        let file = try opened(label: path, header: PlainFile.prefix(of: path, count: 4), pixelLimit: pixelLimit) {
            libraw_open_file($0, path)
        }
        defer { libraw_close(file.handle) }
        var shot = withExtendedLifetime(file.problems) { metadata(file.handle) }
        // A DNG's directories are parsed once for IFD0 and its picture areas; other raws need only IFD0.
        let bytes = FileBytes(path: path)
        let directories = shot.dngVersion.isEmpty ? [] : bytes.map { TIFFDirectory.all($0) } ?? []
        if let ifd = directories.first ?? bytes.flatMap(TIFFDirectory.first) { readIFD0(ifd, into: &shot) }
        readPictureAreas(directories, width: file.width, height: file.height, into: &shot)
        return shot
    }

    /// A LibRaw handle with the file opened (its header parsed) and checked: an image, within
    /// `pixelLimit`, not Foveon. The caller closes the handle, and keeps `problems` (the data-error
    /// handler's record, which LibRaw holds unretained) alive while it uses it.
    private static func opened(label path: String, header: [UInt8], pixelLimit: Int,
                               open: (UnsafeMutablePointer<libraw_data_t>) -> Int32)
        throws -> (handle: UnsafeMutablePointer<libraw_data_t>, problems: DecodeProblems, width: Int, height: Int) {
        guard let handle = SpareHandle.shared.take() ?? libraw_init(0) else { throw RawFileError(path: path, problem: "cannot initialise LibRaw") }
        // LibRaw prints data errors (such as an unexpected end of file) to stderr by default; we
        // record them instead and report them as this file's one-line error.
        let problems = DecodeProblems()
        libraw_set_dataerror_handler(handle, { context, _, offset in
            guard let context else { return }
            let p = Unmanaged<DecodeProblems>.fromOpaque(context).takeUnretainedValue()
            p.dataError = offset < 0 ? "truncated raw data (unexpected end of file)" : "corrupt raw data at byte \(offset)"
        }, Unmanaged.passUnretained(problems).toOpaque())
        libraw_set_memerror_handler(handle, { _, _, _ in }, nil)
        do {
            let (status, openMessages) = DecoderMessages.capturing { open(handle) }
            if !openMessages.isEmpty, problems.dataError == nil { problems.dataError = "corrupt raw data (decoder: \(openMessages.split(separator: "\n").first.map(String.init) ?? openMessages))" }
            guard status == LIBRAW_SUCCESS.rawValue else {
                var problem = describe(status, opening: true)
                let tiff = header == [0x49, 0x49, 0x2A, 0x00] || header == [0x4D, 0x4D, 0x00, 0x2A]
                if status == LIBRAW_FILE_UNSUPPORTED.rawValue, tiff {
                    problem = "TIFF/DNG structure LibRaw cannot use (damaged, truncated or unsupported)"
                }
                // While identifying a file, LibRaw's end-of-file callback fires for any short file:
                // the open status says more than "truncated" there.
                throw RawFileError(path: path, problem: problem)
            }
            let sizes = emulsion_sizes(handle).pointee
            let width = Int(sizes.width), height = Int(sizes.height)
            guard width > 0, height > 0 else { throw RawFileError(path: path, problem: "no image data (size \(width)×\(height))") }
            guard width * height <= pixelLimit else {
                throw RawFileError(path: path, problem: "image of \(width)×\(height) exceeds the limit of \(pixelLimit / 1_000_000) MP (raise it with --max-megapixels)")
            }
            if emulsion_iparams(handle).pointee.is_foveon != 0 { throw RawFileError(path: path, problem: "unsupported sensor layout (Foveon)") }
            return (handle, problems, width, height)
        } catch {
            libraw_close(handle)
            throw error
        }
    }

    /// `contents` gives the file's bytes for Emulsion's own DNG tag readers (asked only for DNGs).
    /// Returns the image without samples, and where they lie, when `UncompressedSamples` can read
    /// them, or, with `defersDecoding`, when `LosslessDNGTiles` or `NikonCompressedSamples` can
    /// (the caller decodes them, and gives the file to `readWithLibRawUnpack` if that declines).
    private static func decode(label path: String, header: [UInt8], pixelLimit: Int, contents: () -> (any ByteSource)?,
                               allowFastPaths: Bool = true, defersDecoding: Bool = false,
                               open: (UnsafeMutablePointer<libraw_data_t>) -> Int32) throws -> (RawImage, DeferredSamples?) {
        let (handle, problems, width, height) = try opened(label: path, header: header, pixelLimit: pixelLimit, open: open)
        defer { libraw_close(handle) }
        return try withExtendedLifetime(problems) {
            try decodeOpened(handle, problems: problems, label: path, width: width, height: height, contents: contents,
                             allowFastPaths: allowFastPaths, defersDecoding: defersDecoding)
        }
    }

    /// `decode`'s work once the file is open: the fast paths or LibRaw's unpack, then the image.
    private static func decodeOpened(_ handle: UnsafeMutablePointer<libraw_data_t>, problems: DecodeProblems, label path: String,
                                     width: Int, height: Int, contents: () -> (any ByteSource)?,
                                     allowFastPaths: Bool, defersDecoding: Bool) throws -> (RawImage, DeferredSamples?) {
        let iparams = emulsion_iparams(handle).pointee
        let isDNG = iparams.dng_version != 0
        let file = isDNG ? contents() : nil
        // Parsed once here for the checks, fast paths and opcodes below.
        let directories = file.map { TIFFDirectory.all($0) } ?? []
        try checkCFAPattern(directories, path: path)
        let stored = allowFastPaths && file != nil ? uncompressedSamples(handle, directories: directories) : nil
        // LJ92 tiles: decoded here in parallel (or by the caller), unless LibRaw already reported
        // a problem while opening the file (its unpack path below turns that into the error).
        var decoded: [UInt16]? = nil
        var deferredTiles: LosslessDNGTiles? = nil
        if allowFastPaths, stored == nil, problems.dataError == nil, let file, let tiles = losslessTiles(handle, directories: directories) {
            if defersDecoding {
                deferredTiles = tiles
            } else {
                decoded = tiles.decode(file: file)
                losslessTilesProbe?.record(decoded)
            }
        }
        // Nikon's compressed NEFs: decoded here (or by the caller), LibRaw's loader otherwise
        // (see NikonCompressedSamples).
        var deferredNikon: NikonCompressedSamples? = nil
        if allowFastPaths, stored == nil, decoded == nil, deferredTiles == nil, problems.dataError == nil, !isDNG,
           String(cString: libraw_unpack_function_name(handle)) == "nikon_load_raw()",
           let nef = contents(), let nikon = nikonSamples(handle, file: nef) {
            if defersDecoding {
                deferredNikon = nikon.streamHeader(file: nef) == nil ? nil : nikon
            } else {
                decoded = nikon.decode(file: nef)
                nikonProbe?.record(decoded)
            }
        }
        let deferred = stored.map(DeferredSamples.uncompressed) ?? deferredTiles.map(DeferredSamples.losslessTiles)
            ?? deferredNikon.map(DeferredSamples.nikon)
        if deferred == nil && decoded == nil {
            if String(cString: libraw_unpack_function_name(handle)) == "lossy_dng_load_raw()", let file {
                try checkLossyLoaderOpcodes(at: Int(emulsion_libraw_meta_offset(handle)), in: file, path: path)
            }
            let (status, printed) = DecoderMessages.capturing { libraw_unpack(handle) }
            if !printed.isEmpty, problems.dataError == nil {
                // A decoder that complains but returns data (libjpeg on a damaged lossy DNG) has
                // produced partly invented pixels: refuse them rather than render a damaged image.
                let first = printed.split(separator: "\n").first.map(String.init) ?? printed
                problems.dataError = "corrupt raw data (decoder: \(first))"
            }
            guard status == LIBRAW_SUCCESS.rawValue else {
                throw RawFileError(path: path, problem: problems.dataError ?? describe(status, opening: false))
            }
            if let error = problems.dataError { throw RawFileError(path: path, problem: error) }
        }

        let unpacked = deferred == nil && decoded == nil
        let layout = try sensorLayout(handle, path: path, unpacked: unpacked)
        let samples = try decoded ?? (unpacked ? copySamples(handle, layout: layout, width: width, height: height, path: path) : [])
        let levels = sensorLevels(handle, layout: layout)
        guard levels.white > levels.blackTile.max()! else {
            throw RawFileError(path: path, problem: "white level \(levels.white) is not above black \(levels.blackTile.max()!)")
        }
        var colour = cameraColour(handle)
        if let file, let tags = DNGColourTags.read(source: file) {
            // LibRaw 0.20 keeps only part of the DNG colour tags; the file's own are complete.
            colour.dngCalibrations = tags.calibrations
            if let ab = tags.analogBalance { colour.analogBalance = ab }
            if let n = tags.asShotNeutral { colour.asShotNeutral = n }
            colour.asShotWhiteXY = tags.asShotWhiteXY
        }
        var image = RawImage(width: width, height: height, layout: layout.image, samples: samples, levels: levels,
                             colour: colour, metadata: metadata(handle))
        // LibRaw 0.20 keeps neither the copyright notice nor the rating; a TIFF-based raw (DNG,
        // NEF, CR2, ARW, PEF, ORF, RW2…) has them in IFD0 (a DNG's, parsed above already, is the
        // first directory).
        if let ifd = directories.first ?? contents().flatMap(TIFFDirectory.first) { readIFD0(ifd, into: &image.metadata) }
        if file != nil, let opcodes = DNGOpcodes.read(directories: directories) {
            let mosaic = image.cfa != nil
            // Map and warp coordinates start at the ActiveArea's top-left and span it; LibRaw's
            // visible area starts at its margins (the same point unless it crops further).
            let area = opcodes.activeArea ?? [0, 0, image.metadata.sensorHeight, image.metadata.sensorWidth]
            let (areaWidth, areaHeight) = (area[3] - area[1], area[2] - area[0])
            let (offsetX, offsetY) = (image.metadata.cropLeft - area[1], image.metadata.cropTop - area[0])
            image.lensWarp = opcodes.warp?.lensWarp(imageWidth: areaWidth, imageHeight: areaHeight, offsetX: offsetX, offsetY: offsetY)
            if image.lensWarp?.isIdentity == true { image.lensWarp = nil }
            image.lensVignette = opcodes.lensVignette(imageWidth: areaWidth, imageHeight: areaHeight, offsetX: offsetX, offsetY: offsetY)
            if image.lensVignette?.isIdentity == true { image.lensVignette = nil }
            image.metadata.opcodes = opcodes.descriptions(appliesGainMaps: mosaic, appliesWarp: image.lensWarp != nil,
                                                          appliesVignette: image.lensVignette != nil)
            if mosaic, !opcodes.gainMaps.isEmpty {
                image.lensShading = LensShading(maps: opcodes.gainMaps, offsetX: offsetX, offsetY: offsetY,
                                                imageWidth: areaWidth, imageHeight: areaHeight)
            }
        }
        readPictureAreas(directories, width: width, height: height, into: &image.metadata)
        return (image, deferred)
    }

    /// A DNG's picture areas (`DNGDefaultCrop`) from its raw directory, in pixels of `shot`'s
    /// visible area of `width` × `height`; nothing for no directories (not a DNG).
    static func readPictureAreas(_ directories: [TIFFDirectory], width: Int, height: Int, into shot: inout ShotMetadata) {
        guard let raw = DNGOpcodes.rawDirectory(directories) else { return }
        (shot.defaultCrop, shot.userCrop) = DNGDefaultCrop.rectangles(raw, left: shot.cropLeft, top: shot.cropTop, width: width, height: height)
    }

    /// What both fast paths require before they may replace `libraw_unpack`: a CFA DNG for which
    /// LibRaw chose `loader`, takes no black from masked areas, and whose file has exactly one CFA
    /// directory, the primary image at LibRaw's raw size, one sample per pixel, chunky.
    private static func soleCFADirectory(_ h: UnsafeMutablePointer<libraw_data_t>, directories: [TIFFDirectory],
                                         loader: String) -> TIFFDirectory? {
        let iparams = emulsion_iparams(h).pointee
        guard iparams.filters != 0, iparams.dng_version != 0,
              String(cString: libraw_unpack_function_name(h)) == loader else { return nil }
        let sizes = emulsion_sizes(h).pointee
        guard hasNoMaskedAreas(sizes) else { return nil }
        let cfa = cfaDirectories(directories)
        guard cfa.count == 1, let d = cfa.first,
              d.integer(254, default: 0) == 0, d.integer(256) == Int(sizes.raw_width), d.integer(257) == Int(sizes.raw_height),
              d.integer(277, default: 1) == 1, d.integer(284, default: 1) == 1 else { return nil }
        return d
    }

    /// Where `UncompressedSamples` may replace `libraw_unpack`: LibRaw chose its plain DNG loader,
    /// applies no linearisation curve and takes no black from masked areas (the three things its
    /// unpack would add to a copy), and the file has one CFA image of LibRaw's raw size,
    /// uncompressed, in contiguous strips whose bytes are all there. Anything else: nil (LibRaw decodes).
    static func uncompressedSamples(_ h: UnsafeMutablePointer<libraw_data_t>, directories: [TIFFDirectory]) -> UncompressedSamples? {
        guard let d = soleCFADirectory(h, directories: directories, loader: "packed_dng_load_raw()"),
              hasIdentityCurve(h),
              d.integer(259) == 1, d.integer(266, default: 1) == 1,
              let bits = d.integer(258), UncompressedSamples.supportedBits.contains(bits), d.entries[322] == nil,
              let offsets = d.integers(273), let counts = d.integers(279),
              !offsets.isEmpty, offsets.count == counts.count else { return nil }
        for i in 1..<offsets.count where offsets[i] != offsets[i - 1] + counts[i - 1] { return nil }
        let sizes = emulsion_sizes(h).pointee
        let samples = UncompressedSamples(offset: offsets[0], rawWidth: Int(sizes.raw_width), rawHeight: Int(sizes.raw_height),
                                          bitsPerSample: bits, bigEndian: !d.littleEndian, top: Int(sizes.top_margin),
                                          left: Int(sizes.left_margin), width: Int(sizes.width), height: Int(sizes.height))
        // A file cut inside its samples is kept: `UncompressedSamples.read` refuses it, where
        // LibRaw's 16-bit loader would have filled the missing rows with zeros without a word.
        guard counts.reduce(0, +) >= samples.rowBytes * samples.rawHeight else { return nil }
        return samples
    }

    /// Where `LosslessDNGTiles` may replace `libraw_unpack`: LibRaw chose its lossless-JPEG DNG
    /// loader for a three-colour CFA image and takes no black from masked areas, and the file has
    /// exactly one CFA directory of LibRaw's raw size, LJ92-compressed, one sample per pixel, in two
    /// or more tiles whose offsets are LONGs (LibRaw reads them as such). Strips and single tiles:
    /// nil (LibRaw decodes). The linearisation curve is LibRaw's own, applied as it applies it.
    static func losslessTiles(_ h: UnsafeMutablePointer<libraw_data_t>, directories: [TIFFDirectory]) -> LosslessDNGTiles? {
        let iparams = emulsion_iparams(h).pointee
        guard iparams.colors == 3, let d = soleCFADirectory(h, directories: directories, loader: "lossless_dng_load_raw()"),
              d.integer(259) == 7, let tileWidth = d.integer(322), let tileLength = d.integer(323),
              d.entries[324]?.type == 4, let offsets = d.integers(324), let counts = d.integers(325),
              offsets.count >= 2, offsets.count == counts.count else { return nil }
        let sizes = emulsion_sizes(h).pointee
        let tiles = LosslessDNGTiles(offsets: offsets, counts: counts, tileWidth: tileWidth, tileLength: tileLength,
                                     rawWidth: Int(sizes.raw_width), rawHeight: Int(sizes.raw_height), top: Int(sizes.top_margin),
                                     left: Int(sizes.left_margin), width: Int(sizes.width), height: Int(sizes.height),
                                     dngVersion: iparams.dng_version, curve: hasIdentityCurve(h) ? [] : libRawCurve(h))
        return tiles.isConsistent ? tiles : nil
    }

    /// Where `NikonCompressedSamples` may replace `libraw_unpack` (LibRaw chose `nikon_load_raw`):
    /// a three-colour CFA without masked areas or a top margin, one directory of LibRaw's raw
    /// size with compression 34713 in one strip, and the NEF curve block LibRaw reads (MakerNote
    /// tag 0x96, else 0x8c; the maker note a plain directory or one with its own "Nikon" TIFF
    /// header) in the file's byte order. Anything else: nil (LibRaw decodes).
    static func nikonSamples(_ h: UnsafeMutablePointer<libraw_data_t>, file: any ByteSource) -> NikonCompressedSamples? {
        let iparams = emulsion_iparams(h).pointee
        let sizes = emulsion_sizes(h).pointee
        guard iparams.filters != 0, iparams.colors == 3,
              hasNoMaskedAreas(sizes) else { return nil }
        let directories = TIFFDirectory.all(file)
        let raws = directories.filter {
            $0.integer(259) == 34713 && $0.integer(256) == Int(sizes.raw_width) && $0.integer(257) == Int(sizes.raw_height)
        }
        guard let ifd0 = directories.first, raws.count == 1, let raw = raws.first, let bits = raw.integer(258),
              let offsets = raw.integers(273), offsets.count == 1,
              let exifOffset = ifd0.integer(0x8769),
              let (exif, _) = TIFFDirectory.at(exifOffset, in: file, littleEndian: ifd0.littleEndian),
              let note = exif.entries[0x927C] else { return nil }
        var maker: TIFFDirectory?
        if note.count >= 18, file.bytes(note.offset, 6) == Array("Nikon\0".utf8) {
            let header = note.offset + 10
            let order = (file[header], file[header + 1])
            guard order == (0x49, 0x49) || order == (0x4D, 0x4D) else { return nil }
            let little = order == (0x49, 0x49)
            if let first = TIFFDirectory.Reader(bytes: file, little: little).u32(header + 4) {
                maker = TIFFDirectory.at(header + first, in: file, littleEndian: little, base: header)?.0
            }
        } else {
            maker = TIFFDirectory.at(note.offset, in: file, littleEndian: ifd0.littleEndian)?.0
        }
        guard let maker, maker.littleEndian == ifd0.littleEndian,
              let meta = maker.entries[0x96] ?? maker.entries[0x8c] else { return nil }
        let samples = NikonCompressedSamples(dataOffset: offsets[0], metaOffset: meta.offset, bigEndian: !ifd0.littleEndian,
                                             bitsPerSample: bits, rawWidth: Int(sizes.raw_width), rawHeight: Int(sizes.raw_height),
                                             top: Int(sizes.top_margin), left: Int(sizes.left_margin),
                                             width: Int(sizes.width), height: Int(sizes.height),
                                             curve: libRawCurve(h))
        return samples.isConsistent ? samples : nil
    }

    /// Whether LibRaw takes no black level from masked sensor areas (its `mask` rectangles all
    /// empty): a fast path that skips `libraw_unpack` would miss those levels.
    static func hasNoMaskedAreas(_ sizes: libraw_image_sizes_t) -> Bool {
        withUnsafeBytes(of: sizes.mask) { $0.allSatisfy { $0 == 0 } }
    }

    /// LibRaw's curve where it changes nothing (no LinearizationTable: every phone DNG).
    static let identityCurve = (0..<0x10000).map { UInt16(truncatingIfNeeded: $0) }

    /// Whether `curve` is `identityCurve` (compared in place: the worker asks of every DNG, and
    /// needs no table of its own for it).
    static func isIdentity<Curve: RandomAccessCollection<UInt16>>(_ curve: Curve) -> Bool where Curve.Index == Int {
        curve.count == 0x10000 && curve.indices.allSatisfy { curve[$0] == UInt16(truncatingIfNeeded: $0) }
    }

    /// Whether LibRaw's curve is the identity, read where LibRaw keeps it: a phone DNG's tiles
    /// then carry no table (an empty curve), and nothing copies 128 KB to learn that.
    static func hasIdentityCurve(_ h: UnsafeMutablePointer<libraw_data_t>) -> Bool {
        isIdentity(libRawCurveInPlace(h))
    }

    /// LibRaw's linearisation curve as it stands after opening the file, 65 536 entries.
    static func libRawCurve(_ h: UnsafeMutablePointer<libraw_data_t>) -> [UInt16] {
        // One copy of the table (65 536 calls of emulsion_curve were ~0.9 M instructions per file).
        Array(libRawCurveInPlace(h))
    }

    /// The same, where LibRaw keeps it (valid while `h` is open).
    private static func libRawCurveInPlace(_ h: UnsafeMutablePointer<libraw_data_t>) -> UnsafeBufferPointer<UInt16> {
        precondition(emulsion_curve_count() == 0x10000, "LibRaw's curve holds 0x10000 entries")
        return UnsafeBufferPointer(start: emulsion_curve_table(h), count: 0x10000)
    }

    final class DecodeProblems: @unchecked Sendable { var dataError: String? }

    /// What LibRaw's status code means for a person.
    static func describe(_ status: Int32, opening: Bool) -> String {
        switch status {
        case LIBRAW_FILE_UNSUPPORTED.rawValue: return "not a raw file LibRaw can read (unsupported or unrecognised format)"
        case LIBRAW_IO_ERROR.rawValue:
            return opening ? "not a raw file, or truncated before its image data" : "truncated or unreadable raw data (I/O error while decoding)"
        case LIBRAW_DATA_ERROR.rawValue: return "corrupt raw data"
        case LIBRAW_UNSUFFICIENT_MEMORY.rawValue: return "not enough memory to decode"
        case LIBRAW_TOO_BIG.rawValue: return "image too big for LibRaw"
        case LIBRAW_REQUEST_FOR_NONEXISTENT_IMAGE.rawValue: return "no image in the file"
        default:
            return (opening ? "cannot open: " : "cannot decode: ") + String(cString: libraw_strerror(status))
        }
    }

    /// The CFA as LibRaw sees it, with LibRaw's raw colour index (0 R, 1 G, 2 B, 3 second G) kept
    /// for the black levels, which LibRaw indexes by it.
    struct Layout {
        var image: RawImage.Layout
        var rawColours: [Int]  // per pattern position, LibRaw colour index
        var patternWidth: Int
        var patternHeight: Int
    }

    /// The directories of CFA data (PhotometricInterpretation 32803) among a file's.
    private static func cfaDirectories(_ directories: [TIFFDirectory]) -> [TIFFDirectory] {
        directories.filter { $0.numbers(262)?.first == 32803 }
    }

    /// Refuses a DNG whose CFAPattern names a colour outside DNG's 0–6 (red, green, blue, cyan,
    /// magenta, yellow, white). LibRaw 0.20 looks such a code up in a table it has left
    /// uninitialised (`parse_tiff_ifd`; valgrind: `identify` branches on the stack garbage), so
    /// the layout it reports, and the error that follows, changed from run to run (a hostile
    /// raw: "2-colour GMCY filter array" five times in six, "no mosaic and no RGB data" once).
    /// Checked on Emulsion's own reading of the tag, the same way every time.
    static func checkCFAPattern(_ directories: [TIFFDirectory], path: String) throws {
        for directory in cfaDirectories(directories) {
            if let pattern = directory.numbers(33422), let bad = pattern.first(where: { $0 > 6 }) {
                throw RawFileError(path: path, problem: "damaged DNG: its CFA pattern names colour \(Int(bad)), outside DNG's 0–6")
            }
        }
    }

    /// Refuses a lossy DNG whose OpcodeList2 declares more opcodes than the file can hold, before
    /// LibRaw's loader sees it. Why: `lossy_dng_load_raw` reads the list's opcode count and steps
    /// through that many opcodes (reading on past the end of the file, where every read gives
    /// 0xFFFFFFFF) before it decodes a pixel. A fuzzed file declaring 1.38 billion opcodes kept
    /// it busy for 18 s in the decode worker and minutes with `--in-process-decoder` (dcraw_emu
    /// too). An opcode takes at least its 16-byte header (DNG 1.6 §7), so a count the bytes
    /// after it cannot hold is damage, not a list.
    /// `start` is where LibRaw will read the list (its own `meta_offset`, `CLibRawPeek`: the
    /// last OpcodeList2 tag it parsed, in whichever directory, whatever the tag's type; 0 for
    /// none). Our own directory reader does not follow what LibRaw follows (a SubIFD tag of an
    /// unknown type, in the fuzzer's second finding), so it is not asked.
    static func checkLossyLoaderOpcodes(at start: Int, in file: any ByteSource, path: String) throws {
        guard start != 0 else { return }
        let length = file.count
        let count = TIFFDirectory.Reader(bytes: file, little: false).u32(start)
        guard let count, count <= (length - start - 4) / 16 else {
            let declared = count.map { "declares \($0) opcodes in \(length - start - 4) bytes" } ?? "starts past the end of the file"
            throw RawFileError(path: path, problem: "damaged DNG: its OpcodeList2 \(declared)")
        }
    }

    /// The CFA layout LibRaw reports, refused where Emulsion cannot render it. `unpacked`:
    /// LibRaw's unpack ran (without it there is no raw buffer to check for).
    static func sensorLayout(_ h: UnsafeMutablePointer<libraw_data_t>, path: String, unpacked: Bool) throws -> Layout {
        let iparams = emulsion_iparams(h).pointee
        let filters = iparams.filters
        if filters == 0 {
            guard emulsion_color3_image(h) != nil || emulsion_color4_image(h) != nil else {
                throw RawFileError(path: path, problem: "unsupported sensor layout (no mosaic and no RGB data)")
            }
            guard iparams.colors == 3 else {
                throw RawFileError(path: path, problem: "unsupported sensor layout (\(iparams.colors) colour channels)")
            }
            return Layout(image: .rgb, rawColours: [1], patternWidth: 1, patternHeight: 1)
        }
        guard !unpacked || emulsion_raw_image(h) != nil else {
            throw RawFileError(path: path, problem: "unsupported sensor layout (no single-channel mosaic)")
        }
        let description = withUnsafeBytes(of: iparams.cdesc) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard iparams.colors == 3, description.hasPrefix("RGB") else {
            throw RawFileError(path: path, problem: "unsupported sensor layout (\(iparams.colors)-colour \(description) filter array)")
        }
        // X-Trans repeats every 6×6; Bayer codes (filters > 1000) every 8 rows × 2 columns in
        // LibRaw's encoding, usually 2×2 in fact: take the smallest period that reproduces it.
        let (pw, ph) = filters == 9 ? (6, 6) : (2, 8)
        var raw = [Int](repeating: 0, count: pw * ph)
        for r in 0..<ph { for c in 0..<pw { raw[r * pw + c] = Int(emulsion_cfa_colour(h, Int32(r), Int32(c))) } }
        var height = ph
        if filters != 9 {
            for candidate in [2, 4, 8] where (0..<ph).allSatisfy({ r in (0..<pw).allSatisfy { raw[r * pw + $0] == raw[(r % candidate) * pw + $0] } }) {
                height = candidate
                break
            }
        }
        let rawColours = Array(raw.prefix(pw * height))
        guard rawColours.allSatisfy({ (0...3).contains($0) }) else {
            throw RawFileError(path: path, problem: "unsupported sensor layout (filter code \(filters))")
        }
        let colours = rawColours.map { UInt8($0 == 3 ? 1 : $0) }
        guard Set(colours) == [0, 1, 2] else {
            throw RawFileError(path: path, problem: "unsupported sensor layout (pattern lacks a colour)")
        }
        let cfa = CFAPattern(width: pw, height: height, colours: colours)
        return Layout(image: .mosaic(cfa), rawColours: rawColours, patternWidth: pw, patternHeight: height)
    }

    static func copySamples(_ h: UnsafeMutablePointer<libraw_data_t>, layout: Layout, width: Int, height: Int,
                            path: String) throws -> [UInt16] {
        let sizes = emulsion_sizes(h).pointee
        let top = Int(sizes.top_margin), left = Int(sizes.left_margin)
        let rawWidth = Int(sizes.raw_width), rawHeight = Int(sizes.raw_height)
        switch layout.image {
        case .mosaic:
            guard let raw = emulsion_raw_image(h) else { throw RawFileError(path: path, problem: "no raw data") }
            let pitch = Int(sizes.raw_pitch) / 2
            guard top + height <= rawHeight, left + width <= pitch, pitch >= rawWidth || pitch > 0 else {
                throw RawFileError(path: path, problem: "inconsistent raw geometry")
            }
            return [UInt16](unsafeUninitializedCapacity: width * height) { out, count in
                for y in 0..<height {
                    (out.baseAddress! + y * width).update(from: raw + (y + top) * pitch + left, count: width)
                }
                count = width * height
            }
        case .rgb:
            // Linear DNG: LibRaw fills colour planes at the full raw size, with no margins.
            let (data, stride): (UnsafePointer<UInt16>, Int)
            if let c3 = emulsion_color3_image(h) { (data, stride) = (c3, 3) } else { (data, stride) = (emulsion_color4_image(h)!, 4) }
            let fullWidth = rawWidth
            return [UInt16](unsafeUninitializedCapacity: 3 * width * height) { out, count in
                for y in 0..<height {
                    for x in 0..<width {
                        let s = data + ((y + top) * fullWidth + x + left) * stride
                        let o = 3 * (y * width + x)
                        out[o] = s[0]; out[o + 1] = s[1]; out[o + 2] = s[2]
                    }
                }
                count = 3 * width * height
            }
        }
    }

    /// Black per position: LibRaw's common black, plus its per-colour black (`cblack[0…3]`),
    /// plus its repeating black tile (`cblack[4]×cblack[5]`, values from `cblack[6]`).
    static func sensorLevels(_ h: UnsafeMutablePointer<libraw_data_t>, layout: Layout) -> SensorLevels {
        let common = Float(emulsion_black(h))
        let tileW = Int(emulsion_cblack(h, 5)), tileH = Int(emulsion_cblack(h, 4))
        let hasTile = tileW > 0 && tileH > 0 && tileW * tileH <= 4096 - 6
        let w = lcm(layout.patternWidth, hasTile ? tileW : 1)
        let hgt = lcm(layout.patternHeight, hasTile ? tileH : 1)
        var tile = [Float](repeating: 0, count: w * hgt)
        for r in 0..<hgt {
            for c in 0..<w {
                let colour = layout.rawColours[(r % layout.patternHeight) * layout.patternWidth + c % layout.patternWidth]
                var black = common + Float(emulsion_cblack(h, Int32(colour)))
                if hasTile { black += Float(emulsion_cblack(h, Int32(6 + (r % tileH) * tileW + c % tileW))) }
                tile[r * w + c] = black
            }
        }
        return SensorLevels(blackTileWidth: w, blackTileHeight: hgt, blackTile: tile, white: Float(emulsion_maximum(h)))
    }

    static func cameraColour(_ h: UnsafeMutablePointer<libraw_data_t>) -> CameraColour {
        func triple(_ f: (Int32) -> Float) -> SIMD3<Float> { SIMD3(f(0), f(1), f(2)) }
        func normalised(_ v: SIMD3<Float>) -> SIMD3<Float>? {
            guard v.x > 0, v.y > 0, v.z > 0, v.x.isFinite, v.y.isFinite, v.z.isFinite else { return nil }
            return v / v.y
        }
        var colour = CameraColour()
        colour.asShotMultipliers = normalised(triple { emulsion_cam_mul(h, $0) })
        colour.daylightMultipliers = normalised(triple { emulsion_pre_mul(h, $0) })
        let rgbCam = Matrix3(rowMajor: (0..<9).map { Double(emulsion_rgb_cam(h, Int32($0 / 3), Int32($0 % 3))) })
        if rgbCam.isFinite, rgbCam.determinant != 0 { colour.cameraToSRGB = rgbCam }
        let camXYZ = Matrix3(rowMajor: (0..<9).map { Double(emulsion_cam_xyz(h, Int32($0 / 3), Int32($0 % 3))) })
        if camXYZ.isFinite, abs(camXYZ.determinant) > 1e-9 { colour.xyzToCamera = camXYZ }

        for i in 0..<2 {
            let flags = emulsion_dng_parsed(h, Int32(i))
            let hasCM = flags & UInt32(LIBRAW_DNGFM_COLORMATRIX.rawValue) != 0
            let hasFM = flags & UInt32(LIBRAW_DNGFM_FORWARDMATRIX.rawValue) != 0
            guard hasCM || hasFM else { continue }
            func matrix(_ f: (Int32, Int32) -> Float) -> Matrix3 {
                Matrix3(rowMajor: (0..<9).map { Double(f(Int32($0 / 3), Int32($0 % 3))) })
            }
            let cm = hasCM ? matrix { emulsion_dng_colormatrix(h, Int32(i), $0, $1) } : nil
            let fm = hasFM ? matrix { emulsion_dng_forwardmatrix(h, Int32(i), $0, $1) } : nil
            var cc = Matrix3.identity
            if flags & UInt32(LIBRAW_DNGFM_CALIBRATION.rawValue) != 0 {
                let m = matrix { emulsion_dng_calibration(h, Int32(i), $0, $1) }
                if m.isFinite, m.determinant != 0 { cc = m }
            }
            colour.dngCalibrations.append(DNGCalibration(illuminant: Int(emulsion_dng_illuminant(h, Int32(i))),
                                                         colorMatrix: cm, forwardMatrix: fm, cameraCalibration: cc))
        }
        // LibRaw 0.20 leaves dng_levels.parsedfields at 0 even when it parsed these tags, so
        // absence is recognised by the values themselves (zero where the tag was missing).
        let ab = triple { emulsion_analog_balance(h, $0) }
        if ab.x > 0, ab.y > 0, ab.z > 0, ab.x.isFinite, ab.y.isFinite, ab.z.isFinite { colour.analogBalance = ab }
        let n = triple { emulsion_as_shot_neutral(h, $0) }
        if n.x > 0, n.y > 0, n.z > 0, n.x.isFinite, n.y.isFinite, n.z.isFinite { colour.asShotNeutral = n }
        let e = emulsion_baseline_exposure(h)
        if e.isFinite, abs(e) <= 16 { colour.baselineExposure = e }
        return colour
    }

    static func metadata(_ h: UnsafeMutablePointer<libraw_data_t>) -> ShotMetadata {
        let iparams = emulsion_iparams(h).pointee
        let sizes = emulsion_sizes(h).pointee
        let other = emulsion_other(h).pointee
        func text<T>(_ tuple: T) -> String {
            withUnsafeBytes(of: tuple) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                .trimmingWhitespace()
        }
        var m = ShotMetadata()
        m.make = text(iparams.make)
        m.model = text(iparams.model)
        m.software = text(iparams.software)
        m.iso = other.iso_speed
        m.shutterSeconds = other.shutter
        m.aperture = other.aperture
        m.focalLength = other.focal_len
        m.lens = String(cString: emulsion_lens_name(h)).trimmingWhitespace()
        m.artist = text(other.artist)
        let gps = other.parsed_gps
        if gps.gpsparsed != 0 {
            // LibRaw's (Float, Float, Float) tuples, read as three floats without rebinding their memory.
            func parts<T>(_ tuple: T) -> [Double] {
                withUnsafeBytes(of: tuple) { raw in (0..<raw.count / 4).map { Double(raw.load(fromByteOffset: 4 * $0, as: Float.self)) } }
            }
            func letter(_ c: CChar) -> Character? { c > 0 ? Character(Unicode.Scalar(UInt8(c))) : nil }
            // LibRaw reports an absent altitude as 0: sea level written as such is lost with it.
            m.location = GPSLocation(latitude: parts(gps.latitude), latitudeRef: letter(gps.latref),
                                     longitude: parts(gps.longitude), longitudeRef: letter(gps.longref),
                                     altitude: gps.altitude != 0 ? Double(gps.altitude) : nil, belowSeaLevel: gps.altref == 1,
                                     time: parts(gps.gpstimestamp))
        }
        m.timestamp = Int(other.timestamp)
        m.orientation = orientation(fromLibRawFlip: Int(sizes.flip))
        m.pixelAspect = sizes.pixel_aspect > 0 && sizes.pixel_aspect.isFinite ? sizes.pixel_aspect : 1
        let v = iparams.dng_version
        if v != 0 { m.dngVersion = "\(v >> 24 & 0xff).\(v >> 16 & 0xff).\(v >> 8 & 0xff).\(v & 0xff)" }
        m.sensorWidth = Int(sizes.raw_width)
        m.sensorHeight = Int(sizes.raw_height)
        m.cropLeft = Int(sizes.left_margin)
        m.cropTop = Int(sizes.top_margin)
        if emulsion_dng_levels_parsed(h) & UInt32(LIBRAW_DNGFM_LINTABLE.rawValue) != 0 { m.linearisation = "DNG LinearizationTable (applied by the decoder)" }
        return m
    }

    /// What IFD0 records that LibRaw 0.20 does not keep: the copyright notice and the rating.
    static func readIFD0(_ ifd: TIFFDirectory, into shot: inout ShotMetadata) {
        shot.copyright = copyright(ifd)
        shot.rating = rating(ifd)
    }

    /// The rating IFD0 records: the Rating tag (0x4746, Microsoft's, which ExifTool and
    /// cameras write; 0xFFFF for rejected), else xmp:Rating in the XMP packet (tag 700); nil for
    /// neither, or a value outside −1…5.
    static func rating(_ ifd: TIFFDirectory) -> Int? {
        if let value = ifd.integer(0x4746) {
            let rating = value == 0xFFFF ? -1 : value
            return XMPRating.range.contains(rating) ? rating : nil
        }
        return ifd.data(700).flatMap(XMPRating.rating(inPacket:))
    }

    /// Exif Copyright (tag 33432) of IFD0: "photographer NUL editor NUL" (Exif 2.32 §4.6.5), of
    /// which the photographer's part is kept (the editor's is an editing tool's to add), as text.
    static func copyright(_ ifd: TIFFDirectory) -> String {
        guard let bytes = ifd.data(33432) else { return "" }
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self).trimmingWhitespace()
    }

    /// LibRaw's `flip` (dcraw's convention) as EXIF orientation.
    public static func orientation(fromLibRawFlip flip: Int) -> Orientation {
        switch flip {
        case 1: return .mirrorHorizontal
        case 2: return .mirrorVertical
        case 3: return .rotate180
        case 4: return .transpose
        case 5: return .rotate90CounterClockwise
        case 6: return .rotate90Clockwise
        case 7: return .transverse
        default: return .normal
        }
    }
}

func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
func lcm(_ a: Int, _ b: Int) -> Int { a / gcd(a, b) * b }
