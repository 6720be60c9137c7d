import EmulsionCore

/// The decode worker's header as bytes, written and read field by field: the raw image without
/// its samples (its lens shading included) and where the deferred samples lie.
///
/// Why by hand: the Codable coder this replaces (a tagged binary format, sessions 12–20) spent
/// most of its time in the Swift runtime, not on the 22 KB it moved: on the 0.2 MP Pixel crop it
/// took 0.42 ms to write the header in the worker and 0.51 ms to read it in the parent the first
/// time, 0.12 and 0.17 ms the second (traced, medians of 40 runs). The first call of each generic
/// container instantiates its metadata and witness tables, and every process calls it once.
/// Both ends of the pipe run on the single-file path's critical path.
///
/// Format (little-endian): `formatVersion`, then each type's fields in the order of its
/// declaration, untagged. Integers are 8 bytes, floats and doubles their bit patterns (so every
/// value is exact, −0 and NaN payloads too), booleans and enum cases one byte, strings and
/// arrays a 4-byte count and their elements, an optional a presence byte and the value. Writer
/// and reader are one executable (the worker is this binary), so there are no keys to match up;
/// `formatVersion` catches a binary replaced while a batch runs.
///
/// The parent reads what a worker that parsed an untrusted file wrote, so the reader checks
/// every count against the bytes left before it allocates, checks what the types' initialisers
/// would trap on (a CFA pattern, a black tile, a matrix's nine elements, an orientation), and
/// throws `WireError.malformed` on anything else it does not expect; it never traps.
/// `HeaderCodingTests` keep the field lists here in step with the types' declarations.
enum HeaderCoding {
    static let formatVersion: UInt8 = 7  // 2: ShotMetadata.labels (session 30); 3: defaultCrop, 4: userCrop (session 31); 5: lensWarp (session 32); 6: lensVignette, 7: WarpRectilinear2 (session 33)

    static func encode(image: RawImage, deferred: DeferredSamples?) -> [UInt8] {
        var writer = WireWriter()
        writer.bytes.reserveCapacity(4096 + 4 * (image.lensShading?.maps.reduce(0) { $0 + $1.gains.count } ?? 0))
        writer.byte(formatVersion)
        writer.image(image)
        writer.optional(deferred) { $0.deferred($1) }
        return writer.bytes
    }

    /// The image (samples empty) and the deferred samples (curves empty), or `WireError`.
    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> (image: RawImage, deferred: DeferredSamples?) {
        var reader = WireReader(bytes: bytes)
        guard try reader.byte() == formatVersion else { throw WireError.malformed }
        let image = try reader.image()
        let deferred = try reader.optional { try $0.deferred() }
        guard reader.position == bytes.count else { throw WireError.malformed }
        return (image, deferred)
    }
}

extension HeaderCoding {
    /// A header-only answer's header: `formatVersion` and the shot's metadata.
    static func encode(shot: ShotMetadata) -> [UInt8] {
        var writer = WireWriter()
        writer.byte(formatVersion)
        writer.metadata(shot)
        return writer.bytes
    }

    static func decodeShot(_ bytes: UnsafeRawBufferPointer) throws -> ShotMetadata {
        var reader = WireReader(bytes: bytes)
        guard try reader.byte() == formatVersion else { throw WireError.malformed }
        let shot = try reader.metadata()
        guard reader.position == bytes.count else { throw WireError.malformed }
        return shot
    }
}

enum WireError: Error { case malformed }

// MARK: - Primitives

struct WireWriter {
    var bytes: [UInt8] = []

    mutating func byte(_ value: UInt8) { bytes.append(value) }
    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }
    mutating func int(_ value: Int) { raw(Int64(value).littleEndian) }
    mutating func uint32(_ value: UInt32) { raw(value.littleEndian) }
    mutating func float(_ value: Float) { raw(value.bitPattern.littleEndian) }
    mutating func double(_ value: Double) { raw(value.bitPattern.littleEndian) }
    mutating func count(_ value: Int) { raw(UInt32(value).littleEndian) }

    private mutating func raw<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            count(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func floats(_ values: [Float]) {
        count(values.count)
        for value in values { float(value) }
    }

    mutating func ints(_ values: [Int]) {
        count(values.count)
        for value in values { int(value) }
    }

    mutating func optional<T>(_ value: T?, _ write: (inout WireWriter, T) -> Void) {
        bool(value != nil)
        if let value { write(&self, value) }
    }

    mutating func array<T>(_ values: [T], _ write: (inout WireWriter, T) -> Void) {
        count(values.count)
        for value in values { write(&self, value) }
    }
}

