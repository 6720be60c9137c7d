#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Film grain: seeded, spatially correlated luminance noise, identical on every run for a seed.
///
/// What: out = RGB · max(0, 1 + n(x, y) · w(Y)), with n a unit-variance noise field and w the
/// grain amount weighted toward the mid-tones (w = amount · (¼ + ¾ · 4t(1 − t)), t = √Y, a
/// 256-entry table), so blacks stay black and whites stay clean, as with film.
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
    public static let weightCount = 256
    public let tileA: LookTable
    public let tileB: LookTable
    public let weights: LookTable

    public static func prepare(_ params: Params) -> LookElement? {
        params.amount > 0 ? .kernel(FilmGrainKernel(params)) : nil
    }

    public init(_ params: Params) {
        tileA = LookTable(Self.tile(size: Self.sizes.0, sigma: params.size / 2, seed: params.seed, salt: 0xA5A5_0001))
        tileB = LookTable(Self.tile(size: Self.sizes.1, sigma: params.size / 2, seed: params.seed, salt: 0x5A5A_0002))
        weights = LookTable((0..<Self.weightCount).map { i in
            let t = Double(i) / Double(Self.weightCount - 1)
            return Float(params.amount * (0.25 + 0.75 * 4 * t * (1 - t)))
        })
    }

    /// One periodic tile, rows padded to `size + padding`, variance 1/2 (two tiles sum to 1).
    public static func tile(size n: Int, sigma: Double, seed: UInt64, salt: UInt64) -> [Float] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 ^ salt
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var field = [Double](repeating: 0, count: n * n)
        for i in 0..<field.count {
            var sum = 0.0
            for _ in 0..<4 { sum += Double(next() >> 11) / Double(1 << 53) }
            field[i] = (sum - 2) * 3.0.squareRoot()
        }
        let radius = max(1, Int((3 * sigma).rounded(.up)))
        var kernel = (-radius...radius).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        var temp = field
        for y in 0..<n {
            for x in 0..<n {
                var s = 0.0
                for (j, w) in kernel.enumerated() { s += w * field[y * n + ((x + j - radius) % n + n) % n] }
                temp[y * n + x] = s
            }
        }
        for y in 0..<n {
            for x in 0..<n {
                var s = 0.0
                for (j, w) in kernel.enumerated() { s += w * temp[((y + j - radius) % n + n) % n * n + x] }
                field[y * n + x] = s
            }
        }
        let mean = field.reduce(0, +) / Double(field.count)
        let variance = field.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(field.count)
        let scale = (0.5 / variance).squareRoot()
        let stride = n + padding
        var out = [Float](repeating: 0, count: n * stride)
        for y in 0..<n {
            for x in 0..<stride { out[y * stride + x] = Float((field[y * n + x % n] - mean) * scale) }
        }
        return out
    }

    @inlinable @inline(__always)
    public func apply<L: Lanes>(_ input: RGB<L>, at location: PixelLocation) -> RGB<L> {
        let p = LookMath.finite(input)
        let (na, nb) = Self.sizes
        let a = tileA.pointer + (location.y % na) * (na + Self.padding) + location.x % na
        let b = tileB.pointer + (location.y % nb) * (nb + Self.padding) + location.x % nb
        let noise = L(loading: a) + L(loading: b)
        let y = LookMath.luminance(p).clamped(0, 1)
        let w = (y.squareRoot() * L(repeating: Float(Self.weightCount - 1))).interpolated(in: weights.pointer, count: Self.weightCount)
        let g = (L(repeating: 1) + noise * w).atLeast(0)
        return RGB(p.r * g, p.g * g, p.b * g)
    }
}
