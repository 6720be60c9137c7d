import EmulsionCore
import EmulsionIO

/// Pixel-by-pixel CIEDE2000 between an approved image and a new render.
///
/// What: both images are decoded to CIELAB D50 through their own output space's embedded profile
/// (`EncodedLabDecoder`); ΔE00 is computed per pixel (exactly 0 without any arithmetic where the two
/// pixels have the same codes in the same space and depth), and summarised as mean, 95th
/// percentile, max and the fraction above a threshold (`DeltaEStatistics`).
/// Why: a golden test must judge what a viewer would see, not code values: a 16-bit code step is far
/// below visibility, while the same code difference means different colour differences in
/// different spaces. CIEDE2000 in CIELAB is what darktable's integration tests use.
/// Reference: Sharma, Wu, Dalal (2005) for ΔE00 (DeltaE2000.swift); ICC.1:2022 for decoding.
/// Colour space in: encoded RGB of each image's space; out: ΔE00 per pixel and L* of the approved image.
public struct ImageComparison: Sendable {
    public let width: Int
    public let height: Int
    /// ΔE00 per pixel, row-major.
    public let deltaE: [Float]
    /// L* (D50) of the approved image per pixel: the grey underlay of the heat map.
    public let approvedLightness: [Float]
    public let statistics: DeltaEStatistics

    public struct SizeMismatch: Error, Sendable, CustomStringConvertible {
        public let approved: (width: Int, height: Int)
        public let actual: (width: Int, height: Int)
        public var description: String {
            "size differs: approved \(approved.width)×\(approved.height), actual \(actual.width)×\(actual.height)"
        }
    }

    /// Compares two 3-channel images of the same size, each decoded as the given output space.
    /// `threshold` is the ΔE00 that `statistics.fractionAbove` counts against; `threads` 1 keeps
    /// the work on the calling thread.
    public init(approved: PNGImage, approvedSpace: OutputSpace, actual: PNGImage, actualSpace: OutputSpace,
                threshold: Double, threads: Int = Executor.defaultThreads) throws {
        try self.init(approved: approved, decodedBy: .space(try EncodedLabDecoder(space: approvedSpace, bitDepth: approved.bitDepth)),
                      actual: actual, decodedBy: .space(try EncodedLabDecoder(space: actualSpace, bitDepth: actual.bitDepth)),
                      threshold: threshold, threads: threads)
    }

    /// Compares two 3-channel images of the same size, each decoded by its own decoder (see
    /// `ImageLabDecoder.forImage` for images carrying any ICC profile).
    public init(approved: PNGImage, decodedBy a: ImageLabDecoder, actual: PNGImage, decodedBy b: ImageLabDecoder,
                threshold: Double, threads: Int = Executor.defaultThreads) throws {
        precondition(approved.channels == 3 && actual.channels == 3, "RGB images expected")
        guard approved.width == actual.width, approved.height == actual.height else {
            throw SizeMismatch(approved: (approved.width, approved.height), actual: (actual.width, actual.height))
        }
        let sameEncoding = a.hasSameEncoding(as: b)
        let count = approved.width * approved.height
        var differences = [Double](repeating: 0, count: count)
        var deltaE = [Float](repeating: 0, count: count)
        var lightness = [Float](repeating: 0, count: count)
        // Bands of rows on every core (each pixel is written once, so the result does not depend
        // on the split): ΔE00 per pixel is most of a large comparison's time.
        let rowsPerBand = 32, rowLength = approved.width
        let bands = (approved.height + rowsPerBand - 1) / rowsPerBand
        approved.samples.withUnsafeBufferPointer { p in
            actual.samples.withUnsafeBufferPointer { q in
                differences.withUnsafeMutableBufferPointer { differences in
                    deltaE.withUnsafeMutableBufferPointer { deltaE in
                        lightness.withUnsafeMutableBufferPointer { lightness in
                            let compare = { (band: Int) in
                                let first = band * rowsPerBand * rowLength
                                let pixels = first..<Swift.min(count, first + rowsPerBand * rowLength)
                                let labsA = a.lab(p, pixels: pixels), labsB = b.lab(q, pixels: pixels)
                                for i in pixels {
                                    let j = 3 * i
                                    let labA = labsA?[i - first] ?? a.lab(p[j], p[j + 1], p[j + 2])
                                    lightness[i] = Float(labA.L)
                                    if sameEncoding && p[j] == q[j] && p[j + 1] == q[j + 1] && p[j + 2] == q[j + 2] { continue }
                                    let d = labA.deltaE2000(to: labsB?[i - first] ?? b.lab(q[j], q[j + 1], q[j + 2]))
                                    differences[i] = d
                                    deltaE[i] = Float(d)
                                }
                            }
                            if threads > 1 { ParallelLoop.run(iterations: bands, compare) } else { (0..<bands).forEach(compare) }
                        }
                    }
                }
            }
        }
        width = approved.width
        height = approved.height
        self.deltaE = deltaE
        approvedLightness = lightness
        statistics = DeltaEStatistics(differences: differences, threshold: threshold)
    }
}
