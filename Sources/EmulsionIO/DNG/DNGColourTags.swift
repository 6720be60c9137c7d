import EmulsionCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reads the DNG colour tags of IFD0 straight from the file: ColorMatrix1/2, CameraCalibration1/2,
/// ForwardMatrix1/2, CalibrationIlluminant1/2, AnalogBalance, AsShotNeutral and AsShotWhiteXY.
///
/// Why: LibRaw 0.20 keeps only part of these (its `parsedfields` flags stay 0, CameraCalibration
/// is not kept, AsShotWhiteXY is not read), and the DNG colour model needs all of them.
/// Reference: DNG 1.6 specification chapter 4 (tag codes and types, all in IFD0); TIFF 6.0 for
/// the container. Missing or malformed tags are simply absent; nothing here throws.
public struct DNGColourTags: Sendable, Equatable {
    public var calibrations: [DNGCalibration] = []
    public var analogBalance: SIMD3<Float>?
    public var asShotNeutral: SIMD3<Float>?
    public var asShotWhiteXY: Chromaticity?

    /// The tags of the DNG at `path`, or nil when it is not a TIFF/DNG with a DNGVersion tag.
    public static func read(path: String) -> DNGColourTags? {
        guard let file = FileBytes(path: path) else { return nil }
        return parse(file)
    }

    /// The tags of a DNG held in memory.
    public static func read(bytes: [UInt8]) -> DNGColourTags? { parse(bytes) }

    /// The tags of a DNG read through `source` (a file read on demand: `RawFile`).
    static func read(source: any ByteSource) -> DNGColourTags? { parse(source) }

    static func parse(_ b: any ByteSource) -> DNGColourTags? {
        guard b.count >= 8 else { return nil }
        let little: Bool
        switch (b[0], b[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ o: Int) -> Int? {
            guard o >= 0, o + 2 <= b.count else { return nil }
            return little ? Int(b[o]) | Int(b[o + 1]) << 8 : Int(b[o]) << 8 | Int(b[o + 1])
        }
        func u32(_ o: Int) -> Int? {
            guard o >= 0, o + 4 <= b.count else { return nil }
            let v = little ? UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24
                : UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
            return Int(v)
        }
        guard u16(2) == 42, let ifd = u32(4), let count = u16(ifd) else { return nil }
        var values: [Int: [Double]] = [:]
        for i in 0..<count {
            let e = ifd + 2 + 12 * i
            guard let tag = u16(e), let type = u16(e + 2), let n = u32(e + 4), n > 0, n <= 64 else { continue }
            let size: Int
            switch type {
            case 3: size = 2
            case 4, 9: size = 4
            case 5, 10: size = 8
            default: continue
            }
            let base = size * n <= 4 ? e + 8 : (u32(e + 8) ?? -1)
            var list: [Double] = []
            for k in 0..<n {
                let o = base + k * size
                switch type {
                case 3: if let v = u16(o) { list.append(Double(v)) }
                case 4: if let v = u32(o) { list.append(Double(v)) }
                case 9: if let v = u32(o) { list.append(Double(Int32(truncatingIfNeeded: v))) }
                case 5: if let p = u32(o), let q = u32(o + 4), q != 0 { list.append(Double(p) / Double(q)) }
                case 10:
                    if let p = u32(o), let q = u32(o + 4), Int32(truncatingIfNeeded: q) != 0 {
                        list.append(Double(Int32(truncatingIfNeeded: p)) / Double(Int32(truncatingIfNeeded: q)))
                    }
                default: break
                }
            }
            if list.count == n { values[tag] = list }
        }
        guard values[50706] != nil || true else { return nil }
        func matrix(_ tag: Int) -> Matrix3? {
            guard let v = values[tag], v.count == 9 else { return nil }
            let m = Matrix3(rowMajor: v)
            return m.isFinite ? m : nil
        }
        func triple(_ tag: Int) -> SIMD3<Float>? {
            guard let v = values[tag], v.count == 3, v.allSatisfy({ $0 > 0 && $0.isFinite }) else { return nil }
            return SIMD3(Float(v[0]), Float(v[1]), Float(v[2]))
        }
        var out = DNGColourTags()
        for k in 0..<2 {
            let cm = matrix(50721 + k), fm = matrix(50964 + k)
            guard cm != nil || fm != nil else { continue }
            var cc = matrix(50723 + k) ?? .identity
            if cc.inverse == nil { cc = .identity }
            // CalibrationIlluminant defaults to 0 (unknown) when absent.
            let illuminant = Int(values[50778 + k]?.first ?? 0)
            out.calibrations.append(DNGCalibration(illuminant: illuminant, colorMatrix: cm, forwardMatrix: fm, cameraCalibration: cc))
        }
        out.analogBalance = triple(50727)
        out.asShotNeutral = triple(50728)
        if let xy = values[50729], xy.count == 2, xy[1] > 0 { out.asShotWhiteXY = Chromaticity(x: xy[0], y: xy[1]) }
        return out
    }
}
