/// Lens shading correction from DNG GainMap opcodes (OpcodeList2): a smooth per-photosite gain
/// that undoes vignetting and colour shading, as the phone that wrote the file would have.
///
/// What: each `GainMap` covers a rectangle of the raw (every `rowPitch`-th row and
/// `columnPitch`-th column from its top-left — one CFA colour when the pitch is 2), with a grid
/// of `pointsV × pointsH` gains placed in coordinates relative to the whole image (0 … 1, origin
/// and spacing from the opcode); a photosite's gain is the bilinear interpolation of the grid at
/// its relative position, clamped at the grid's edges. Gains multiply the linear raw value
/// (after black subtraction), before white balance and clipping — where DNG puts OpcodeList2.
/// Switched by `opcodes.gainMap`.
/// Why: phone DNGs (Android's DngCreator, Pixel) record lens shading instead of applying it; left
/// alone the corners are dark and tinted. LibRaw 0.20 does not apply these opcodes.
/// Reference: DNG specification 1.6, chapter 7 ("Opcode List Processing"), opcode 9 GainMap.
/// Colour space: camera RGB mosaic, linear; a gain per photosite.
public struct GainMap: Sendable, Equatable, Codable {
    public var top: Int, left: Int, bottom: Int, right: Int
    public var plane: Int, planes: Int
    public var rowPitch: Int, columnPitch: Int
    public var pointsV: Int, pointsH: Int
    public var spacingV: Double, spacingH: Double
    public var originV: Double, originH: Double
    public var mapPlanes: Int
    /// Row-major gains, `pointsV × pointsH × mapPlanes`.
    public var gains: [Float]

    public init(top: Int, left: Int, bottom: Int, right: Int, plane: Int, planes: Int, rowPitch: Int, columnPitch: Int,
                pointsV: Int, pointsH: Int, spacingV: Double, spacingH: Double, originV: Double, originH: Double,
                mapPlanes: Int, gains: [Float]) {
        self.top = top; self.left = left; self.bottom = bottom; self.right = right
        self.plane = plane; self.planes = planes; self.rowPitch = rowPitch; self.columnPitch = columnPitch
        self.pointsV = pointsV; self.pointsH = pointsH; self.spacingV = spacingV; self.spacingH = spacingH
        self.originV = originV; self.originH = originH; self.mapPlanes = mapPlanes; self.gains = gains
    }

    /// True when the parameters are consistent and the map applies to single-plane (mosaic) data.
    public var isValid: Bool {
        pointsV >= 1 && pointsH >= 1 && mapPlanes >= 1 && gains.count == Self.valueCount(pointsV, pointsH, mapPlanes)
            && rowPitch >= 1 && columnPitch >= 1 && bottom > top && right > left && plane == 0
            && spacingV.isFinite && spacingH.isFinite && originV.isFinite && originH.isFinite
            && (pointsV == 1 || spacingV > 0) && (pointsH == 1 || spacingH > 0) && gains.allSatisfy { $0.isFinite }
    }

    /// pointsV · pointsH · mapPlanes, the number of gains; nil where the product of the
    /// parameters a DNG gives (each up to 2³² − 1) does not fit an Int, which would trap.
    public static func valueCount(_ pointsV: Int, _ pointsH: Int, _ mapPlanes: Int) -> Int? {
        let (grid, gridOverflow) = pointsV.multipliedReportingOverflow(by: pointsH)
        let (count, countOverflow) = grid.multipliedReportingOverflow(by: mapPlanes)
        return gridOverflow || countOverflow ? nil : count
    }

    /// Grid position (index, fraction) of a relative coordinate.
    static func position(_ relative: Double, origin: Double, spacing: Double, points: Int) -> (Int, Float) {
        guard points > 1 else { return (0, 0) }
        let p = min(max((relative - origin) / spacing, 0), Double(points - 1))
        let i = min(Int(p), points - 2)
        return (i, Float(p - Double(i)))
    }

    /// The gain at image row/column (stage-2 coordinates) of an image `imageWidth × imageHeight`.
    public func gain(row: Int, column: Int, imageWidth: Int, imageHeight: Int) -> Float {
        let (iv, fv) = Self.position(Double(row) / Double(imageHeight), origin: originV, spacing: spacingV, points: pointsV)
        let (ih, fh) = Self.position(Double(column) / Double(imageWidth), origin: originH, spacing: spacingH, points: pointsH)
        func g(_ v: Int, _ h: Int) -> Float { gains[(min(v, pointsV - 1) * pointsH + min(h, pointsH - 1)) * mapPlanes] }
        let upper = g(iv, ih) + fh * (g(iv, ih + 1) - g(iv, ih))
        let lower = g(iv + 1, ih) + fh * (g(iv + 1, ih + 1) - g(iv + 1, ih))
        return upper + fv * (lower - upper)
    }
}

