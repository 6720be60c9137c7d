/// CIEDE2000 colour difference (ΔE00) and summary statistics over many differences.
///
/// What: the CIE 2000 total colour difference between two L*a*b* colours, and the mean,
/// 95th percentile, maximum and fraction-above-threshold of a set of such differences.
/// Why: golden-image tests compare rendered output with a recorded reference in CIELAB with
/// CIEDE2000 (the darktable integration-test practice: pass at mean ≤ 0.77 and max ≤ 2.3);
/// ΔE00 is the most perceptually uniform of the CIE difference formulas.
/// Reference: G. Sharma, W. Wu, E. N. Dalal, "The CIEDE2000 color-difference formula:
/// implementation notes, supplementary test data, and mathematical observations",
/// Color Research & Application 30(1), 2005 — equations (1)–(22), including the notes on hue
/// angles when a chroma is zero (h′ = 0, Δh′ = 0, h̄′ = h′₁ + h′₂) and on the mean hue across 0°/360°.
/// The parametric factors default to k_L = k_C = k_H = 1 (reference conditions).
/// Colour space in: CIELAB (any white, as long as both colours use the same one); out: ΔE00 (unitless).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension CIELab {
    /// ΔE00 between `self` (the reference, subscript 1 in Sharma et al.) and `other` (subscript 2).
    /// Symmetric up to rounding; zero for identical colours.
    public func deltaE2000(to other: CIELab, kL: Double = 1, kC: Double = 1, kH: Double = 1) -> Double {
        let radians = Double.pi / 180
        let pow25to7 = 6_103_515_625.0 // 25⁷

        // (2)–(6): a′ stretches a* for near-neutral colours (the G term), then C′ and h′.
        let c1 = chroma, c2 = other.chroma
        let cMean = (c1 + c2) / 2
        let cMean7 = pow7(cMean)
        let g = 0.5 * (1 - (cMean7 / (cMean7 + pow25to7)).squareRoot())
        let a1p = (1 + g) * a, a2p = (1 + g) * other.a
        let c1p = (a1p * a1p + b * b).squareRoot()
        let c2p = (a2p * a2p + other.b * other.b).squareRoot()
        let h1p = hueAngle(b, a1p), h2p = hueAngle(other.b, a2p)

        // One decision serves Δh′ (10) and h̄′ (14): is the short way from h′₁ to h′₂ direct,
        // |h′₂ − h′₁| ≤ 180°? Exactly opposite hues (Sharma pairs 13–15) leave two atan2 calls a few
        // ulps either side of 180°, so the comparison allows 1e-10° (LittleCMS allows 1e-6°): an
        // exact 180° takes the paper's branch whatever the rounding.
        let hueGap = h2p - h1p
        let direct = abs(hueGap) <= 180 + 1e-10

        // (8)–(11): differences. Δh′ is 0 when either chroma is 0, else wrapped into [−180°, 180°].
        let deltaLp = other.L - L
        let deltaCp = c2p - c1p
        let chromaProduct = c1p * c2p
        var deltahp = 0.0
        if chromaProduct != 0 {
            deltahp = direct ? hueGap : (hueGap > 0 ? hueGap - 360 : hueGap + 360)
        }
        let deltaHp = 2 * chromaProduct.squareRoot() * sin(deltahp * radians / 2)

        // (12)–(14): means. The mean hue is the sum when a chroma is 0, else taken the short way round.
        let lMean = (L + other.L) / 2
        let cpMean = (c1p + c2p) / 2
        var hpMean = h1p + h2p
        if chromaProduct != 0 {
            if direct {
                hpMean = (h1p + h2p) / 2
            } else if h1p + h2p < 360 {
                hpMean = (h1p + h2p + 360) / 2
            } else {
                hpMean = (h1p + h2p - 360) / 2
            }
        }

        // (15)–(22): weighting functions and the rotation term for blues.
        let t = 1 - 0.17 * cos((hpMean - 30) * radians) + 0.24 * cos(2 * hpMean * radians)
            + 0.32 * cos((3 * hpMean + 6) * radians) - 0.20 * cos((4 * hpMean - 63) * radians)
        let hueOffset = (hpMean - 275) / 25
        let deltaTheta = 30 * exp(-hueOffset * hueOffset)
        let cpMean7 = pow7(cpMean)
        let rC = 2 * (cpMean7 / (cpMean7 + pow25to7)).squareRoot()
        let lOffset2 = (lMean - 50) * (lMean - 50)
        let sL = 1 + 0.015 * lOffset2 / (20 + lOffset2).squareRoot()
        let sC = 1 + 0.045 * cpMean
        let sH = 1 + 0.015 * cpMean * t
        let rT = -sin(2 * deltaTheta * radians) * rC

        let dL = deltaLp / (kL * sL), dC = deltaCp / (kC * sC), dH = deltaHp / (kH * sH)
        return (dL * dL + dC * dC + dH * dH + rT * dC * dH).squareRoot()
    }
}

