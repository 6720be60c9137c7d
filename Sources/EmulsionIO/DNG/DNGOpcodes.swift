import EmulsionCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The DNG opcode lists of the raw image's directory: every opcode named (for `info`), the
/// GainMap opcodes of OpcodeList2 decoded for `LensShading`, OpcodeList3's first
/// WarpRectilinear for `LensWarp` and its first FixVignetteRadial for `LensVignette`.
///
/// Why: LibRaw 0.20 neither applies nor exposes the opcode lists. Opcode lists are big-endian
/// whatever the file's byte order (DNG 1.6 §7).
/// Reference: DNG specification 1.6, chapter 7 (opcode list layout, opcode IDs 1–14, GainMap
/// WarpRectilinear and FixVignetteRadial parameters), tags OpcodeList1/2/3 = 51008/51009/51022, ActiveArea = 50829.
public struct DNGOpcodes: Sendable, Equatable {
    public struct Record: Sendable, Equatable {
        /// 1, 2 or 3: which OpcodeList.
        public var list: Int
        public var id: Int
        public var name: String
        /// The "optional" flag: a reader may skip it.
        public var optional: Bool
    }

    public var records: [Record] = []
    /// GainMap opcodes of OpcodeList2.
    public var gainMaps: [GainMap] = []
    /// The first WarpRectilinear of OpcodeList3 (the one applied), as read: no area yet.
    public var warp: Warp?
    /// Its position among `records`.
    var warpRecord: Int?
    /// The first FixVignetteRadial of OpcodeList3 (the one applied), as read.
    public var vignette: Vignette?
    /// Its position among `records`.
    var vignetteRecord: Int?

    /// FixVignetteRadial's parameters (DNG 1.6 §7, opcode 3): k0 … k4 and the optical centre
    /// relative to the image area.
    public struct Vignette: Sendable, Equatable {
        public var coefficients: [Double]
        public var centreX: Double, centreY: Double

        public init(coefficients: [Double], centreX: Double, centreY: Double) {
            self.coefficients = coefficients
            self.centreX = centreX
            self.centreY = centreY
        }
    }

    /// The vignette over an area of `imageWidth` × `imageHeight` whose visible part starts at
    /// (`offsetX`, `offsetY`), in its place in the list relative to the warp; nil where the SDK
    /// would refuse the parameters.
    public func lensVignette(imageWidth: Int, imageHeight: Int, offsetX: Int, offsetY: Int) -> LensVignette? {
        guard let vignette, let index = vignetteRecord else { return nil }
        return LensVignette(coefficients: vignette.coefficients, centreX: vignette.centreX, centreY: vignette.centreY,
                            imageWidth: imageWidth, imageHeight: imageHeight, offsetX: offsetX, offsetY: offsetY,
                            precedesWarp: warpRecord.map { index < $0 } ?? false)
    }

    /// WarpRectilinear's parameters (DNG 1.6 §7, opcode 1): a coefficient set per plane and the
    /// optical centre relative to the image area.
    public struct Warp: Sendable, Equatable {
        public var planes: [LensWarp.Coefficients]
        public var centreX: Double, centreY: Double

        public init(planes: [LensWarp.Coefficients], centreX: Double, centreY: Double) {
            self.planes = planes
            self.centreX = centreX
            self.centreY = centreY
        }

        /// The warp over an area of `imageWidth` × `imageHeight` whose visible part starts at
        /// (`offsetX`, `offsetY`); nil where the SDK would refuse the parameters.
        public func lensWarp(imageWidth: Int, imageHeight: Int, offsetX: Int, offsetY: Int) -> LensWarp? {
            LensWarp(planes: planes, centreX: centreX, centreY: centreY, imageWidth: imageWidth, imageHeight: imageHeight,
                     offsetX: offsetX, offsetY: offsetY)
        }
    }
    /// The raw directory's ActiveArea (top, left, bottom, right), if recorded.
    public var activeArea: [Int]?
    /// The raw is stored as lossy JPEG (Compression 34892).
    public var lossyJPEG = false

    public static let names = [1: "WarpRectilinear", 2: "WarpFisheye", 3: "FixVignetteRadial", 4: "FixBadPixelsConstant",
                               5: "FixBadPixelsList", 6: "TrimBounds", 7: "MapTable", 8: "MapPolynomial", 9: "GainMap",
                               10: "DeltaPerRow", 11: "DeltaPerColumn", 12: "ScalePerRow", 13: "ScalePerColumn",
                               14: "WarpRectilinear2"]

    public static func read(path: String) -> DNGOpcodes? {
        guard let file = FileBytes(path: path) else { return nil }
        return read(source: file)
    }

    /// The opcodes of a DNG held in memory.
    public static func read(bytes: [UInt8]) -> DNGOpcodes? { read(source: bytes) }

    /// The opcodes of a DNG read through `source`.
    static func read(source: any ByteSource) -> DNGOpcodes? { read(directories: TIFFDirectory.all(source)) }