/// The gain maps of one raw, placed on its visible area.
public struct LensShading: Sendable, Codable {
    public let maps: [GainMap]
    /// Visible pixel (0, 0) in the maps' coordinates (the DNG ActiveArea's top-left is their origin).
    public let offsetX: Int, offsetY: Int
    /// Size of the area the maps' relative coordinates span (the ActiveArea).
    public let imageWidth: Int, imageHeight: Int

    public init?(maps: [GainMap], offsetX: Int = 0, offsetY: Int = 0, imageWidth: Int, imageHeight: Int) {
        let valid = maps.filter(\.isValid)
        guard !valid.isEmpty, imageWidth > 0, imageHeight > 0 else { return nil }
        self.maps = valid
        self.offsetX = offsetX; self.offsetY = offsetY
        self.imageWidth = imageWidth; self.imageHeight = imageHeight
    }

    /// The same maps for a crop whose origin is (x, y) in this image's visible coordinates.
    public func shifted(x: Int, y: Int) -> LensShading {
        LensShading(maps: maps, offsetX: offsetX + x, offsetY: offsetY + y, imageWidth: imageWidth, imageHeight: imageHeight)!
    }

    /// Where each map's columns fall on its grid, for a visible width, and what the horizontal
    /// interpolation gives there on every grid row: derived once per render, so a row's gain is
    /// one interpolation between two of these per photosite (no division, no clamped grid
    /// position: those made a Pixel 7 DNG's core 30 ns/px).
    public struct Columns: Sendable {
        let width: Int
        let maps: [MapColumns]
    }

    /// One map's columns: visible columns `first + pitch·k`, k < count, each with its grid offsets
    /// (× mapPlanes) and fraction; and `across[(r − gridRows.lowerBound)·count + k]`, `GainMap.gain`'s
    /// horizontal interpolation on grid row r at column k — its `upper` (r = iv) or `lower`
    /// (r = iv + 1), the same operations, so the same bits — for the grid rows the image's rows
    /// reach. Where those are more grid rows than the image has rows (a hostile map of 10⁶ grid
    /// rows) or would take more than the budget (thousands of maps), `across` stays empty and the
    /// rows interpolate from the grid directly.
    struct MapColumns: Sendable {
        var first = 0, pitch = 1, count = 0
        var left: [Int32] = [], right: [Int32] = [], fractions: [Float] = []
        var gridRows = 0..<0
        var across: [Float] = []
    }

    /// Floats `columns(width:)` spends on `across` over all maps (16 MB); a phone's four maps of
    /// ~30 grid rows across 4000 columns take 0.24 M.
    static let acrossBudget = 1 << 22

    public func columns(width: Int) -> Columns { columns(width: width, budget: Self.acrossBudget) }

    func columns(width: Int, budget: Int) -> Columns {
        var budget = budget
        return Columns(width: width, maps: maps.map { m in
            var plan = MapColumns()
            plan.pitch = m.columnPitch
            var column = max(m.left, offsetX)
            column += (m.columnPitch - (column - m.left) % m.columnPitch) % m.columnPitch
            plan.first = column - offsetX
            let end = min(m.right, offsetX + width)
            let columns = column < end ? (end - column + m.columnPitch - 1) / m.columnPitch : 0
            plan.left.reserveCapacity(columns); plan.right.reserveCapacity(columns); plan.fractions.reserveCapacity(columns)
            while column < end {
                // GainMap.gain's horizontal position and clamps, exactly.
                let (ih, fh) = GainMap.position(Double(column) / Double(imageWidth), origin: m.originH, spacing: m.spacingH,
                                                points: m.pointsH)
                plan.left.append(Int32(min(ih, m.pointsH - 1) * m.mapPlanes))
                plan.right.append(Int32(min(ih + 1, m.pointsH - 1) * m.mapPlanes))
                plan.fractions.append(fh)
                column += m.columnPitch
            }
            plan.count = plan.fractions.count
            // The grid rows the image's rows reach (iv grows with the row; `lower` is iv + 1).
            let top = max(m.top, offsetY), bottom = min(m.bottom, imageHeight)
            guard top < bottom, plan.count > 0 else { return plan }
            let first = gridRow(top, m).upper, last = gridRow(bottom - 1, m).lower
            // A grid finer than the image (more grid rows than rows between them) is read directly.
            guard first <= last, last - first < 2 * (bottom - top) + 2, (last - first + 1) * plan.count <= budget else { return plan }
            // Every index below is in the grid (rows and columns are clamped to it, and a valid map
            // holds pointsV · pointsH · mapPlanes gains); checked once here, so the loop reads
            // without a check per value (with one, and an append per value, the Pixel crop's four
            // maps took 1.07 M instructions before its render started; 0.54 M so).
            guard first >= 0, (last * m.pointsH + m.pointsH - 1) * m.mapPlanes < m.gains.count else { return plan }
            budget -= (last - first + 1) * plan.count
            plan.gridRows = first..<(last + 1)
            let count = plan.count, stride = m.pointsH * m.mapPlanes
            plan.across = [Float](unsafeUninitializedCapacity: plan.gridRows.count * count) { out, initialised in
                m.gains.withUnsafeBufferPointer { gains in
                    plan.left.withUnsafeBufferPointer { left in
                        plan.right.withUnsafeBufferPointer { right in
                            plan.fractions.withUnsafeBufferPointer { fractions in
                                var o = 0
                                for r in plan.gridRows {
                                    let row = gains.baseAddress! + r * stride
                                    for k in 0..<count {
                                        let a = row[Int(left[k])], b = row[Int(right[k])]
                                        out[o] = a + fractions[k] * (b - a)
                                        o += 1
                                    }
                                }
                            }
                        }
                    }
                }
                initialised = plan.gridRows.count * count
            }
            return plan
        })
    }

