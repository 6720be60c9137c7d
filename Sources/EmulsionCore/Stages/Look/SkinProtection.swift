/// Skin-hue protection: a weight, 1 on skin hues and 0 elsewhere, that the per-hue table (`hsl`)
/// and the saturation/vibrance stage (`colour`) use to hold skin back from their changes.
///
/// Why: brand looks push greens, blues and saturation but keep faces natural (FIELD.md: "natural
/// skin", "skin-aware"). What: w = amount · (1 − (Δh / width)²)² for hue distance |Δh| < width
/// (a smooth bump, no trigonometry), times min(1, 4·s) so that near-greys, whose hue means
/// little, are not counted as skin. The default centre, 23°, is the working-space hexcone hue of
/// the ColorChecker "light skin" and "dark skin" patches (22.2° and 23.9°, computed from the
/// X-Rite sRGB values through linear Rec.2020).
/// It has no kernel of its own: it is folded into the two kernels that use it.
/// Colour space: hue and saturation of working RGB (LookMath.hsv).
public struct SkinProtection: Sendable, Equatable {
    public struct Params: Sendable, Equatable {
        public var amount: Double
        public var hueDegrees: Double
        public var widthDegrees: Double
        public init(_ profile: Profile) {
            amount = profile.number("skinProtection", "amount")
            hueDegrees = profile.number("skinProtection", "hue")
            widthDegrees = profile.number("skinProtection", "width")
        }
    }

    public let amount: Float
    /// Centre and 1/width in sextants (60° units).
    public let centre: Float
    public let inverseWidth: Float

    /// No protection.
    public static let off = SkinProtection(amount: 0, centre: 0, inverseWidth: 1)

    init(amount: Float, centre: Float, inverseWidth: Float) {
        self.amount = amount; self.centre = centre; self.inverseWidth = inverseWidth
    }

    public static func prepare(_ params: Params) -> SkinProtection {
        guard params.amount > 0 else { return .off }
        return SkinProtection(amount: Float(params.amount), centre: Float(params.hueDegrees / 60),
                              inverseWidth: Float(60 / params.widthDegrees))
    }

    public var isOff: Bool { amount == 0 }

    /// The protection weight in [0, amount] for hue `h` (sextants, [0, 6)) and saturation `s`.
    @inlinable @inline(__always)
    public func weight<L: Lanes>(h: L, s: L) -> L {
        let zero = L(repeating: 0), six = L(repeating: 6)
        var d = h - L(repeating: centre)
        d = d - (d - L(repeating: 3)).choosing(above: 0, then: six, otherwise: zero)
        d = d + (L(repeating: -3) - d).choosing(above: 0, then: six, otherwise: zero)
        let x = d * L(repeating: inverseWidth)
        let bump0 = L(repeating: 1) - x * x
        let bump = bump0.choosing(above: 0, then: bump0, otherwise: L(repeating: 0))  // atLeast(0), as a select
        let gate = LookMath.clampedBySelect(s * L(repeating: 4), 0, 1)
        return bump * bump * gate * L(repeating: amount)
    }
}
