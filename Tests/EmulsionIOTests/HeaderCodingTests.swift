import EmulsionCore
@testable import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// The decode worker's header format (`HeaderCoding`).
///
/// References: the types' own Codable conformances, which the compiler synthesises from every
/// stored property, are the independent record of what a header must carry: a decoded header's
/// JSON equals the original's. Floats are compared by bit pattern (−0, NaN payloads): no
/// tolerance, the format moves bits. Hostile bytes (the parent reads what a worker that parsed an
/// untrusted file wrote) must give an error, never a trap.
final class HeaderCodingTests: XCTestCase {
    func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    func withoutCurve(_ deferred: DeferredSamples?) -> DeferredSamples? {
        switch deferred {
        case .losslessTiles(var tiles): tiles.curve = []; return .losslessTiles(tiles)
        case .nikon(var samples): samples.curve = []; return .nikon(samples)
        default: return deferred
        }
    }

    func roundTrip(_ image: RawImage, _ deferred: DeferredSamples?, _ label: String) throws {
        let bytes = HeaderCoding.encode(image: image, deferred: deferred)
        let back = try bytes.withUnsafeBytes { try HeaderCoding.decode($0) }
        XCTAssertEqual(try json(back.image), try json(image), label)
        XCTAssertEqual(back.deferred, withoutCurve(deferred), label)
        // Written again, the same bytes: every field came back to its bits.
        XCTAssertEqual(HeaderCoding.encode(image: back.image, deferred: back.deferred), bytes, "\(label): exact")
    }

    /// Every raw sample's header, as the worker sends it.
    func testSampleHeadersComeBackExactly() throws {
        var checked = 0, shaded = 0, warped = 0, deferredKinds = Set<String>()
        for sample in TestSupport.rawSamples() {
            guard case (var image, let deferred)? = try? RawFile.readDeferringSamples(path: sample.url.path) else { continue }
            image.samples = []
            try roundTrip(image, deferred, sample.name)
            checked += 1
            if image.lensShading != nil { shaded += 1 }
            if image.lensWarp != nil { warped += 1 }
            if let deferred { deferredKinds.insert("\(deferred)".prefix { $0 != "(" }.description) }
        }
        if checked == 0 && !TestSupport.inCI { throw XCTSkip("samples missing") }
        XCTAssertGreaterThan(checked, 5)
        XCTAssertGreaterThan(shaded, 0, "a sample with gain maps")
        XCTAssertGreaterThan(warped, 0, "a sample with a lens warp")
        XCTAssertEqual(deferredKinds, ["uncompressed", "losslessTiles", "nikon"])
    }

