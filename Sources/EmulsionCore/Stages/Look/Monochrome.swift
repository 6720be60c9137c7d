/// Monochrome: black-and-white by a channel mix, like a colour filter in front of panchromatic film.
///
/// What: grey = (wr·R + wg·G + wb·B) / (wr + wg + wb) written to all three channels. The weights
/// are normalised so neutral greys keep their level whatever filter is chosen; the defaults are the
/// Rec.2020 luminance weights (ITU-R BT.2020-2), i.e. a "no filter" conversion; more red darkens
/// skies like a red filter. It runs before the tone curve, so the curve shapes the grey tones.
/// Being linear it is a matrix with three equal rows, which the chain fuses with its neighbours.
/// Colour space: working RGB in and out (neutral out).
public enum Monochrome {
    public struct Params: Sendable, Equatable {
        public var enabled: Bool
        public var weights: SIMD3<Double>
        public init(_ profile: Profile) {
            enabled = profile.flag("monochrome", "enabled")
            weights = SIMD3(profile.number("monochrome", "red"), profile.number("monochrome", "green"), profile.number("monochrome", "blue"))
        }
    }

    /// The mix as a matrix, nil when off; weights summing to ≤ 0.05 cannot keep greys and are refused.
    public static func prepare(_ params: Params, profile: String) throws -> LookElement? {
        guard params.enabled else { return nil }
        let w = params.weights
        let sum = w.x + w.y + w.z
        guard sum > 0.05 else {
            throw ProfileError(file: profile, keyPath: "monochrome", message: "red + green + blue must be more than 0.05 (got \(sum))")
        }
        let row = [w.x / sum, w.y / sum, w.z / sum]
        return .matrix(Matrix3(rowMajor: row + row + row))
    }
}
