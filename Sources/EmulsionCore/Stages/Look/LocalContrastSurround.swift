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

/// The pre-pass of `LocalContrastKernel`: the image's luminance surround on a coarse grid.
///
/// The strip source runs once over the whole image (strips in parallel, as the executor does),
/// each pixel's luminance (a dot product with the source's RGB) is summed into cells of about
/// radius/2 pixels, and the cell means are blurred on the grid by a Gaussian of σ = radius in
/// log luminance (a geometric mean, so a bright lamp does not haze its dark neighbours as much).
/// Determinism: every row is summed on its own in column order, rows are then added in row
/// order, so the grid does not depend on thread scheduling; the source gives the same strips in
/// both engines, so the grid is the same in both. Cost: one more run of the source (demosaic)
/// and 8 bytes per row per grid column; only when local contrast is on.
public struct LocalContrastSurround: Sendable {
    public let width: Int
    public let height: Int
    public let cell: Int
    public let gridWidth: Int
    public let gridHeight: Int
    /// Blurred linear luminance at cell centres, row-major, gridWidth × gridHeight.
    public let values: [Float]

    /// Cell size for a radius (fraction of the short side) on an image.
    public static func cellSize(width: Int, height: Int, radius: Double) -> Int {
        let pixels = radius * Double(min(width, height))
        return max(1, min(Int(pixels / 2), max(1, min(width, height) / 2)))
    }

    public static func measure(source: any StripSource, luminance weights: SIMD3<Float>, radius: Double,
                               engine: Engine, threads: Int, stripRows: Int = 32) -> LocalContrastSurround {
        let width = source.width, height = source.height
        let cell = cellSize(width: width, height: height, radius: radius)
        let gw = (width + cell - 1) / cell, gh = (height + cell - 1) / cell
        let rowSums = UnsafeMutablePointer<Double>.allocate(capacity: height * gw)
        rowSums.initialize(repeating: 0, count: height * gw)
        defer { rowSums.deallocate() }
        let sums = UnsafeSendable(rowSums)
        let stripCount = (height + stripRows - 1) / stripRows
        let workers = max(1, min(threads, stripCount))
        let work = { (worker: Int) in
            let storage = StripStorage(width: width, rows: stripRows)
            let scratch = source.makeScratch(stripRows: stripRows)
            var s = worker
            while s < stripCount {
                let first = s * stripRows
                let strip = storage.strip(firstRow: first, rows: min(stripRows, height - first))
                source.fill(strip, scratch: scratch, engine: engine)
                for row in 0..<strip.rows {
                    let out = sums.value + (first + row) * gw
                    let base = row * width
                    for x in 0..<width {
                        let y = weights.x * strip.r[base + x] + weights.y * strip.g[base + x] + weights.z * strip.b[base + x]
                        out[x / cell] += Double(y)
                    }
                }
                s += workers
            }
        }
        ParallelLoop.run(iterations: workers, work)
        // Cell means, in row order.
        var means = [Double](repeating: 0, count: gw * gh)
        for y in 0..<height {
            for cx in 0..<gw { means[(y / cell) * gw + cx] += rowSums[y * gw + cx] }
        }
        for cy in 0..<gh {
            let rows = min(cell, height - cy * cell)
            for cx in 0..<gw {
                let columns = min(cell, width - cx * cell)
                means[cy * gw + cx] = log(max(means[cy * gw + cx] / Double(rows * columns), 1e-6))
            }
        }
        // Gaussian blur (σ = radius in cells, edges clamped) in log luminance.
        let sigma = max(radius * Double(min(width, height)) / Double(cell), 0.5)
        let r = Int((3 * sigma).rounded(.up))
        var kernel = (-r...r).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        var temp = means
        for cy in 0..<gh {
            for cx in 0..<gw {
                var s = 0.0
                for (j, w) in kernel.enumerated() { s += w * means[cy * gw + min(max(cx + j - r, 0), gw - 1)] }
                temp[cy * gw + cx] = s
            }
        }
        var values = [Float](repeating: 0, count: gw * gh)
        for cy in 0..<gh {
            for cx in 0..<gw {
                var s = 0.0
                for (j, w) in kernel.enumerated() { s += w * temp[min(max(cy + j - r, 0), gh - 1) * gw + cx] }
                values[cy * gw + cx] = Float(exp(s))
            }
        }
        return LocalContrastSurround(width: width, height: height, cell: cell, gridWidth: gw, gridHeight: gh, values: values)
    }

    public init(width: Int, height: Int, cell: Int, gridWidth: Int, gridHeight: Int, values: [Float]) {
        self.width = width; self.height = height; self.cell = cell
        self.gridWidth = gridWidth; self.gridHeight = gridHeight; self.values = values
    }
}

/// A pointer handed to worker closures (Swift 6 will not let them capture it directly).
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

func powFunction(_ a: Double, _ b: Double) -> Double { pow(a, b) }
