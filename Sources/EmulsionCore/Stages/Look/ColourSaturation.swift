/// Saturation and vibrance: chroma scaled around each pixel's luminance.
///
/// What: out = Y + f · (RGB − Y), Y the Rec.2020 luminance, so luminance is kept exactly (up to
/// rounding) and hue is kept. f = saturation · (1 + vibrance · (1 − s)²), s the hexcone
/// saturation clamped to [0, 1]: vibrance acts mostly on muted colours and leaves saturated ones
/// (which would clip) nearly alone — the behaviour Lightroom popularised under that name. Skin
/// protection pulls f back toward 1 on skin hues: f' = 1 + (f − 1)(1 − w).
/// Colour space: working RGB (linear Rec.2020, D65) in and out.
public struct ColourSaturationKernel: PointKernel {
    public struct Params: Sendable, Equatable {
        public var saturation: Double
        public var vibrance: Double
        public init(_ profile: Profile) {
            saturation = profile.number("colour", "saturation")
            vibrance = profile.number("colour", "vibrance")
        }
        public init(saturation: Double, vibrance: Double) { self.saturation = saturation; self.vibrance = vibrance }
    }

    public let saturation: Float
    public let vibrance: Float
    public let skin: SkinProtection

    public static func prepare(_ params: Params, skin: SkinProtection) -> LookElement? {
        guard params.saturation != 1 || params.vibrance != 0 else { return nil }
        return .kernel(ColourSaturationKernel(saturation: Float(params.saturation), vibrance: Float(params.vibrance), skin: skin))
    }

    public init(saturation: Float, vibrance: Float, skin: SkinProtection) {
        self.saturation = saturation; self.vibrance = vibrance; self.skin = skin
    }

    @inlinable @inline(__always)
    public func apply<L: Lanes>(_ input: RGB<L>, at location: PixelLocation) -> RGB<L> {
        let p = LookMath.finiteBySelect(input)
        let y = LookMath.luminance(p)
        let hsv = LookMath.hsv(p)
        let muted = L(repeating: 1) - LookMath.clampedBySelect(hsv.s, 0, 1)
        var f = L(repeating: saturation) * (L(repeating: 1) + L(repeating: vibrance) * muted * muted)
        if !skin.isOff {
            f = L(repeating: 1) + (f - L(repeating: 1)) * (L(repeating: 1) - skin.weight(h: hsv.h, s: hsv.s))
        }
        return RGB(y + f * (p.r - y), y + f * (p.g - y), y + f * (p.b - y))
    }
}