    /// `GainMap.gain`'s vertical position of an image row: the grid rows above and below it
    /// (clamped to the grid) and the fraction between them.
    @inline(__always)
    private func gridRow(_ row: Int, _ m: GainMap) -> (upper: Int, lower: Int, fv: Float) {
        let (iv, fv) = GainMap.position(Double(row) / Double(imageHeight), origin: m.originV, spacing: m.spacingV, points: m.pointsV)
        return (min(iv, m.pointsV - 1), min(iv + 1, m.pointsV - 1), fv)
    }

    /// `rowGains(y:width:into:)` through columns worked out beforehand: the same operations in the
    /// same order as `GainMap.gain`, so the same bits. Per photosite what is left is the vertical
    /// interpolation between two grid rows' `across` values, four columns as one vector. A Bayer
    /// row (two maps of pitch 2 whose columns interleave and fill it: phone DNGs) is written
    /// interleaved at once; other rows multiply each map's gains into the row.
    public func rowGains(y: Int, columns: Columns, into out: UnsafeMutablePointer<Float>) {
        let row = y + offsetY
        func applies(_ m: GainMap) -> Bool { row >= m.top && row < m.bottom && (row - m.top) % m.rowPitch == 0 }
        var first = -1, second = -1, applying = 0
        for (i, m) in maps.enumerated() where applies(m) {
            if applying == 0 { first = i } else if applying == 1 { second = i }
            applying += 1
        }
        if applying == 2 {
            let (a, b) = columns.maps[first].first == 0 ? (first, second) : (second, first)
            let even = columns.maps[a], odd = columns.maps[b]
            if even.pitch == 2, odd.pitch == 2, even.first == 0, odd.first == 1,
               even.count == (columns.width + 1) / 2, odd.count == columns.width / 2 {
                let done = even.across.withUnsafeBufferPointer { evenAcross in
                    odd.across.withUnsafeBufferPointer { oddAcross -> Bool in
                        guard let (eu, el, ef) = acrossRows(row, maps[a], even, evenAcross),
                              let (ou, ol, of) = acrossRows(row, maps[b], odd, oddAcross) else { return false }
                        Self.interleave(eu, el, ef, ou, ol, of, width: columns.width, into: out)
                        return true
                    }
                }
                if done { return }
            }
        }
        out.initialize(repeating: 1, count: columns.width)
        for (m, plan) in zip(maps, columns.maps) where applies(m) {
            plan.across.withUnsafeBufferPointer { across in
                let target = out + plan.first
                guard let (upper, lower, fv) = acrossRows(row, m, plan, across) else {
                    multiplyFromGrid(row, m, plan, into: target)
                    return
                }
                var k = 0
                while k + 4 <= plan.count {
                    let g = Self.vertical(upper, lower, fv, k)
                    let at = target + plan.pitch * k
                    if plan.pitch == 1 {
                        Self.multiply(at, by: g)
                    } else if plan.pitch == 2 && plan.first + 2 * k + 8 <= columns.width {
                        // The columns between take × 1, which changes no bit.
                        Self.multiply(at, by: SIMD4(g[0], 1, g[1], 1))
                        Self.multiply(at + 4, by: SIMD4(g[2], 1, g[3], 1))
                    } else {
                        at[0] *= g[0]; at[plan.pitch] *= g[1]; at[2 * plan.pitch] *= g[2]; at[3 * plan.pitch] *= g[3]
                    }
                    k += 4
                }
                while k < plan.count {
                    target[plan.pitch * k] *= upper[k] + fv * (lower[k] - upper[k])
                    k += 1
                }
            }
        }
    }