    /// A header with every optional present, every field away from its default, and the floats
    /// a text format would lose: each deferred kind.
    func testEveryFieldComesBack() throws {
        var image = RawImage(width: 7, height: 5, layout: .mosaic(CFAPattern(width: 2, height: 2, colours: [0, 1, 1, 2])), samples: [],
                             levels: SensorLevels(blackTileWidth: 2, blackTileHeight: 1, blackTile: [-0.0, 64.5], white: 4095),
                             colour: CameraColour(asShotMultipliers: [2, 1, 1.5], daylightMultipliers: [1.9, 1, 1.4],
                                                  cameraToSRGB: Matrix3(rowMajor: [1, 2, 3, 4, 5, 6, 7, 8, 9]),
                                                  dngCalibrations: [DNGCalibration(illuminant: 17, colorMatrix: .identity, forwardMatrix: nil),
                                                                    DNGCalibration(illuminant: 21, colorMatrix: nil, forwardMatrix: .identity,
                                                                                   cameraCalibration: .diagonal([1.01, 1, 0.99]))],
                                                  analogBalance: [1, 1.02, 1], asShotNeutral: [0.5, 1, 0.7],
                                                  baselineExposure: Float(bitPattern: 0x7FC0_1234)),
                             metadata: ShotMetadata())
        image.colour.xyzToCamera = Matrix3(rowMajor: [-0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, .infinity, -1, 0, 1, 2, 3])
        image.colour.asShotWhiteXY = Chromaticity(x: 0.3457, y: 0.3585)
        var m = ShotMetadata()
        (m.make, m.model, m.software, m.lens) = ("Make", "Modèl 緑", "", "🟩 lens")
        (m.iso, m.shutterSeconds, m.aperture, m.focalLength) = (800, 1 / 250, 1.8, 6.8)
        m.artist = "Ada Lovelace, ©"
        m.copyright = "© 2026 Ada"
        m.rating = -1
        m.labels = [.red, .purple]
        m.location = GPSLocation(latitude: -33.856784, longitude: nil, altitude: -0.0, secondsOfDay: 86_399.5)
        m.timestamp = -12345
        m.orientation = .rotate90CounterClockwise
        m.pixelAspect = 1.5
        m.dngVersion = "1.4.0.0"
        (m.sensorWidth, m.sensorHeight, m.cropLeft, m.cropTop, m.bitsPerSample) = (4032, 3024, 8, 6, 12)
        m.linearisation = "table"
        m.opcodes = ["GainMap", "WarpRectilinear"]
        m.defaultCrop = ImageRectangle(x: 1, y: 2, width: 5, height: 3)
        m.userCrop = ImageRectangle(x: 2, y: 2, width: 3, height: 2)
        image.metadata = m
        let map = GainMap(top: 0, left: 1, bottom: 5, right: 7, plane: 0, planes: 1, rowPitch: 2, columnPitch: 2, pointsV: 2, pointsH: 3,
                          spacingV: 1, spacingH: 0.5, originV: 0, originH: 0, mapPlanes: 1, gains: [1, 1.1, 1.2, 1.3, 1.4, 1.5])
        image.lensShading = LensShading(maps: [map, map], offsetX: 3, offsetY: 2, imageWidth: 20, imageHeight: 10)
        image.lensWarp = LensWarp(planes: [.init(radial: [0.99, 0.01, -0.0, .leastNonzeroMagnitude], tangentialX: 1e-3, tangentialY: -2e-3),
                                           .identity, .init(radial: [1.01, 0, 0, 0])],
                                  centreX: 0.5, centreY: 0.4375, imageWidth: 20, imageHeight: 10, offsetX: 3, offsetY: -1)
        image.lensVignette = LensVignette(coefficients: [0.3, -0.1, .leastNonzeroMagnitude, 0, -1e-3], centreX: 0.25, centreY: 1,
                                          imageWidth: 20, imageHeight: 10, offsetX: -2, offsetY: 4, precedesWarp: true)
        XCTAssertNotNil(image.lensVignette)
        let deferred: [DeferredSamples?] = [
            nil,
            .uncompressed(UncompressedSamples(offset: 100, rawWidth: 8, rawHeight: 6, bitsPerSample: 12, bigEndian: true,
                                              top: 1, left: 1, width: 7, height: 5)),
            .losslessTiles(LosslessDNGTiles(offsets: [10, 2000], counts: [1990, 500], tileWidth: 256, tileLength: 256, rawWidth: 8,
                                            rawHeight: 6, top: 0, left: 1, width: 7, height: 5, dngVersion: 0x0104_0000, curve: [1, 2, 3])),
            .nikon(NikonCompressedSamples(dataOffset: 4096, metaOffset: 512, bigEndian: false, bitsPerSample: 14, rawWidth: 8,
                                          rawHeight: 6, top: 0, left: 0, width: 7, height: 5, curve: [4])),
        ]
        for item in deferred { try roundTrip(image, item, "\(String(describing: item))") }
        let back = try HeaderCoding.encode(image: image, deferred: nil).withUnsafeBytes { try HeaderCoding.decode($0) }
        XCTAssertEqual(back.image.colour.baselineExposure.bitPattern, 0x7FC0_1234, "a NaN's payload")
        XCTAssertEqual(back.image.levels.blackTile[0].bitPattern, (-0.0 as Float).bitPattern)
        var rgb = image
        rgb.layout = .rgb
        rgb.lensShading = nil
        rgb.lensWarp = nil
        rgb.lensVignette = nil
        try roundTrip(rgb, nil, "rgb")
        // WarpRectilinear2's model travels with its terms, range and reciprocal flag.
        var second = image
        let general = LensWarp.Coefficients.General(terms: (0..<15).map { $0 == 0 ? 1 : Double($0) * -1e-3 }, minimumRadius: 0.125,
                                                    maximumRadius: 0.875, reciprocal: true)
        second.lensWarp = LensWarp(planes: [.init(general: general, tangentialX: 1e-3, tangentialY: -0.0)],
                                   centreX: 0.5, centreY: 0.25, imageWidth: 20, imageHeight: 10, offsetX: 3, offsetY: -1)
        XCTAssertNotNil(second.lensWarp)
        try roundTrip(second, nil, "WarpRectilinear2")
    }

