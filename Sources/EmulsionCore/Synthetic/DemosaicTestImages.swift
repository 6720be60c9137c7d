#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Full-RGB reference images for measuring demosaic quality: each is mosaiced through a CFA,
/// reconstructed, and compared with itself (CPSNR, `DemosaicQuality`).
///
/// What: three deterministic procedural scenes with the ingredients natural photographs test a
/// demosaic with — edges at every angle, fine periodic detail near the red/blue Nyquist limit,
/// texture, and colour that is correlated between channels in the high frequencies (as real
/// scenes are: detail is mostly luminance, colour changes at object edges):
/// - `leaves`: a dead-leaves scene (overlapping discs with power-law radii, the model used for
///   natural image statistics, e.g. Lee, Mumford & Huang, IJCV 41, 2001), each disc a colour
///   with its own sinusoidal luminance texture, edges anti-aliased over one pixel;
/// - `gratings`: tiles of sinusoidal luminance gratings at eight angles and frequencies from
///   0.06 to 0.18 cycles/pixel over different colours (tile borders are sharp colour edges);
/// - `star`: a colour Siemens star (edges at every angle, frequency rising inwards) over a smooth
///   two-colour gradient, supersampled 4×4.
/// Why procedural: the usual sets (Kodak, McMaster) are photographs the repository cannot carry;
/// these are generated the same on every machine, so expected values can be typed into tests.
/// Values are linear RGB in 0.02 … 0.95, quantised to 16 bits (`samples`).
public struct DemosaicTestImage: Sendable {
    public let name: String
    public let width: Int
    public let height: Int
    /// Interleaved R, G, B, 16-bit (0 … 65535 = 0 … 1).
    public let samples: [UInt16]

    public static func all(size: Int = 160) -> [DemosaicTestImage] {
        [leaves(size: size), gratings(size: size), star(size: size)]
    }

    init(name: String, width: Int, height: Int, _ pixel: (Int, Int) -> SIMD3<Double>) {
        self.name = name
        self.width = width
        self.height = height
        var out = [UInt16](repeating: 0, count: 3 * width * height)
        for y in 0..<height {
            for x in 0..<width {
                let v = pixel(x, y)
                for c in 0..<3 { out[3 * (y * width + x) + c] = UInt16((min(max(v[c], 0.02), 0.95) * 65535).rounded()) }
            }
        }
        samples = out
    }

