import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Encoded 8/16-bit output samples → CIELAB D50, fast: the same maths as `EncodedToLab`, with the
/// transfer curve evaluated once per code into a table.
///
/// What: for an output space and bit depth, a table `linear[code] = TRC(code / (2^bits − 1))` (the
/// embedded profile's decoding curve as stored), then the stored colorant matrix to PCS XYZ and
/// CIE 1976 L*a*b* relative to the ICC D50 white.
/// Why: a golden comparison decodes every pixel of two images; `EncodedToLab` evaluates `pow` three
/// times per pixel. The table holds exactly the values `TransferCurve.decode` returns for those
/// codes, and the matrix product is written in the same order as `EncodedToLab.pcsXYZ`, so the
/// result is bitwise what `EncodedToLab(space).lab(fromEncoded: codes / maxCode)` gives (a test
/// checks every space on random codes).
/// Reference: ICC.1:2022 §F.3 (matrix/TRC profile decoding); CIE 15:2004 §8.2.1 (CIELAB).
/// Colour space in: encoded RGB of `space` (integer codes); out: L*a*b* D50.
public struct EncodedLabDecoder: Sendable {
    public let space: OutputSpace
    public let bitDepth: Int
    private let table: [Double]
    private let m: (Double, Double, Double, Double, Double, Double, Double, Double, Double)

    public init(space: OutputSpace, bitDepth: Int) throws {
        precondition(bitDepth == 8 || bitDepth == 16, "bit depth \(bitDepth)")
        let profile = try space.embeddedProfile()
        self.space = space
        self.bitDepth = bitDepth
        let a = profile.linearToPCS.m
        m = (a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8])
        table = try space.decodingTable(bitDepth: bitDepth)
    }

    /// L*a*b* (D50) of one pixel's codes (each < 2^bitDepth).
    @inline(__always)
    public func lab(_ r: UInt16, _ g: UInt16, _ b: UInt16) -> CIELab {
        table.withUnsafeBufferPointer { t in
            let lr = t[Int(r)], lg = t[Int(g)], lb = t[Int(b)]
            let xyz = SIMD3(m.0 * lr + m.1 * lg + m.2 * lb, m.3 * lr + m.4 * lg + m.5 * lb, m.6 * lr + m.7 * lg + m.8 * lb)
            return CIELab(xyz: xyz, white: iccD50)
        }
    }

    /// Lab of every pixel of interleaved RGB samples.
    public func lab(samples: [UInt16]) -> [CIELab] {
        precondition(samples.count % 3 == 0)
        var out = [CIELab]()
        out.reserveCapacity(samples.count / 3)
        samples.withUnsafeBufferPointer { s in
            for i in stride(from: 0, to: s.count, by: 3) { out.append(lab(s[i], s[i + 1], s[i + 2])) }
        }
        return out
    }
}