    /// `HeaderCoding` writes these stored properties, in this order. A property added to one of
    /// the types must be added to its coder too; this test names the type when one is.
    func testCodedFieldsAreTheTypesStoredProperties() throws {
        func labels(_ value: Any) -> [String] { Mirror(reflecting: value).children.compactMap(\.label) }
        let pattern = CFAPattern(width: 2, height: 2, colours: [0, 1, 1, 2])
        let image = RawImage(width: 1, height: 1, layout: .mosaic(pattern), samples: [], levels: SensorLevels(black: 0, white: 1),
                             colour: CameraColour(), metadata: ShotMetadata())
        XCTAssertEqual(labels(image), ["width", "height", "layout", "samples", "levels", "colour", "metadata", "lensShading", "lensWarp", "lensVignette"],
                       "RawImage (samples travel after the header)")
        XCTAssertEqual(labels(pattern), ["width", "height", "colours"], "CFAPattern")
        XCTAssertEqual(labels(image.levels), ["blackTileWidth", "blackTileHeight", "blackTile", "white"], "SensorLevels")
        XCTAssertEqual(labels(image.colour), ["asShotMultipliers", "daylightMultipliers", "cameraToSRGB", "xyzToCamera", "dngCalibrations",
                                              "analogBalance", "asShotNeutral", "asShotWhiteXY", "baselineExposure"], "CameraColour")
        XCTAssertEqual(labels(DNGCalibration(illuminant: 0, colorMatrix: nil, forwardMatrix: nil)),
                       ["illuminant", "colorMatrix", "forwardMatrix", "cameraCalibration"], "DNGCalibration")
        XCTAssertEqual(labels(Matrix3.identity), ["m"], "Matrix3")
        XCTAssertEqual(labels(Chromaticity(x: 0, y: 0)), ["x", "y"], "Chromaticity")
        XCTAssertEqual(labels(GPSLocation()), ["latitude", "longitude", "altitude", "secondsOfDay"], "GPSLocation")
        XCTAssertEqual(labels(ImageRectangle(x: 0, y: 0, width: 1, height: 1)), ["x", "y", "width", "height"], "ImageRectangle")
        XCTAssertEqual(labels(ShotMetadata()), ["make", "model", "software", "iso", "shutterSeconds", "aperture", "focalLength", "lens",
                                                "artist", "copyright", "rating", "labels", "location", "timestamp", "orientation", "pixelAspect", "dngVersion", "sensorWidth", "sensorHeight",
                                                "cropLeft", "cropTop", "bitsPerSample", "linearisation", "opcodes", "defaultCrop", "userCrop"], "ShotMetadata")
        let map = GainMap(top: 0, left: 0, bottom: 1, right: 1, plane: 0, planes: 1, rowPitch: 1, columnPitch: 1, pointsV: 1, pointsH: 1,
                          spacingV: 0, spacingH: 0, originV: 0, originH: 0, mapPlanes: 1, gains: [1])
        XCTAssertEqual(labels(map), ["top", "left", "bottom", "right", "plane", "planes", "rowPitch", "columnPitch", "pointsV", "pointsH",
                                     "spacingV", "spacingH", "originV", "originH", "mapPlanes", "gains"], "GainMap")
        XCTAssertEqual(labels(LensShading(maps: [map], imageWidth: 1, imageHeight: 1)!),
                       ["maps", "offsetX", "offsetY", "imageWidth", "imageHeight"], "LensShading")
        XCTAssertEqual(labels(LensWarp(planes: [.identity], centreX: 0, centreY: 0, imageWidth: 1, imageHeight: 1)!),
                       ["planes", "centreX", "centreY", "imageWidth", "imageHeight", "offsetX", "offsetY"], "LensWarp")
        XCTAssertEqual(labels(LensWarp.Coefficients.identity), ["radial", "tangentialX", "tangentialY", "general"], "LensWarp.Coefficients")
        XCTAssertEqual(labels(LensWarp.Coefficients.General(terms: [])), ["terms", "minimumRadius", "maximumRadius", "reciprocal"],
                       "LensWarp.Coefficients.General")
        XCTAssertEqual(labels(LensVignette(coefficients: [0, 0, 0, 0, 0], centreX: 0, centreY: 0, imageWidth: 1, imageHeight: 1)!),
                       ["coefficients", "centreX", "centreY", "imageWidth", "imageHeight", "offsetX", "offsetY", "precedesWarp"],
                       "LensVignette")
        XCTAssertEqual(labels(UncompressedSamples(offset: 0, rawWidth: 0, rawHeight: 0, bitsPerSample: 0, bigEndian: false, top: 0, left: 0,
                                                  width: 0, height: 0)),
                       ["offset", "rawWidth", "rawHeight", "bitsPerSample", "bigEndian", "top", "left", "width", "height"], "UncompressedSamples")
        XCTAssertEqual(labels(LosslessDNGTiles(offsets: [], counts: [], tileWidth: 0, tileLength: 0, rawWidth: 0, rawHeight: 0, top: 0,
                                               left: 0, width: 0, height: 0, dngVersion: 0)),
                       ["offsets", "counts", "tileWidth", "tileLength", "rawWidth", "rawHeight", "top", "left", "width", "height",
                        "dngVersion", "curve"], "LosslessDNGTiles (the curve travels after the header)")
        XCTAssertEqual(labels(NikonCompressedSamples(dataOffset: 0, metaOffset: 0, bigEndian: false, bitsPerSample: 0, rawWidth: 0,
                                                     rawHeight: 0, top: 0, left: 0, width: 0, height: 0)),
                       ["dataOffset", "metaOffset", "bigEndian", "bitsPerSample", "rawWidth", "rawHeight", "top", "left", "width",
                        "height", "curve"], "NikonCompressedSamples (the curve travels after the header)")
    }

