#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-hue hue, saturation and luminance shifts, applied as a hue × saturation × value table with
/// the semantics of a DNG camera profile's HueSatMap.
///
/// What: RGB → HSV (hexcone, DNG SDK `DNG_RGBtoHSV`), look up (hue shift, saturation scale, value
/// scale) by trilinear interpolation in a table of H hue × S saturation × V value nodes (hue
/// wraps), then h += shift, s ·= scale, v ·= scale and back to RGB — as the DNG SDK's
/// `RefBaselineHueSatMap` (dng_reference.cpp) and DNG 1.6 §6 "ProfileHueSatMapData" describe.
/// Table layout and node spacing follow DNG: value outermost, then hue, then saturation; hue nodes
/// at i·360/H degrees, saturation nodes at j/(S−1). Deviations, stated: the value axis is indexed
/// by √v (like DNG's optional sRGB "ProfileHueSatMapEncoding", it spends nodes on dark tones);
/// and the saturation clamp is max(s, 1) instead of 1, so that an identity table is the identity
/// even for scene colours with a slightly negative channel (outside Rec.2020).
/// The table is built from the profile's eight named hue controls: each control's shift is
/// spread between its neighbours by a raised cosine (no cross-talk past the neighbouring hue),
/// weighted by saturation (0 on greys, full from s ≈ 0.35) and by value (`shadows` at black).
/// Skin protection, when on, scales each looked-up change toward none.
/// Colour space: working RGB (linear Rec.2020, D65) in and out; hue in working-space sextants.
public struct HueSatLumKernel: PointKernel {
    public struct Params: Sendable, Equatable {
        /// Per control (StageCatalogue.hueCentres order): hue shift °, saturation change, luminance stops.
        public var hue: [Double]
        public var saturation: [Double]
        public var luminance: [Double]
        public var shadows: Double
        public init(_ profile: Profile) {
            let names = StageCatalogue.hueCentres.map(\.name)
            hue = names.map { profile.number("hsl", "\($0)Hue") }
            saturation = names.map { profile.number("hsl", "\($0)Saturation") }
            luminance = names.map { profile.number("hsl", "\($0)Luminance") }
            shadows = profile.number("hsl", "shadows")
        }
        public var isIdentity: Bool {
            (hue + saturation + luminance).allSatisfy { $0 == 0 }
        }
    }

    public static let hueDivisions = 90
    public static let saturationDivisions = 7
    public static let valueDivisions = 5
    /// Hue-padded row length: node H repeats node 0 so the upper neighbour never wraps.
    public static let hueStride = hueDivisions + 1

    /// The table, one 4-float record per node (hue shift in sextants, saturation scale, value
    /// scale, 0), node index (v·(H+1) + h)·S + s, so a lane reads a node's three values with one
    /// 16-byte load (`gatheredRecords`).
    public let records: LookTable
    /// The records' fields as three tables, for the shader export, which keeps them apart.
    public var hueShift: [Float] { field(0) }
    public var saturationScale: [Float] { field(1) }
    public var valueScale: [Float] { field(2) }
    func field(_ k: Int) -> [Float] { stride(from: k, to: records.count, by: 4).map { records[$0] } }
    public let skin: SkinProtection
    /// False when every value row of the table is the same (`shadows` = 1): the kernel then
    /// interpolates in hue and saturation only, which gives the same bits (low + vf·0 = low).
    public let valueVaries: Bool

    /// Eight (or sixteen) lanes: the eight record reads per lane leave the vector units waiting,
    /// and a second register's worth of pixels overlaps them (kernel lab, SIMD ns/px: 24.1 at
    /// four lanes, 20.7 at eight; docs/PERFORMANCE.md, run v14).
    public static var runsDoubleWidth: Bool { true }

    public static func prepare(_ params: Params, skin: SkinProtection) -> LookElement? {
        params.isIdentity ? nil : .kernel(HueSatLumKernel(params, skin: skin))
    }