    /// The opcodes of a DNG whose directories are parsed already (`RawFile` parses them once per file).
    static func read(directories: [TIFFDirectory]) -> DNGOpcodes? {
        guard let raw = rawDirectory(directories) else { return nil }
        var out = DNGOpcodes()
        if let area = raw.integers(50829), area.count == 4 { out.activeArea = area }
        out.lossyJPEG = raw.numbers(259)?.first == 34892
        for (list, tag) in [(1, 51008), (2, 51009), (3, 51022)] {
            guard let bytes = raw.data(tag) else { continue }
            out.parse(bytes, list: list)
        }
        return out
    }

    /// The directory holding the raw image (NewSubFileType 0, CFA or LinearRaw), where the DNG
    /// puts ActiveArea, DefaultCrop and the opcode lists; IFD0 when none is marked so.
    static func rawDirectory(_ directories: [TIFFDirectory]) -> TIFFDirectory? {
        directories.first { $0.numbers(254)?.first == 0 && [32803.0, 34892].contains($0.numbers(262)?.first ?? 0) } ?? directories.first
    }

    mutating func parse(_ b: [UInt8], list: Int) {
        func u32(_ o: Int) -> Int? {
            guard o >= 0, o + 4 <= b.count else { return nil }
            return Int(UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3]))
        }
        func f64(_ o: Int) -> Double? {
            guard let hi = u32(o), let lo = u32(o + 4) else { return nil }
            return Double(bitPattern: UInt64(hi) << 32 | UInt64(lo))
        }
        guard let count = u32(0), count < 10_000 else { return }
        var p = 4
        for _ in 0..<count {
            guard let id = u32(p), let flags = u32(p + 8), let size = u32(p + 12), p + 16 + size <= b.count else { return }
            let q = p + 16
            records.append(Record(list: list, id: id, name: Self.names[id] ?? "opcode \(id)", optional: flags & 1 != 0))
            if id == 9, list == 2, size >= 76,
               let top = u32(q), let left = u32(q + 4), let bottom = u32(q + 8), let right = u32(q + 12),
               let plane = u32(q + 16), let planes = u32(q + 20), let rowPitch = u32(q + 24), let columnPitch = u32(q + 28),
               let pointsV = u32(q + 32), let pointsH = u32(q + 36),
               let spacingV = f64(q + 40), let spacingH = f64(q + 48), let originV = f64(q + 56), let originH = f64(q + 64),
               let mapPlanes = u32(q + 72), let n = GainMap.valueCount(pointsV, pointsH, mapPlanes), n <= (size - 76) / 4 {
                let gains = (0..<n).map { Float(bitPattern: UInt32(u32(q + 76 + 4 * $0)!)) }
                gainMaps.append(GainMap(top: top, left: left, bottom: bottom, right: right, plane: plane, planes: planes,
                                        rowPitch: rowPitch, columnPitch: columnPitch, pointsV: pointsV, pointsH: pointsH,
                                        spacingV: spacingV, spacingH: spacingH, originV: originV, originH: originH,
                                        mapPlanes: mapPlanes, gains: gains))
            }
            if id == 1, list == 3, warp == nil, let planes = u32(q), (1...3).contains(planes), size == 4 + 48 * planes + 16 {
                let values = (0..<(6 * planes + 2)).map { f64(q + 4 + 8 * $0)! }
                warp = Warp(planes: (0..<planes).map { i in
                    let v = Array(values[(6 * i)..<(6 * i + 6)])
                    // Stored kr0…kr3, kt0, kt1; kt0 weighs r² + 2dy² (`LensWarp`).
                    return LensWarp.Coefficients(radial: SIMD4(v[0], v[1], v[2], v[3]), tangentialX: v[5], tangentialY: v[4])
                }, centreX: values[6 * planes], centreY: values[6 * planes + 1])
                warpRecord = records.count - 1
            }
            // WarpRectilinear2 (DNG 1.6): per plane 15 radial terms, kt0, kt1, the valid radius
            // range; the centre; a 32-bit reciprocal flag.
            if id == 14, list == 3, warp == nil, let planes = u32(q), (1...3).contains(planes), size == 4 + 152 * planes + 20,
               let reciprocal = u32(q + 4 + 152 * planes + 16) {
                let values = (0..<(19 * planes + 2)).map { f64(q + 4 + 8 * $0)! }
                warp = Warp(planes: (0..<planes).map { i in
                    let v = Array(values[(19 * i)..<(19 * i + 19)])
                    let general = LensWarp.Coefficients.General(terms: Array(v[0..<15]), minimumRadius: v[17], maximumRadius: v[18],
                                                                reciprocal: reciprocal != 0)
                    return LensWarp.Coefficients(general: general, tangentialX: v[16], tangentialY: v[15])
                }, centreX: values[19 * planes], centreY: values[19 * planes + 1])
                warpRecord = records.count - 1
            }
            if id == 3, list == 3, vignette == nil, size == 56 {
                let values = (0..<7).map { f64(q + 8 * $0)! }
                vignette = Vignette(coefficients: Array(values[0..<5]), centreX: values[5], centreY: values[6])
                vignetteRecord = records.count - 1
            }
            p = q + size
        }
    }

    /// A 32-bit field of an opcode list (big-endian, DNG 1.6 §7).
    private static func u32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: UInt32(truncatingIfNeeded: v) >> (24 - 8 * $0)) } }
    /// A double of an opcode list (big-endian IEEE 754).
    private static func f64(_ v: Double) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v.bitPattern >> (56 - 8 * UInt64($0))) } }

    /// An OpcodeList2 holding `gainMaps` as GainMap opcodes (ID 9, DNG 1.3.0.0, not optional):
    /// the layout `parse` reads, big-endian (DNG 1.6 §7).
    public static func listBytes(gainMaps: [GainMap]) -> [UInt8] {
        var out = u32(gainMaps.count)
        for m in gainMaps {
            var parameters = [m.top, m.left, m.bottom, m.right, m.plane, m.planes, m.rowPitch, m.columnPitch,
                              m.pointsV, m.pointsH].flatMap(u32)
            parameters += [m.spacingV, m.spacingH, m.originV, m.originH].flatMap(f64) + u32(m.mapPlanes)
            parameters += m.gains.flatMap { u32(Int($0.bitPattern)) }
            out += u32(9) + u32(0x0103_0000) + u32(0) + u32(parameters.count) + parameters
        }
        return out
    }

    /// WarpRectilinear opcode in OpcodeList3 (ID 1, DNG 1.3.0.0, optional, as phones mark it):
    /// the layout `parse` reads, big-endian (DNG 1.6 §7).
    public static func listBytes(warp: Warp) -> [UInt8] { listBytes(warp: warp, vignette: nil, vignetteFirst: false) }

    /// One WarpRectilinear opcode as a list holds it (WarpRectilinear2, ID 14, DNG 1.6.0.0, for
    /// planes of its model).
    private static func opcode(warp: Warp) -> [UInt8] {
        if let first = warp.planes.first?.general {
            var parameters = u32(warp.planes.count)
            for k in warp.planes {
                let g = k.general ?? first
                parameters += (g.terms + [k.tangentialY, k.tangentialX, g.minimumRadius, g.maximumRadius]).flatMap(f64)
            }
            parameters += f64(warp.centreX) + f64(warp.centreY) + u32(first.reciprocal ? 1 : 0)
            return u32(14) + u32(0x0106_0000) + u32(1) + u32(parameters.count) + parameters
        }
        var parameters = u32(warp.planes.count)
        for k in warp.planes {
            parameters += [k.radial.x, k.radial.y, k.radial.z, k.radial.w, k.tangentialY, k.tangentialX].flatMap(f64)
        }
        parameters += f64(warp.centreX) + f64(warp.centreY)
        return u32(1) + u32(0x0103_0000) + u32(1) + u32(parameters.count) + parameters
    }

    /// One FixVignetteRadial opcode (ID 3, DNG 1.3.0.0, optional) as a list holds it.
    private static func opcode(vignette: Vignette) -> [UInt8] {
        let parameters = (vignette.coefficients + [vignette.centreX, vignette.centreY]).flatMap(f64)
        return u32(3) + u32(0x0103_0000) + u32(1) + u32(parameters.count) + parameters
    }

    /// An OpcodeList3 of the warp and the vignette, in that order or the vignette first
    /// (`vignetteFirst`), either one alone, or none (an empty list).
    public static func listBytes(warp: Warp?, vignette: Vignette?, vignetteFirst: Bool) -> [UInt8] {
        var opcodes = [warp.map(opcode(warp:)), vignette.map(opcode(vignette:))].compactMap { $0 }
        if vignetteFirst { opcodes.reverse() }
        return u32(opcodes.count) + opcodes.flatMap { $0 }
    }

    /// One line per opcode for `info`: what it is and whether Emulsion applies it (GainMaps only
    /// apply to mosaic data, `appliesGainMaps`; the warp when `appliesWarp` and the vignette when
    /// `appliesVignette`, the reader having found them valid and not identities).
    public func descriptions(appliesGainMaps: Bool, appliesWarp: Bool = false, appliesVignette: Bool = false) -> [String] {
        records.enumerated().map { index, r in
            let what: String
            if r.id == 9 && r.list == 2 && appliesGainMaps {
                what = "applied (lens shading; opcodes.gainMap=false to skip)"
            } else if index == warpRecord && appliesWarp {
                what = "applied (lens distortion\(warp!.planes.count == 3 ? " and lateral chromatic aberration" : ""); opcodes.warp=false to skip)"
            } else if index == vignetteRecord && appliesVignette {
                what = "applied (vignetting; opcodes.vignette=false to skip)"
            } else if r.id == 8 && r.list == 2 && lossyJPEG {
                // LibRaw (dcraw's lossy_dng_load_raw) folds OpcodeList2 MapPolynomial into its
                // decoding curve for lossy JPEG DNGs: applying it again would double it.
                what = "applied by the decoder (LibRaw, lossy DNG)"
            } else {
                what = "ignored" + (r.optional ? " (optional)" : " (not optional: the render may differ from the camera's)")
            }
            return "OpcodeList\(r.list): \(r.name) — \(what)"
        }
    }
}