    /// Damaged headers: cut anywhere, a byte too many, bytes flipped, counts made huge, values
    /// the types' initialisers would trap on. Each decode throws or gives a value; none traps,
    /// none allocates what the bytes cannot hold.
    func testDamagedBytesThrowAndNeverTrap() throws {
        let pattern = CFAPattern(width: 2, height: 2, colours: [0, 1, 1, 2])
        var image = RawImage(width: 4, height: 4, layout: .mosaic(pattern), samples: [],
                             levels: SensorLevels(blackTileWidth: 2, blackTileHeight: 2, blackTile: [1, 2, 3, 4], white: 1023),
                             colour: CameraColour(cameraToSRGB: .identity, dngCalibrations: [DNGCalibration(illuminant: 21, colorMatrix: .identity,
                                                                                                            forwardMatrix: nil)]),
                             metadata: ShotMetadata())
        image.metadata.make = "Make"
        image.metadata.opcodes = ["GainMap"]
        let map = GainMap(top: 0, left: 0, bottom: 4, right: 4, plane: 0, planes: 1, rowPitch: 1, columnPitch: 1, pointsV: 2, pointsH: 2,
                          spacingV: 1, spacingH: 1, originV: 0, originH: 0, mapPlanes: 1, gains: [1, 2, 3, 4])
        image.lensShading = LensShading(maps: [map], imageWidth: 4, imageHeight: 4)
        image.lensWarp = LensWarp(planes: [.init(radial: [0.98, 0.02, 0, 0])], centreX: 0.5, centreY: 0.5, imageWidth: 4, imageHeight: 4)
        image.lensVignette = LensVignette(coefficients: [0.5, 0, 0, 0, 0], centreX: 0.5, centreY: 0.5, imageWidth: 4, imageHeight: 4)
        let deferred = DeferredSamples.losslessTiles(LosslessDNGTiles(offsets: [8], counts: [100], tileWidth: 16, tileLength: 16, rawWidth: 4,
                                                                      rawHeight: 4, top: 0, left: 0, width: 4, height: 4, dngVersion: 1))
        let bytes = HeaderCoding.encode(image: image, deferred: deferred)
        func decodes(_ damaged: [UInt8]) -> Bool { (try? damaged.withUnsafeBytes { try HeaderCoding.decode($0) }) != nil }
        XCTAssertTrue(decodes(bytes))
        for length in 0..<bytes.count { XCTAssertFalse(decodes(Array(bytes.prefix(length))), "cut at \(length)") }
        XCTAssertFalse(decodes(bytes + [0]), "a byte too many")
        var other = bytes
        other[0] = HeaderCoding.formatVersion &+ 1
        XCTAssertFalse(decodes(other), "another format version")
        var random = SplitMix64(seed: 5)
        for _ in 0..<5000 {
            var damaged = bytes
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                damaged[Int.random(in: 0..<damaged.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            _ = decodes(damaged)
        }
        // Each 4-byte count set to 2³² − 1 in turn (wherever four bytes could be one), and each
        // byte to every value: only errors or values, never a trap.
        for start in 0..<(bytes.count - 4) {
            var damaged = bytes
            damaged.replaceSubrange(start..<(start + 4), with: [0xFF, 0xFF, 0xFF, 0xFF])
            _ = decodes(damaged)
        }
        for index in 0..<bytes.count {
            var damaged = bytes
            for value in [0, 1, 2, 3, 0x7F, 0x80, 0xFF] as [UInt8] {
                damaged[index] = value
                _ = decodes(damaged)
            }
        }
        // What the initialisers check, one at a time.
        func header(_ change: (inout RawImage) -> Void) -> [UInt8] {
            var changed = image
            change(&changed)
            return HeaderCoding.encode(image: changed, deferred: deferred)
        }
        let cfaAt = 1 + 16 + 1 + 16 + 4  // version, width and height, layout, the pattern's size, its count
        var badColour = bytes
        XCTAssertEqual(Array(badColour[cfaAt..<(cfaAt + 4)]), [0, 1, 1, 2])
        badColour[cfaAt + 3] = 3
        XCTAssertFalse(decodes(badColour), "a CFA colour beyond blue")
        var badLayout = bytes
        badLayout[17] = 2
        XCTAssertFalse(decodes(badLayout), "an unknown layout")
        var tile = header { $0.levels.blackTileWidth = 3 }
        XCTAssertFalse(decodes(tile), "a black tile of the wrong size")
        tile = header { $0.levels.blackTileWidth = 0; $0.levels.blackTileHeight = 0 }
        XCTAssertFalse(decodes(tile), "an empty black tile")
        let orientation = header { $0.metadata.make = "\u{1}ORIENT" }
        let at = orientation.indices.first { orientation[$0...].starts(with: Array("\u{1}ORIENT".utf8)) }! 
            + 7 + 4 + 4 + 4 * 4 + 4 + 4 + 4 + 1 + 4 + 1 + 8  // make's bytes, model's and software's (empty) counts,
                                                             // four floats, lens's, artist's and copyright's counts,
                                                             // no rating, no labels, no location, timestamp
        XCTAssertEqual(orientation[at], 1, "the orientation's byte")
        var badOrientation = orientation
        badOrientation[at] = 9
        XCTAssertFalse(decodes(badOrientation), "orientation 9")
        for rating in [-2, 6, Int.max] {
            XCTAssertFalse(decodes(header { $0.metadata.rating = rating }), "rating \(rating)")
        }
        XCTAssertTrue(decodes(header { $0.metadata.rating = 5 }))
        // A colour label's byte beyond purple (4).
        var badLabel = header { $0.metadata.make = "\u{1}ORIENT"; $0.metadata.labels = [.purple] }
        let labelAt = at - 8 - 1   // where the location's flag was: the one label's byte, after the labels' count
        XCTAssertEqual(badLabel[labelAt], 4, "the label's byte")
        badLabel[labelAt] = 5
        XCTAssertFalse(decodes(badLabel), "label 5")
        // A NaN in place of the last gain: that map is invalid, `LensShading` would drop it, and
        // the reader reports that instead of decoding fewer maps than were sent.
        var writer = WireWriter()
        writer.shading(LensShading(maps: [map, map], imageWidth: 4, imageHeight: 4)!)
        var shadingBytes = writer.bytes
        try shadingBytes.withUnsafeBytes { buffer in
            var reader = WireReader(bytes: buffer)
            XCTAssertEqual(try reader.shading().maps.count, 2, "as written")
        }
        let gainsEnd = shadingBytes.count - 32
        withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { shadingBytes.replaceSubrange((gainsEnd - 4)..<gainsEnd, with: $0) }
        try shadingBytes.withUnsafeBytes { buffer in
            var reader = WireReader(bytes: buffer)
            XCTAssertThrowsError(try reader.shading(), "a map LensShading would drop")
        }
    }
}
