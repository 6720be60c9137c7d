/// Local contrast: each pixel's luminance set against its blurred surround, so texture and
/// micro-contrast grow (or soften) without changing the overall tone.
///
/// What: out = RGB · g, g = (Y / Y_s)^amount limited to [¼, 4], with Y the pixel's Rec.2020
/// luminance and Y_s the surround: a geometric (log-domain) Gaussian mean of luminance over
/// `radius` × the image's short side. Scaling all three channels keeps hue and saturation; the
/// ratio makes it independent of exposure. This is the base/detail split of local tone mapping
/// (Durand & Dorsey, "Fast bilateral filtering for the display of HDR images", SIGGRAPH 2002,
/// with a Gaussian instead of a bilateral base, hence mild halos at hard edges at large amounts).
/// How it fits the strip executor: the surround is a neighbourhood quantity, far wider than a
/// strip's halo could economically be, so it is measured before the render by a pre-pass
/// (`LocalContrastSurround.measure`, below radius/2 cells, blurred in log on the coarse grid)
/// and the kernel reads it back by bilinear interpolation: a point kernel again, with the grid
/// as a derived constant. The horizontal half of that interpolation depends only on the column
/// and the grid row, so it is made once: each grid row interpolated across every column
/// (`acrossRows`), and the kernel reads two of those rows with contiguous lane loads and blends
/// them vertically — the same float operations in the same order as reading the four grid
/// values, so the same bits, without the four per-lane gathers (which SSE2 does lane by lane).
/// Where cells are under 4 pixels those rows would cost more than a quarter of a float per pixel,
/// and the kernel gathers the four grid values instead. The power is a 1024-entry table
/// over t = Y / (Y + Y_s).
/// Colour space: working RGB (linear Rec.2020, D65) in and out.
public struct LocalContrastKernel: PointKernel {
    public struct Params: Sendable, Equatable {
        public var amount: Double
        public var radius: Double
        public init(_ profile: Profile) {
            amount = profile.number("localContrast", "amount")
            radius = profile.number("localContrast", "radius")
        }
        public init(amount: Double, radius: Double) { self.amount = amount; self.radius = radius }
    }

    public static let gainCount = 1024
    public let grid: LookTable
    public let gridWidth: Int
    /// Index distance to the next grid row (0 when the grid has one row).
    public let verticalStep: Float
    /// Per column: grid column index (whole, as Float) and fraction toward the next.
    public let columnIndex: LookTable
    public let columnFraction: LookTable
    /// Per row: offset of the grid row (index · gridWidth) and fraction toward the next.
    public let rowOffset: [Float]
    public let rowFraction: [Float]
    public let gains: LookTable
    /// Grid row r interpolated across column x at `r · width + x` (what the bilinear read's
    /// upper or lower pair gives there), or nil where the kernel gathers from `grid` instead.
    public let acrossRows: LookTable?
    /// Per image row: where its upper grid row starts in `acrossRows`.
    public let acrossOffset: [Int]
    /// From the upper grid row to the lower one in `acrossRows` (0 when the grid has one row).
    public let acrossStep: Int

    /// `interpolatedAcross` nil chooses by memory: the rows are made where cells are 4 pixels or
    /// more, so they take at most a quarter of a float per pixel (plus one row, the last grid row
    /// being partial). Tests force either way.
    public init(_ params: Params, surround: LocalContrastSurround, interpolatedAcross: Bool? = nil) {
        grid = LookTable(surround.values)
        gridWidth = surround.gridWidth
        verticalStep = surround.gridHeight > 1 ? Float(surround.gridWidth) : 0
        func axis(_ count: Int, _ cells: Int) -> ([Float], [Float]) {
            var index: [Float] = [], fraction: [Float] = []
            for i in 0..<count {
                let g = min(max((Double(i) + 0.5) / Double(surround.cell) - 0.5, 0), Double(cells - 1))
                let i0 = min(Double(Int(g)), Double(max(cells - 2, 0)))
                index.append(Float(i0)); fraction.append(cells > 1 ? Float(g - i0) : 0)
            }
            return (index, fraction)
        }
        let columns = axis(surround.width, surround.gridWidth)
        columnIndex = LookTable(columns.0)
        columnFraction = LookTable(columns.1)
        let rows = axis(surround.height, surround.gridHeight)
        rowOffset = rows.0.map { $0 * Float(surround.gridWidth) }
        rowFraction = rows.1
        let a = params.amount
        gains = LookTable((0..<Self.gainCount).map { i in
            let t = Double(i) / Double(Self.gainCount - 1)
            guard t > 0 else { return a >= 0 ? 0.25 : 4 }
            guard t < 1 else { return a >= 0 ? 4 : 0.25 }
            return Float(min(max(powFunction(t / (1 - t), a), 0.25), 4))
        })
        let width = surround.width, gridRows = surround.gridHeight
        if interpolatedAcross ?? (surround.cell >= 4) {
            let grid = self.grid.pointer, columnIndex = self.columnIndex.pointer, columnFraction = self.columnFraction.pointer
            let gw = Float(surround.gridWidth)
            acrossRows = LookTable(count: gridRows * width) { out in
                for r in 0..<gridRows {
                    for x in 0..<width {
                        // As the kernel's gather path computes it: the index as a float sum, the
                        // pair from the padded grid, then g00 + fx · (g01 − g00).
                        let k = Int(columnIndex[x] + Float(r) * gw)
                        out[r * width + x] = grid[k] + columnFraction[x] * (grid[k + 1] - grid[k])
                    }
                }
            }
            acrossOffset = rows.0.map { Int($0) * width }
            acrossStep = gridRows > 1 ? width : 0
        } else {
            acrossRows = nil
            acrossOffset = []
            acrossStep = 0
        }
    }

    @inlinable @inline(__always)
    public func apply<L: Lanes>(_ input: RGB<L>, at location: PixelLocation) -> RGB<L> {
        let p = LookMath.finite(input)
        let y = LookMath.luminance(p).atLeast(0)
        let fy = L(repeating: rowFraction[location.y])
        let upper: L, lower: L
        if let acrossRows {
            let row = acrossRows.pointer + acrossOffset[location.y] + location.x
            upper = L(loading: row)
            lower = L(loading: row + acrossStep)
        } else {
            let column = L(loading: columnIndex.pointer + location.x)
            let fx = L(loading: columnFraction.pointer + location.x)
            let top = column + L(repeating: rowOffset[location.y])
            let (g00, g01) = top.gatheredPairs(from: grid.pointer)
            let (g10, g11) = (top + L(repeating: verticalStep)).gatheredPairs(from: grid.pointer)
            upper = g00 + fx * (g01 - g00)
            lower = g10 + fx * (g11 - g10)
        }
        let surround = upper + fy * (lower - upper)
        let total = y + surround
        let t = (y / total.atLeast(1e-20)).clamped(0, 1)
        let g = (t * L(repeating: Float(Self.gainCount - 1))).interpolated(in: gains.pointer, count: Self.gainCount)
        return RGB(p.r * g, p.g * g, p.b * g)
    }
}
