/// Black/white level normalisation and white balance, on sensor samples.
///
/// What: `((sample − black[position]) · gain[colour]) ` limited to `[0, ceiling]`, where
/// `gain = wb[colour] / (white − black)`. Why in one step: both are per-photosite affine maps,
/// and folding them lets the demosaic read normalised, balanced values straight from 16-bit data.
/// Multipliers are scaled so the smallest is 1 (dcraw's `scale_colors` convention): with the
/// default ceiling of 1 a saturated photosite of any colour becomes 1 and clipped highlights stay
/// neutral instead of turning magenta.
/// Colour space: camera RGB (sensor primaries) in and out; out is white-balanced, 0 … 1 = black … white.
/// Reference: DNG 1.6 spec §6.1 (linearisation, black, white), dcraw/LibRaw `scale_colors`.
public struct RawNormalisation: Sendable {
    /// Period of the combined CFA × black-level tile.
    public let periodWidth: Int
    public let periodHeight: Int
    /// Per tile row: black and gain for each column phase, repeated so a lane group can load from
    /// any phase offset without wrapping (`periodWidth + 16` entries a row).
    public let blacks: [Float]
    public let gains: [Float]
    public let rowStride: Int
    /// The same constants for rows split by column parity (`MosaicWindow.Layout.columnPlanes`): per
    /// tile row, the even columns' phases 0, 2, 4, … (`pairStride` entries, repeated like a row of
    /// `blacks`), then the odd columns' 1, 3, 5, …. Empty when the period is odd (not a Bayer layout).
    public let pairBlacks: [Float]
    public let pairGains: [Float]
    /// `periodWidth / 2 + 16`.
    public let pairStride: Int
    public let ceiling: Float

    /// - Parameters:
    ///   - multipliers: white balance gains per colour (R, G, B), any positive scale.
    ///   - colours: the colour of each tile position, or nil for three-channel data (then the
    ///     "column" is the channel index and the period is 3).
    public init(levels: SensorLevels, multipliers: SIMD3<Float>, cfa: CFAPattern?, ceiling: Float = 1) {
        let minimum = min(multipliers.x, multipliers.y, multipliers.z)
        let wb = multipliers / (minimum > 0 ? minimum : 1)
        let cfaW = cfa?.width ?? 1, cfaH = cfa?.height ?? 1
        periodWidth = lcm(cfaW, levels.blackTileWidth)
        periodHeight = lcm(cfaH, levels.blackTileHeight)
        rowStride = periodWidth + 16
        var blacks = [Float](repeating: 0, count: periodHeight * rowStride)
        var gains = blacks
        for r in 0..<periodHeight {
            for i in 0..<rowStride {
                let c = i % periodWidth
                let black = levels.black(row: r, column: c)
                let colour = cfa?.colour(row: r, column: c) ?? 1
                let range = max(levels.white - black, 1)
                blacks[r * rowStride + i] = black
                // Rounded up so a sample at white lands at ≥ its multiplier (≥ 1): clipped
                // photosites must reach the ceiling exactly, or clipped areas keep a faint tint.
                var gain = wb[colour] / range
                while range * gain < wb[colour] { gain = gain.nextUp }
                gains[r * rowStride + i] = gain
            }
        }
        self.blacks = blacks
        self.gains = gains
        pairStride = periodWidth / 2 + 16
        if periodWidth % 2 == 0 {
            let (pw, ph, ps, rs) = (periodWidth, periodHeight, periodWidth / 2 + 16, periodWidth + 16)
            func split(_ values: [Float]) -> [Float] {
                (0..<ph).flatMap { r in
                    (0..<2).flatMap { parity in (0..<ps).map { values[r * rs + (2 * $0 + parity) % pw] } }
                }
            }
            pairBlacks = split(blacks)
            pairGains = split(gains)
        } else {
            pairBlacks = []
            pairGains = []
        }
        self.ceiling = ceiling
    }

    /// Three-channel (linear DNG) variant: one normalisation per channel, each seeing its own
    /// multiplier (a one-photosite "CFA" of that channel's colour).
    public static func forRGB(levels: SensorLevels, multipliers: SIMD3<Float>, ceiling: Float = 1) -> [RawNormalisation] {
        let flat = SensorLevels(black: levels.meanBlack, white: levels.white)
        return (0..<3).map { c in
            RawNormalisation(levels: flat, multipliers: multipliers, cfa: CFAPattern(width: 1, height: 1, colours: [UInt8(c)]), ceiling: ceiling)
        }
    }

    /// The kernel: one lane group of samples to normalised values. `phase` indexes the constants.
    @inlinable @inline(__always)
    public static func normalise<L: Lanes>(_ sample: L, black: L, gain: L, ceiling: Float) -> L {
        ((sample - black) * gain).clamped(0, ceiling)
    }
}

func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
func lcm(_ a: Int, _ b: Int) -> Int { a / gcd(a, b) * b }