struct WireReader {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    private mutating func raw<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        guard bytes.count - position >= size else { throw WireError.malformed }
        defer { position += size }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: T.self))
    }

    mutating func byte() throws -> UInt8 { try raw(UInt8.self) }
    mutating func bool() throws -> Bool {
        switch try byte() {
        case 0: return false
        case 1: return true
        default: throw WireError.malformed
        }
    }
    mutating func int() throws -> Int { Int(try raw(Int64.self)) }
    mutating func uint32() throws -> UInt32 { try raw(UInt32.self) }
    mutating func float() throws -> Float { Float(bitPattern: try raw(UInt32.self)) }
    mutating func double() throws -> Double { Double(bitPattern: try raw(UInt64.self)) }

    /// A count of elements of at least `size` bytes each, checked against the bytes left.
    mutating func count(elementSize size: Int) throws -> Int {
        let n = Int(try raw(UInt32.self))
        guard n <= (bytes.count - position) / max(size, 1) else { throw WireError.malformed }
        return n
    }

    mutating func string() throws -> String {
        let n = try count(elementSize: 1)
        defer { position += n }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)]), as: UTF8.self)
    }

    mutating func floats() throws -> [Float] {
        let n = try count(elementSize: 4)
        return try (0..<n).map { _ in try float() }
    }

    mutating func ints() throws -> [Int] {
        let n = try count(elementSize: 8)
        return try (0..<n).map { _ in try int() }
    }

    mutating func optional<T>(_ read: (inout WireReader) throws -> T) throws -> T? {
        try bool() ? try read(&self) : nil
    }

    /// `minimumSize`: the fewest bytes one element can take, so that a count is checked before
    /// anything is allocated for it.
    mutating func array<T>(minimumSize: Int, _ read: (inout WireReader) throws -> T) throws -> [T] {
        let n = try count(elementSize: minimumSize)
        var values: [T] = []
        values.reserveCapacity(n)
        for _ in 0..<n { values.append(try read(&self)) }
        return values
    }
}

// MARK: - The image

extension WireWriter {
    /// Everything but the samples, which follow the header.
    mutating func image(_ image: RawImage) {
        int(image.width); int(image.height)
        switch image.layout {
        case .mosaic(let pattern):
            byte(0)
            int(pattern.width); int(pattern.height)
            count(pattern.colours.count)
            bytes.append(contentsOf: pattern.colours)
        case .rgb:
            byte(1)
        }
        levels(image.levels)
        colour(image.colour)
        metadata(image.metadata)
        optional(image.lensShading) { $0.shading($1) }
        optional(image.lensWarp) { $0.warp($1) }
        optional(image.lensVignette) { $0.vignette($1) }
    }

    mutating func levels(_ levels: SensorLevels) {
        int(levels.blackTileWidth); int(levels.blackTileHeight)
        floats(levels.blackTile)
        float(levels.white)
    }

    mutating func matrix(_ matrix: Matrix3) {
        for value in matrix.m { double(value) }
    }

    mutating func vector(_ vector: SIMD3<Float>) {
        float(vector.x); float(vector.y); float(vector.z)
    }

    mutating func colour(_ colour: CameraColour) {
        optional(colour.asShotMultipliers) { $0.vector($1) }
        optional(colour.daylightMultipliers) { $0.vector($1) }
        optional(colour.cameraToSRGB) { $0.matrix($1) }
        optional(colour.xyzToCamera) { $0.matrix($1) }
        array(colour.dngCalibrations) { writer, calibration in
            writer.int(calibration.illuminant)
            writer.optional(calibration.colorMatrix) { $0.matrix($1) }
            writer.optional(calibration.forwardMatrix) { $0.matrix($1) }
            writer.matrix(calibration.cameraCalibration)
        }
        vector(colour.analogBalance)
        optional(colour.asShotNeutral) { $0.vector($1) }
        optional(colour.asShotWhiteXY) { $0.double($1.x); $0.double($1.y) }
        float(colour.baselineExposure)
    }