    /// SplitMix64 (Steele, Lea & Flood 2014): integer-only, the same everywhere.
    struct Random {
        var state: UInt64
        mutating func next() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) * 0x1p-53
        }
        mutating func range(_ a: Double, _ b: Double) -> Double { a + (b - a) * next() }
    }

    /// A colour from hue (0…1), saturation and value, as linear RGB.
    static func hsv(_ h: Double, _ s: Double, _ v: Double) -> SIMD3<Double> {
        let k = SIMD3<Double>(5, 3, 1)
        var out = SIMD3<Double>()
        for c in 0..<3 {
            var t = (k[c] + h * 6).truncatingRemainder(dividingBy: 6)
            if t < 0 { t += 6 }
            out[c] = v - v * s * max(0, min(t, 4 - t, 1))
        }
        return out
    }

    public static func leaves(size: Int) -> DemosaicTestImage {
        struct Disc { var cx, cy, r: Double; var colour: SIMD3<Double>; var fx, fy, phase, depth: Double }
        var random = Random(state: 0x1EAF)
        var discs: [Disc] = []
        let s = Double(size)
        for _ in 0..<(size * size / 300) {
            // Radii with density ∝ r⁻³ between 3 and size/4 (inverse transform sampling).
            let rMin = 3.0, rMax = s / 4
            let u = random.next()
            let r = 1 / (1 / (rMin * rMin) - u * (1 / (rMin * rMin) - 1 / (rMax * rMax))).squareRoot()
            let angle = random.range(0, 2 * Double.pi), frequency = random.range(0.02, 0.2)
            discs.append(Disc(cx: random.range(-0.1, 1.1) * s, cy: random.range(-0.1, 1.1) * s, r: r,
                              colour: hsv(random.next(), random.range(0.05, 0.5), random.range(0.2, 0.9)),
                              fx: frequency * cos(angle), fy: frequency * sin(angle), phase: random.range(0, 6.3),
                              depth: random.range(0, 0.45)))
        }
        var image = [SIMD3<Double>](repeating: SIMD3(repeating: 0.3), count: size * size)
        for d in discs {
            let x0 = max(0, Int(d.cx - d.r - 1)), x1 = min(size - 1, Int(d.cx + d.r + 1))
            let y0 = max(0, Int(d.cy - d.r - 1)), y1 = min(size - 1, Int(d.cy + d.r + 1))
            guard x0 <= x1, y0 <= y1 else { continue }
            for y in y0...y1 {
                for x in x0...x1 {
                    let dx = Double(x) - d.cx, dy = Double(y) - d.cy
                    let alpha = min(max(d.r + 0.5 - (dx * dx + dy * dy).squareRoot(), 0), 1)
                    guard alpha > 0 else { continue }
                    let texture = 1 + d.depth * sin(2 * Double.pi * (d.fx * Double(x) + d.fy * Double(y)) + d.phase)
                    let i = y * size + x
                    image[i] = image[i] * (1 - alpha) + d.colour * (texture * alpha)
                }
            }
        }
        return DemosaicTestImage(name: "leaves", width: size, height: size) { x, y in image[y * size + x] }
    }

    public static func gratings(size: Int) -> DemosaicTestImage {
        let tiles = 3, tile = size / tiles
        var random = Random(state: 0x6AA7)
        var specs: [(SIMD3<Double>, Double, Double, Double)] = []
        let angles = [0.0, 90, 45, 135, 30, 60, 120, 150, 15]
        let frequencies = [0.18, 0.16, 0.12, 0.15, 0.06, 0.17, 0.1, 0.14, 0.08]
        for t in 0..<(tiles * tiles) {
            let a = angles[t] * Double.pi / 180
            specs.append((hsv(random.next(), random.range(0.05, 0.4), random.range(0.5, 0.9)),
                          frequencies[t] * cos(a), frequencies[t] * sin(a), random.range(0, 6.3)))
        }
        return DemosaicTestImage(name: "gratings", width: size, height: size) { x, y in
            let tx = min(x / tile, tiles - 1), ty = min(y / tile, tiles - 1)
            let (colour, fx, fy, phase) = specs[ty * tiles + tx]
            return colour * (0.55 + 0.4 * sin(2 * Double.pi * (fx * Double(x) + fy * Double(y)) + phase))
        }
    }

    public static func star(size: Int) -> DemosaicTestImage {
        let s = Double(size), centre = s / 2
        let spokes = 36.0
        let a = SIMD3<Double>(0.8, 0.7, 0.5), b = SIMD3<Double>(0.12, 0.1, 0.14)
        return DemosaicTestImage(name: "star", width: size, height: size) { x, y in
            var sum = SIMD3<Double>(repeating: 0)
            for sy in 0..<4 {
                for sx in 0..<4 {
                    let px = Double(x) + (Double(sx) + 0.5) / 4, py = Double(y) + (Double(sy) + 0.5) / 4
                    let dx = px - centre, dy = py - centre
                    let r = (dx * dx + dy * dy).squareRoot()
                    let t = py / s
                    let background = SIMD3<Double>(0.25 + 0.5 * t, 0.55 - 0.3 * t, 0.3 + 0.2 * px / s)
                    if r < s * 0.45 && r > s * 0.2 {
                        let angle = atan2(dy, dx)
                        sum += sin(spokes * angle) > 0 ? a : b
                    } else {
                        sum += background
                    }
                }
            }
            return sum / 16
        }
    }

    /// The image as a mosaic through `cfa`: one 16-bit sample per pixel.
    public func mosaic(_ cfa: CFAPattern) -> [UInt16] {
        var out = [UInt16](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width { out[y * width + x] = samples[3 * (y * width + x) + cfa.colour(row: y, column: x)] }
        }
        return out
    }
}

/// Demosaic quality as colour peak signal-to-noise ratio.
public enum DemosaicQuality {
    /// CPSNR in dB: `10·log10(1 / MSE)`, the mean squared error over all three channels of the
    /// pixels at least `border` pixels inside the image, both images as 0…1 with the
    /// reconstruction clipped to 0…1 (as an 8- or 16-bit output would be).
    public static func cpsnr(reference: [UInt16], reconstruction: [Float], width: Int, height: Int, border: Int = 8) -> Double {
        var sum = 0.0
        var n = 0
        for y in border..<(height - border) {
            for x in border..<(width - border) {
                for c in 0..<3 {
                    let i = 3 * (y * width + x) + c
                    let d = Double(min(max(reconstruction[i], 0), 1)) - Double(reference[i]) / 65535
                    sum += d * d
                    n += 1
                }
            }
        }
        return 10 * log10(Double(n) / sum)
    }
}