    public init(_ params: Params, skin: SkinProtection) {
        let centres = StageCatalogue.hueCentres.map(\.degrees)
        let h = Self.hueDivisions, s = Self.saturationDivisions, v = Self.valueDivisions
        func smooth(_ t: Double) -> Double { let c = min(max(t, 0), 1); return c * c * (3 - 2 * c) }
        /// A control's value at `degrees`: raised-cosine blend of the two centres around it.
        func control(_ values: [Double], _ degrees: Double) -> Double {
            let n = centres.count
            for i in 0..<n {
                let a = centres[i]
                var b = centres[(i + 1) % n]
                var x = degrees
                if b <= a { b += 360 }
                if x < a { x += 360 }
                if x >= a && x < b {
                    let t = (x - a) / (b - a)
                    let w = (1 - cos(Double.pi * t)) / 2
                    return values[i] + (values[(i + 1) % n] - values[i]) * w
                }
            }
            return values[0]
        }
        var shift = [Float](repeating: 0, count: v * Self.hueStride * s)
        var satScale = [Float](repeating: 1, count: shift.count)
        var valScale = [Float](repeating: 1, count: shift.count)
        for vi in 0..<v {
            let root = Double(vi) / Double(v - 1)
            let valueWeight = params.shadows + (1 - params.shadows) * smooth(root / 0.5)
            for hi in 0...h {
                let degrees = Double(hi % h) * 360 / Double(h)
                let dh = control(params.hue, degrees), ds = control(params.saturation, degrees), dl = control(params.luminance, degrees)
                for si in 0..<s {
                    let w = smooth(Double(si) / Double(s - 1) / 0.35) * valueWeight
                    let i = (vi * Self.hueStride + hi) * s + si
                    shift[i] = Float(w * dh / 60)
                    satScale[i] = Float(max(0, 1 + w * ds))
                    valScale[i] = Float(pow(2, w * dl))
                }
            }
        }
        records = LookTable((0..<shift.count).flatMap { [shift[$0], satScale[$0], valScale[$0], 0] })
        self.skin = skin
        valueVaries = params.shadows != 1
    }

    /// Bilinear in saturation then hue, for the three quantities at once: each node's record is
    /// read once, and each quantity takes the operations one table's interpolation took.
    @inlinable @inline(__always)
    public func bilinear<L: Lanes>(_ i: L, _ sf: L, _ hf: L) -> (L, L, L) {
        let s = Float(Self.saturationDivisions)
        let a0 = i.gatheredRecords(from: records.pointer), a1 = (i + L(repeating: 1)).gatheredRecords(from: records.pointer)
        let b0 = (i + L(repeating: s)).gatheredRecords(from: records.pointer)
        let b1 = (i + L(repeating: s + 1)).gatheredRecords(from: records.pointer)
        @inline(__always) func mix(_ a0: L, _ a1: L, _ b0: L, _ b1: L) -> L {
            let a = a0 + sf * (a1 - a0), b = b0 + sf * (b1 - b0)
            return a + hf * (b - a)
        }
        return (mix(a0.0, a1.0, b0.0, b1.0), mix(a0.1, a1.1, b0.1, b1.1), mix(a0.2, a1.2, b0.2, b1.2))
    }

    @inlinable @inline(__always)
    public func trilinear<L: Lanes>(_ base: L, _ sf: L, _ hf: L, _ vf: L) -> (L, L, L) {
        let low = bilinear(base, sf, hf)
        guard valueVaries else { return low }
        let high = bilinear(base + L(repeating: Float(Self.hueStride * Self.saturationDivisions)), sf, hf)
        return (low.0 + vf * (high.0 - low.0), low.1 + vf * (high.1 - low.1), low.2 + vf * (high.2 - low.2))
    }

    @inlinable @inline(__always)
    public func apply<L: Lanes>(_ input: RGB<L>, at location: PixelLocation) -> RGB<L> {
        let p = LookMath.finite(input)
        let hsv = LookMath.hsv(p)
        let hMax = Float(Self.hueDivisions - 1), sMax = Float(Self.saturationDivisions - 2), vMax = Float(Self.valueDivisions - 2)
        let hp = (hsv.h * L(repeating: Float(Self.hueDivisions) / 6)).clamped(0, Float(Self.hueDivisions) - 0.0001)
        let hi = hp.floored().clamped(0, hMax)
        let sp = hsv.s.clamped(0, 1) * L(repeating: Float(Self.saturationDivisions - 1))
        let si = sp.floored().clamped(0, sMax)
        let vp = hsv.v.clamped(0, 1).squareRoot() * L(repeating: Float(Self.valueDivisions - 1))
        let vi = vp.floored().clamped(0, vMax)
        let base = (vi * L(repeating: Float(Self.hueStride)) + hi) * L(repeating: Float(Self.saturationDivisions)) + si
        let hf = hp - hi, sf = sp - si, vf = vp - vi
        var (dh, ss, vs) = trilinear(base, sf, hf, vf)
        if !skin.isOff {
            let keep = L(repeating: 1) - skin.weight(h: hsv.h, s: hsv.s)
            dh = dh * keep
            ss = L(repeating: 1) + (ss - L(repeating: 1)) * keep
            vs = L(repeating: 1) + (vs - L(repeating: 1)) * keep
        }
        let h2 = LookMath.wrapHue(hsv.h + dh)
        let s2 = LookMath.minimum(hsv.s * ss, LookMath.maximum(hsv.s, L(repeating: 1)))
        let q = LookMath.rgb(h: h2, s: s2, v: hsv.v * vs)
        // Greys, blacks and all-negative pixels have no hue: they pass unchanged.
        let valid = LookMath.minimum(hsv.s, hsv.v)
        return RGB(valid.choosing(above: 0, then: q.r, otherwise: p.r),
                   valid.choosing(above: 0, then: q.g, otherwise: p.g),
                   valid.choosing(above: 0, then: q.b, otherwise: p.b))
    }
}