    mutating func metadata(_ m: ShotMetadata) {
        string(m.make); string(m.model); string(m.software)
        float(m.iso); float(m.shutterSeconds); float(m.aperture); float(m.focalLength)
        string(m.lens)
        string(m.artist)
        string(m.copyright)
        optional(m.rating) { $0.int($1) }
        array(m.labels) { $0.byte(UInt8($1.rawValue)) }
        optional(m.location) { writer, location in
            for part in [location.latitude, location.longitude, location.altitude, location.secondsOfDay] {
                writer.optional(part) { $0.double($1) }
            }
        }
        int(m.timestamp)
        byte(UInt8(m.orientation.rawValue))
        double(m.pixelAspect)
        string(m.dngVersion)
        int(m.sensorWidth); int(m.sensorHeight); int(m.cropLeft); int(m.cropTop); int(m.bitsPerSample)
        string(m.linearisation)
        array(m.opcodes) { $0.string($1) }
        for crop in [m.defaultCrop, m.userCrop] {
            optional(crop) { writer, r in for v in [r.x, r.y, r.width, r.height] { writer.int(v) } }
        }
    }

    mutating func shading(_ shading: LensShading) {
        array(shading.maps) { writer, map in
            for value in [map.top, map.left, map.bottom, map.right, map.plane, map.planes, map.rowPitch, map.columnPitch,
                          map.pointsV, map.pointsH] { writer.int(value) }
            for value in [map.spacingV, map.spacingH, map.originV, map.originH] { writer.double(value) }
            writer.int(map.mapPlanes)
            writer.floats(map.gains)
        }
        int(shading.offsetX); int(shading.offsetY); int(shading.imageWidth); int(shading.imageHeight)
    }

    mutating func warp(_ warp: LensWarp) {
        array(warp.planes) { writer, k in
            for value in [k.radial.x, k.radial.y, k.radial.z, k.radial.w, k.tangentialX, k.tangentialY] { writer.double(value) }
            writer.optional(k.general) { writer, g in
                writer.array(g.terms) { $0.double($1) }
                writer.double(g.minimumRadius); writer.double(g.maximumRadius); writer.bool(g.reciprocal)
            }
        }
        double(warp.centreX); double(warp.centreY)
        int(warp.imageWidth); int(warp.imageHeight); int(warp.offsetX); int(warp.offsetY)
    }

    mutating func vignette(_ vignette: LensVignette) {
        for k in vignette.coefficients { double(k) }
        double(vignette.centreX); double(vignette.centreY)
        int(vignette.imageWidth); int(vignette.imageHeight); int(vignette.offsetX); int(vignette.offsetY)
        bool(vignette.precedesWarp)
    }
}

extension WireReader {
    mutating func image() throws -> RawImage {
        let width = try int(), height = try int()
        let layout: RawImage.Layout
        switch try byte() {
        case 0:
            let w = try int(), h = try int()
            let n = try count(elementSize: 1)
            let colours = Array(bytes[position..<(position + n)])
            position += n
            // CFAPattern's preconditions (and Codable's 64 × 64 bound), as an error.
            guard w > 0, h > 0, w <= 64, h <= 64, n == w * h, colours.allSatisfy({ $0 < 3 }) else { throw WireError.malformed }
            layout = .mosaic(CFAPattern(width: w, height: h, colours: colours))
        case 1:
            layout = .rgb
        default:
            throw WireError.malformed
        }
        let levels = try levels()
        let colour = try colour()
        let metadata = try metadata()
        var image = RawImage(width: width, height: height, layout: layout, samples: [], levels: levels, colour: colour, metadata: metadata)
        image.lensShading = try optional { try $0.shading() }
        image.lensWarp = try optional { try $0.warp() }
        image.lensVignette = try optional { try $0.vignette() }
        return image
    }

