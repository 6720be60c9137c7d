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
        pointsV >= 1 && pointsH >= 1 && mapPlanes >= 1 && gains.count == pointsV * pointsH * mapPlanes
            && rowPitch >= 1 && columnPitch >= 1 && bottom > top && right > left && plane == 0
            && spacingV.isFinite && spacingH.isFinite && originV.isFinite && originH.isFinite
            && (pointsV == 1 || spacingV > 0) && (pointsH == 1 || spacingH > 0) && gains.allSatisfy { $0.isFinite }
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

    /// Where each map's columns fall on its grid, for a visible width: derived once per render,
    /// so a row costs no division and no clamped grid position per photosite (those made a Pixel
    /// 7 DNG's core 30 ns/px).
    public struct Columns: Sendable {
        let width: Int
        let maps: [MapColumns]
    }

    /// One map's columns in a row: visible columns `first + pitch·k`, k < count, each with its grid
    /// offsets (× mapPlanes) and fraction; `runs` groups consecutive k that share their grid cell,
    /// where only the fraction changes.
    struct MapColumns: Sendable {
        var first = 0, pitch = 1
        var left: [Int32] = [], right: [Int32] = [], fractions: [Float] = []
        var runs: [Range<Int>] = []
    }

    public func columns(width: Int) -> Columns {
        Columns(width: width, maps: maps.map { m in
            var plan = MapColumns()
            plan.pitch = m.columnPitch
            var column = max(m.left, offsetX)
            column += (m.columnPitch - (column - m.left) % m.columnPitch) % m.columnPitch
            plan.first = column - offsetX
            let end = min(m.right, offsetX + width)
            while column < end {
                // GainMap.gain's horizontal position and clamps, exactly.
                let (ih, fh) = GainMap.position(Double(column) / Double(imageWidth), origin: m.originH, spacing: m.spacingH,
                                                points: m.pointsH)
                let left = Int32(min(ih, m.pointsH - 1) * m.mapPlanes), right = Int32(min(ih + 1, m.pointsH - 1) * m.mapPlanes)
                let k = plan.fractions.count
                if k == 0 || left != plan.left[k - 1] || right != plan.right[k - 1] {
                    plan.runs.append(k..<k)
                }
                plan.runs[plan.runs.count - 1] = plan.runs[plan.runs.count - 1].lowerBound..<(k + 1)
                plan.left.append(left)
                plan.right.append(right)
                plan.fractions.append(fh)
                column += m.columnPitch
            }
            return plan
        })
    }

    /// `rowGains(y:width:into:)` through columns worked out beforehand: the same operations in the
    /// same order as `GainMap.gain`, so the same bits. Within a run of columns that share a grid
    /// cell the four grid values are constants and only the fraction varies, so four columns go
    /// through the interpolation as one vector (each lane the scalar formula's operations).
    public func rowGains(y: Int, columns: Columns, into out: UnsafeMutablePointer<Float>) {
        out.initialize(repeating: 1, count: columns.width)
        let row = y + offsetY
        for (m, plan) in zip(maps, columns.maps) where row >= m.top && row < m.bottom && (row - m.top) % m.rowPitch == 0 {
            let (iv, fv) = GainMap.position(Double(row) / Double(imageHeight), origin: m.originV, spacing: m.spacingV,
                                            points: m.pointsV)
            let upperRow = min(iv, m.pointsV - 1) * m.pointsH * m.mapPlanes
            let lowerRow = min(iv + 1, m.pointsV - 1) * m.pointsH * m.mapPlanes
            m.gains.withUnsafeBufferPointer { gains in
                plan.fractions.withUnsafeBufferPointer { fractions in
                    let a = gains.baseAddress! + upperRow, b = gains.baseAddress! + lowerRow
                    let pitch = plan.pitch
                    for run in plan.runs {
                        let l = Int(plan.left[run.lowerBound]), r = Int(plan.right[run.lowerBound])
                        let al = a[l], da = a[r] - a[l], bl = b[l], db = b[r] - b[l]
                        var k = run.lowerBound
                        while k + 4 <= run.upperBound {
                            let fh = UnsafeRawPointer(fractions.baseAddress! + k).loadUnaligned(as: SIMD4<Float>.self)
                            let upper = al + fh * da
                            let lower = bl + fh * db
                            let g = upper + fv * (lower - upper)
                            let target = out + plan.first + pitch * k
                            if pitch == 1 {
                                Self.multiply(target, by: g)
                            } else if pitch == 2 && plan.first + 2 * k + 8 <= columns.width {
                                // Bayer maps: the columns between take × 1, which changes no bit.
                                Self.multiply(target, by: SIMD4(g[0], 1, g[1], 1))
                                Self.multiply(target + 4, by: SIMD4(g[2], 1, g[3], 1))
                            } else {
                                target[0] *= g[0]; target[pitch] *= g[1]; target[2 * pitch] *= g[2]; target[3 * pitch] *= g[3]
                            }
                            k += 4
                        }
                        while k < run.upperBound {
                            let fh = fractions[k]
                            let upper = al + fh * da
                            let lower = bl + fh * db
                            out[plan.first + pitch * k] *= upper + fv * (lower - upper)
                            k += 1
                        }
                    }
                }
            }
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