    /// The `across` rows above and below `row` and the vertical fraction, as `GainMap.gain` finds
    /// them; nil where the plan holds no `across` for them.
    @inline(__always)
    private func acrossRows(_ row: Int, _ m: GainMap, _ plan: MapColumns,
                            _ across: UnsafeBufferPointer<Float>) -> (UnsafePointer<Float>, UnsafePointer<Float>, Float)? {
        let (upper, lower, fv) = gridRow(row, m)
        guard plan.gridRows.contains(upper), plan.gridRows.contains(lower), let base = across.baseAddress else { return nil }
        return (base + (upper - plan.gridRows.lowerBound) * plan.count, base + (lower - plan.gridRows.lowerBound) * plan.count, fv)
    }

    /// One map's gains multiplied into its columns of the row, interpolated from the grid itself
    /// (`GainMap.gain`'s operations): for maps whose `across` was over budget.
    private func multiplyFromGrid(_ row: Int, _ m: GainMap, _ plan: MapColumns, into target: UnsafeMutablePointer<Float>) {
        let (upper, lower, fv) = gridRow(row, m)
        let upperRow = upper * m.pointsH * m.mapPlanes, lowerRow = lower * m.pointsH * m.mapPlanes
        m.gains.withUnsafeBufferPointer { gains in
            let a = gains.baseAddress! + upperRow, b = gains.baseAddress! + lowerRow
            for k in 0..<plan.count {
                let l = Int(plan.left[k]), r = Int(plan.right[k]), fh = plan.fractions[k]
                let upper = a[l] + fh * (a[r] - a[l])
                let lower = b[l] + fh * (b[r] - b[l])
                target[plan.pitch * k] *= upper + fv * (lower - upper)
            }
        }
    }

    @inline(__always)
    static func vertical(_ upper: UnsafePointer<Float>, _ lower: UnsafePointer<Float>, _ fv: Float, _ k: Int) -> SIMD4<Float> {
        let u = UnsafeRawPointer(upper + k).loadUnaligned(as: SIMD4<Float>.self)
        let l = UnsafeRawPointer(lower + k).loadUnaligned(as: SIMD4<Float>.self)
        return u + fv * (l - u)
    }

    /// A row covered by exactly two pitch-2 maps, one on the even and one on the odd columns: each
    /// photosite's gain is its one map's (1 × g = g), written in column order.
    static func interleave(_ eu: UnsafePointer<Float>, _ el: UnsafePointer<Float>, _ ef: Float,
                           _ ou: UnsafePointer<Float>, _ ol: UnsafePointer<Float>, _ of: Float,
                           width: Int, into out: UnsafeMutablePointer<Float>) {
        var k = 0
        while 2 * k + 8 <= width {
            let e = vertical(eu, el, ef, k), o = vertical(ou, ol, of, k)
            let raw = UnsafeMutableRawPointer(out + 2 * k)
            raw.storeBytes(of: SIMD4(e[0], o[0], e[1], o[1]), as: SIMD4<Float>.self)
            raw.storeBytes(of: SIMD4(e[2], o[2], e[3], o[3]), toByteOffset: 16, as: SIMD4<Float>.self)
            k += 4
        }
        while 2 * k < width {
            out[2 * k] = eu[k] + ef * (el[k] - eu[k])
            if 2 * k + 1 < width { out[2 * k + 1] = ou[k] + of * (ol[k] - ou[k]) }
            k += 1
        }
    }

    @inline(__always)
    static func multiply(_ p: UnsafeMutablePointer<Float>, by g: SIMD4<Float>) {
        let raw = UnsafeMutableRawPointer(p)
        raw.storeBytes(of: raw.loadUnaligned(as: SIMD4<Float>.self) * g, as: SIMD4<Float>.self)
    }

    /// The product of every map's gain for visible row `y`, columns `0 ..< width` (1 where none
    /// applies). A render works the columns out once (`columns(width:)`) and reuses them.
    public func rowGains(y: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
        rowGains(y: y, columns: columns(width: width), into: out)
    }
}
