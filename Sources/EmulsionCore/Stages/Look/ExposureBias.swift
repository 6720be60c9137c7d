/// Exposure bias: the look's own exposure offset, 2^ev on scene-linear light.
///
/// Why a stage of its own: `exposure.ev` belongs to the user (`--set exposure.ev=…` must not wipe
/// a look's brightness intent), so a look states its offset here and the two add up. A pure gain:
/// the chain fuses it with the camera matrix and exposure, so it costs nothing at run time.
/// Colour space: working RGB (linear Rec.2020, D65) in and out.
public enum ExposureBias {
    public struct Params: Sendable, Equatable {
        public var ev: Double
        public init(ev: Double = 0) { self.ev = ev }
        public init(_ profile: Profile) { ev = profile.number("exposureBias", "ev") }
    }

    /// The gain as a matrix, or nil when it is the identity.
    public static func prepare(_ params: Params) -> LookElement? {
        params.ev == 0 ? nil : .matrix(Exposure.matrix(ev: params.ev))
    }
}