/// x⁷ by repeated squaring (exact enough, and no pow call).
private func pow7(_ x: Double) -> Double {
    let x2 = x * x
    return x2 * x2 * x2 * x
}

/// Hue angle in degrees in [0, 360); 0 when both components are 0 (Sharma et al. eq. 7).
private func hueAngle(_ b: Double, _ a: Double) -> Double {
    if a == 0 && b == 0 { return 0 }
    let h = atan2(b, a) * (180 / Double.pi)
    return h < 0 ? h + 360 : h
}

/// Summary of many ΔE00 values, as a golden-image comparison reports them.
///
/// The 95th percentile interpolates linearly between the two nearest order statistics at rank
/// 0.95·(n − 1) (the "linear" method, R type 7, NumPy's default). NaN differences count as
/// +∞: a pixel that failed to render must fail a comparison, never pass one. An empty set gives
/// count 0 and zeros everywhere else.
public struct DeltaEStatistics: Sendable, Equatable, CustomStringConvertible {
    public var count: Int
    public var mean: Double
    public var percentile95: Double
    public var max: Double
    /// The threshold `fractionAbove` was counted against.
    public var threshold: Double
    /// Fraction (0…1) of differences strictly greater than `threshold`.
    public var fractionAbove: Double

    /// Statistics of precomputed differences.
    ///
    /// One pass gives the mean (summed in input order), the maximum and the count above the
    /// threshold; the percentile's two order statistics come from a selection, not a sort: on a
    /// 10-megapixel comparison sorting took about a fifth of `golden check`'s time
    /// (docs/GOLDEN.md, "Speed"). The result is the same as reading them from the sorted values.
    public init(differences: [Double], threshold: Double) {
        self.threshold = threshold
        count = differences.count
        guard !differences.isEmpty else {
            mean = 0; percentile95 = 0; max = 0; fractionAbove = 0
            return
        }
        var values = differences
        var sum = 0.0, largest = -Double.infinity, above = 0
        for i in values.indices {
            if values[i].isNaN { values[i] = .infinity }
            let d = values[i]
            sum += d
            if d > largest { largest = d }
            if d > threshold { above += 1 }
        }
        mean = sum / Double(values.count)
        max = largest
        fractionAbove = Double(above) / Double(values.count)
        let rank = 0.95 * Double(values.count - 1)
        let lower = Int(rank)
        let fraction = rank - Double(lower)
        let lowerValue = Self.select(lower, in: &values)
        // After the selection everything past `lower` is at least as large: the next order
        // statistic is the smallest of them.
        let upperValue = lower + 1 < values.count ? values[(lower + 1)...].min()! : lowerValue
        percentile95 = fraction == 0 ? lowerValue : lowerValue + (upperValue - lowerValue) * fraction
    }

    /// The k-th smallest of `values` (0-based; no NaN), leaving every element before k no larger
    /// and every element after it no smaller. Quickselect with a median-of-three pivot and a
    /// three-way partition, so the many equal values of a comparison (identical pixels are exactly
    /// 0) cost one pass instead of degrading it.
    static func select(_ k: Int, in values: inout [Double]) -> Double {
        values.withUnsafeMutableBufferPointer { p in
            var lo = 0, hi = p.count - 1
            while lo < hi {
                let x = p[lo], y = p[lo + (hi - lo) / 2], z = p[hi]
                let pivot = Swift.max(Swift.min(x, y), Swift.min(Swift.max(x, y), z))
                var lt = lo, i = lo, gt = hi
                while i <= gt {
                    if p[i] < pivot {
                        p.swapAt(lt, i); lt += 1; i += 1
                    } else if p[i] > pivot {
                        p.swapAt(i, gt); gt -= 1
                    } else {
                        i += 1
                    }
                }
                if k < lt { hi = lt - 1 } else if k > gt { lo = gt + 1 } else { return pivot }
            }
            return p[k]
        }
    }

    /// Statistics of ΔE00 between corresponding colours of `reference` and `actual` (same count).
    public init(reference: [CIELab], actual: [CIELab], threshold: Double) {
        precondition(reference.count == actual.count, "DeltaEStatistics: \(reference.count) reference colours, \(actual.count) actual")
        var differences = [Double]()
        differences.reserveCapacity(reference.count)
        for i in reference.indices { differences.append(reference[i].deltaE2000(to: actual[i])) }
        self.init(differences: differences, threshold: threshold)
    }

    /// Statistics of ΔE00 over (reference, actual) pairs.
    public init(pairs: [(CIELab, CIELab)], threshold: Double) {
        self.init(differences: pairs.map { $0.0.deltaE2000(to: $0.1) }, threshold: threshold)
    }

    public var description: String {
        func text(_ v: Double) -> String { v.isFinite ? format6(v) : String(v) }
        return "ΔE00 over \(count): mean \(text(mean)), p95 \(text(percentile95)), max \(text(max)), "
            + "\(text(fractionAbove * 100))% above \(text(threshold))"
    }
}