    mutating func levels() throws -> SensorLevels {
        let width = try int(), height = try int()
        let tile = try floats()
        let white = try float()
        guard width > 0, height > 0, width <= tile.count, tile.count / width == height, tile.count % width == 0 else {
            throw WireError.malformed
        }
        return SensorLevels(blackTileWidth: width, blackTileHeight: height, blackTile: tile, white: white)
    }

    mutating func matrix() throws -> Matrix3 {
        Matrix3(rowMajor: try (0..<9).map { _ in try double() })
    }

    mutating func vector() throws -> SIMD3<Float> {
        SIMD3(try float(), try float(), try float())
    }

    mutating func colour() throws -> CameraColour {
        var colour = CameraColour()
        colour.asShotMultipliers = try optional { try $0.vector() }
        colour.daylightMultipliers = try optional { try $0.vector() }
        colour.cameraToSRGB = try optional { try $0.matrix() }
        colour.xyzToCamera = try optional { try $0.matrix() }
        colour.dngCalibrations = try array(minimumSize: 8 + 1 + 1 + 72) { reader in
            DNGCalibration(illuminant: try reader.int(), colorMatrix: try reader.optional { try $0.matrix() },
                           forwardMatrix: try reader.optional { try $0.matrix() }, cameraCalibration: try reader.matrix())
        }
        colour.analogBalance = try vector()
        colour.asShotNeutral = try optional { try $0.vector() }
        colour.asShotWhiteXY = try optional { Chromaticity(x: try $0.double(), y: try $0.double()) }
        colour.baselineExposure = try float()
        return colour
    }

    mutating func metadata() throws -> ShotMetadata {
        var m = ShotMetadata()
        m.make = try string(); m.model = try string(); m.software = try string()
        m.iso = try float(); m.shutterSeconds = try float(); m.aperture = try float(); m.focalLength = try float()
        m.lens = try string()
        m.artist = try string()
        m.copyright = try string()
        m.rating = try optional { try $0.int() }
        if let rating = m.rating, !XMPRating.range.contains(rating) { throw WireError.malformed }
        m.labels = try array(minimumSize: 1) { reader in
            guard let label = ColourLabel(rawValue: Int(try reader.byte())) else { throw WireError.malformed }
            return label
        }
        m.location = try optional { reader in
            GPSLocation(latitude: try reader.optional { try $0.double() }, longitude: try reader.optional { try $0.double() },
                        altitude: try reader.optional { try $0.double() }, secondsOfDay: try reader.optional { try $0.double() })
        }
        m.timestamp = try int()
        guard let orientation = Orientation(rawValue: Int(try byte())) else { throw WireError.malformed }
        m.orientation = orientation
        m.pixelAspect = try double()
        m.dngVersion = try string()
        m.sensorWidth = try int(); m.sensorHeight = try int(); m.cropLeft = try int(); m.cropTop = try int()
        m.bitsPerSample = try int()
        m.linearisation = try string()
        m.opcodes = try array(minimumSize: 4) { try $0.string() }
        func crop() throws -> ImageRectangle? {
            try optional { reader in
                let r = ImageRectangle(x: try reader.int(), y: try reader.int(), width: try reader.int(), height: try reader.int())
                guard r.x >= 0, r.y >= 0, r.width >= 1, r.height >= 1 else { throw WireError.malformed }
                return r
            }
        }
        m.defaultCrop = try crop()
        m.userCrop = try crop()
        return m
    }

    /// Lens shading whose maps all survive `LensShading`'s check, as the worker sent them.
    mutating func shading() throws -> LensShading {
        let maps = try array(minimumSize: 15 * 8 + 4) { reader in
            let i = try (0..<10).map { _ in try reader.int() }
            let d = try (0..<4).map { _ in try reader.double() }
            return GainMap(top: i[0], left: i[1], bottom: i[2], right: i[3], plane: i[4], planes: i[5], rowPitch: i[6],
                           columnPitch: i[7], pointsV: i[8], pointsH: i[9], spacingV: d[0], spacingH: d[1], originV: d[2],
                           originH: d[3], mapPlanes: try reader.int(), gains: try reader.floats())
        }
        let offsetX = try int(), offsetY = try int(), imageWidth = try int(), imageHeight = try int()
        guard let shading = LensShading(maps: maps, offsetX: offsetX, offsetY: offsetY, imageWidth: imageWidth, imageHeight: imageHeight),
              shading.maps.count == maps.count else { throw WireError.malformed }
        return shading
    }

