
/// Film grain: seeded, spatially correlated luminance noise, identical on every run for a seed.
///
/// What: out = RGB · max(0, 1 + n(x, y) · w(Y)), with n a unit-variance noise field and w the
/// grain amount weighted toward the mid-tones (w = amount · (¼ + ¾ · 4t(1 − t)), t = √Y, computed
/// as the quadratic it is: a table read is a per-lane load on SSE2), so blacks stay black and
/// whites stay clean, as with film.
/// How the field is made deterministic and engine-independent: `prepare` draws two periodic noise
/// tiles (241² and 263², co-prime sizes, so the sum repeats only every 63 383 pixels) from a
/// SplitMix64 generator seeded by `seed` (Steele, Lea & Flood, OOPSLA 2014), approximates a
/// Gaussian by the Irwin–Hall sum of four uniforms, blurs each tile with a periodic Gaussian of
/// σ = size/2 (the grain size), and normalises it to unit variance. The kernel only loads tile
/// values by position: each tile row is padded with a copy of its first 16 values, so a lane
/// group reads consecutive columns without wrapping (lane groups of up to 16 lanes). Integer
/// arithmetic and IEEE double sums only in the tile generation, so the field is bitwise the same
/// on every run; the per-pixel work is one multiply-add.
/// Colour space: display-linear working RGB (after the tone curve) in and out. Position: image
/// (source) coordinates, so a crop of the same raw shows the same grain.
public struct FilmGrainKernel: PointKernel {
    public struct Params: Sendable, Equatable {
        public var amount: Double
        public var size: Double
        public var seed: UInt64
        public init(_ profile: Profile) {
            amount = profile.number("grain", "amount")
            size = profile.number("grain", "size")
            seed = UInt64(profile.number("grain", "seed").rounded(.down))
        }
        public init(amount: Double, size: Double, seed: UInt64) { self.amount = amount; self.size = size; self.seed = seed }
    }

    public static let sizes = (241, 263)
    public static let padding = 16
    public let tileA: LookTable
    public let tileB: LookTable
    /// w(t) = weightBase + weightBump · t(1 − t): amount · ¼ and amount · 3.
    public let weightBase: Float
    public let weightBump: Float

    public static func prepare(_ params: Params) -> LookElement? {
        params.amount > 0 ? .kernel(FilmGrainKernel(params)) : nil
    }

    public init(_ params: Params) {
        tileA = LookTable(Self.tile(size: Self.sizes.0, sigma: params.size / 2, seed: params.seed, salt: 0xA5A5_0001))
        tileB = LookTable(Self.tile(size: Self.sizes.1, sigma: params.size / 2, seed: params.seed, salt: 0x5A5A_0002))
        weightBase = Float(params.amount * 0.25)
        weightBump = Float(params.amount * 3)
    }

    /// The grain's weight at t = √Y, t in [0, 1].
    @inlinable @inline(__always)
    public func weight<L: Lanes>(_ t: L) -> L {
        L(repeating: weightBase) + L(repeating: weightBump) * (t * (L(repeating: 1) - t))
    }

    @inlinable @inline(__always)
    public func apply<L: Lanes>(_ input: RGB<L>, at location: PixelLocation) -> RGB<L> {
        let p = LookMath.finite(input)
        let (na, nb) = Self.sizes
        let a = tileA.pointer + (location.y % na) * (na + Self.padding) + location.x % na
        let b = tileB.pointer + (location.y % nb) * (nb + Self.padding) + location.x % nb
        let noise = L(loading: a) + L(loading: b)
        let y = LookMath.luminance(p).clamped(0, 1)
        let w = weight(y.squareRoot())
        let g = (L(repeating: 1) + noise * w).atLeast(0)
        return RGB(p.r * g, p.g * g, p.b * g)
    }
}