    /// A lens warp `LensWarp` accepts, as the worker sent it.
    mutating func warp() throws -> LensWarp {
        let planes = try array(minimumSize: 6 * 8 + 1) { reader in
            let v = try (0..<6).map { _ in try reader.double() }
            var k = LensWarp.Coefficients(radial: SIMD4(v[0], v[1], v[2], v[3]), tangentialX: v[4], tangentialY: v[5])
            k.general = try reader.optional { reader in
                let terms = try reader.array(minimumSize: 8) { try $0.double() }
                return LensWarp.Coefficients.General(terms: terms, minimumRadius: try reader.double(), maximumRadius: try reader.double(),
                                                     reciprocal: try reader.bool())
            }
            return k
        }
        let centreX = try double(), centreY = try double()
        let imageWidth = try int(), imageHeight = try int(), offsetX = try int(), offsetY = try int()
        guard let warp = LensWarp(planes: planes, centreX: centreX, centreY: centreY, imageWidth: imageWidth,
                                  imageHeight: imageHeight, offsetX: offsetX, offsetY: offsetY) else { throw WireError.malformed }
        return warp
    }

    /// A vignette `LensVignette` accepts, as the worker sent it.
    mutating func vignette() throws -> LensVignette {
        let coefficients = try (0..<5).map { _ in try double() }
        let centreX = try double(), centreY = try double()
        let imageWidth = try int(), imageHeight = try int(), offsetX = try int(), offsetY = try int()
        let precedes = try bool()
        guard let vignette = LensVignette(coefficients: coefficients, centreX: centreX, centreY: centreY, imageWidth: imageWidth,
                                          imageHeight: imageHeight, offsetX: offsetX, offsetY: offsetY, precedesWarp: precedes) else {
            throw WireError.malformed
        }
        return vignette
    }
}

// MARK: - Deferred samples

extension WireWriter {
    /// Without the curves, which follow the header.
    mutating func deferred(_ deferred: DeferredSamples) {
        switch deferred {
        case .uncompressed(let s):
            byte(0)
            int(s.offset); int(s.rawWidth); int(s.rawHeight); int(s.bitsPerSample); bool(s.bigEndian)
            int(s.top); int(s.left); int(s.width); int(s.height)
        case .losslessTiles(let t):
            byte(1)
            ints(t.offsets); ints(t.counts)
            int(t.tileWidth); int(t.tileLength); int(t.rawWidth); int(t.rawHeight)
            int(t.top); int(t.left); int(t.width); int(t.height)
            uint32(t.dngVersion)
        case .nikon(let s):
            byte(2)
            int(s.dataOffset); int(s.metaOffset); bool(s.bigEndian); int(s.bitsPerSample); int(s.rawWidth); int(s.rawHeight)
            int(s.top); int(s.left); int(s.width); int(s.height)
        }
    }
}

extension WireReader {
    mutating func deferred() throws -> DeferredSamples {
        switch try byte() {
        case 0:
            return .uncompressed(UncompressedSamples(offset: try int(), rawWidth: try int(), rawHeight: try int(),
                                                     bitsPerSample: try int(), bigEndian: try bool(),
                                                     top: try int(), left: try int(), width: try int(), height: try int()))
        case 1:
            return .losslessTiles(LosslessDNGTiles(offsets: try ints(), counts: try ints(),
                                                   tileWidth: try int(), tileLength: try int(), rawWidth: try int(), rawHeight: try int(),
                                                   top: try int(), left: try int(), width: try int(), height: try int(),
                                                   dngVersion: try uint32()))
        case 2:
            return .nikon(NikonCompressedSamples(dataOffset: try int(), metaOffset: try int(), bigEndian: try bool(),
                                                 bitsPerSample: try int(), rawWidth: try int(), rawHeight: try int(),
                                                 top: try int(), left: try int(), width: try int(), height: try int()))
        default:
            throw WireError.malformed
        }
    }
}
