/// Lens distortion and lateral chromatic aberration correction from a DNG WarpRectilinear opcode
/// (OpcodeList3): where each corrected pixel's value lies in the uncorrected image.
///
/// What: every destination pixel (x, y) reads the source at
///   c + R·(d·(kr0 + kr1 r² + kr2 r⁴ + kr3 r⁶) + t),
/// where c is the optical centre (given relative to the image area), d = ((x, y) − c) / R with
/// R the distance from c to the area's farthest corner (so r = |d| ≤ 1, clamped there), and t the
/// tangential (decentring) term — x: ktX (r² + 2dx²) + 2ktY dx dy, y: ktY (r² + 2dy²) + 2ktX dx dy.
/// One coefficient set for all channels (distortion) or one per R, G, B (which also corrects
/// lateral chromatic aberration). Non-square pixels are measured in square units, as the DNG SDK
/// does. WarpRectilinear2 (DNG 1.6, opcode 14) replaces the ratio by a polynomial in r of 15
/// terms, or its reciprocal, with r held to a valid range (`Coefficients.General`); the rest is
/// the same. `LensWarpSource` resamples; this file holds the parameters and the geometry.
/// Why: phones record their lens's distortion instead of correcting it (the Pixel's OpcodeList3);
/// Lightroom, Camera Raw and the DNG SDK apply it, LibRaw 0.20 does not, so without it straight
/// lines bow and the field of view differs from the phone's own JPEG.
/// Reference: DNG specification 1.6, chapter 7, opcodes 1 WarpRectilinear and 14
/// WarpRectilinear2 (parameters, the normalisation by the farthest corner, the tangential terms);
/// Adobe DNG SDK dng_warp_params_radial::EvaluateRatio (the second model), dng_filter_warp
/// (the clamp of r² at 1, the scaling of non-square pixels, bicubic resampling with A = −0.75).
/// The SDK names the tangential coefficients kt0 (the one multiplying r² + 2dy²) and kt1 (r² + 2dx²);
/// here they are `tangentialY` and `tangentialX`, so a transposition swaps them by name.
/// Colour space: any linear RGB (geometry only).
public struct LensWarp: Sendable, Codable, Equatable {
    /// One plane's coefficients.
    public struct Coefficients: Sendable, Codable, Equatable {
        /// kr0…kr3: the source radius over the destination radius is kr0 + kr1 r² + kr2 r⁴ + kr3 r⁶
        /// (WarpRectilinear; not used when `general` is set).
        public var radial: SIMD4<Double>
        /// DNG kt1: the tangential term's weight on r² + 2dx².
        public var tangentialX: Double
        /// DNG kt0: the tangential term's weight on r² + 2dy².
        public var tangentialY: Double
        /// WarpRectilinear2's radial model, which replaces `radial` when set.
        public var general: General?

        /// WarpRectilinear2 (DNG 1.6, opcode 14): the ratio is a polynomial in r itself, not r²,
        /// of 15 terms (r⁰ … r¹⁴), or that polynomial's reciprocal, with r held to a valid range
        /// [minimumRadius, maximumRadius] within [0, 1].
        public struct General: Sendable, Codable, Equatable {
            public var terms: [Double]
            public var minimumRadius: Double, maximumRadius: Double
            public var reciprocal: Bool

            public init(terms: [Double], minimumRadius: Double = 0, maximumRadius: Double = 1, reciprocal: Bool = false) {
                self.terms = terms
                self.minimumRadius = minimumRadius
                self.maximumRadius = maximumRadius
                self.reciprocal = reciprocal
            }

            /// What the SDK accepts: 15 finite terms and 0 ≤ minimum < maximum ≤ 1.
            var isValid: Bool {
                terms.count == 15 && terms.allSatisfy(\.isFinite) && 0 <= minimumRadius && minimumRadius < maximumRadius && maximumRadius <= 1
            }

            /// A ratio of 1 everywhere.
            var isIdentity: Bool { terms.first == 1 && terms.dropFirst().allSatisfy { $0 == 0 } }
        }

        public init(radial: SIMD4<Double>, tangentialX: Double = 0, tangentialY: Double = 0) {
            self.radial = radial
            self.tangentialX = tangentialX
            self.tangentialY = tangentialY
        }

        /// A WarpRectilinear2 plane.
        public init(general: General, tangentialX: Double = 0, tangentialY: Double = 0) {
            self.init(radial: [1, 0, 0, 0], tangentialX: tangentialX, tangentialY: tangentialY)
            self.general = general
        }

        public static let identity = Coefficients(radial: [1, 0, 0, 0])

        var isValid: Bool {
            radial.x.isFinite && radial.y.isFinite && radial.z.isFinite && radial.w.isFinite
                && tangentialX.isFinite && tangentialY.isFinite && (general?.isValid ?? true)
        }

        /// Moves nothing.
        var isIdentity: Bool {
            tangentialX == 0 && tangentialY == 0 && (general.map(\.isIdentity) ?? (radial == [1, 0, 0, 0]))
        }
    }

    /// One set for every channel, or one each for R, G and B.
    public let planes: [Coefficients]
    /// The optical centre relative to the image area: (0, 0) its top-left, (1, 1) its bottom-right corner.
    public let centreX: Double, centreY: Double
    /// The area the opcode's coordinates span (the DNG ActiveArea), in pixels.
    public let imageWidth: Int, imageHeight: Int
    /// Visible pixel (0, 0) in the area's coordinates.
    public let offsetX: Int, offsetY: Int

    /// Nil for parameters the DNG SDK refuses (a plane count other than 1 or 3, a centre outside
    /// the area, a coefficient that is not finite, a WarpRectilinear2 plane with other than 15
    /// terms or an empty valid range, planes of both models) or an empty area.
    public init?(planes: [Coefficients], centreX: Double, centreY: Double, imageWidth: Int, imageHeight: Int,
                 offsetX: Int = 0, offsetY: Int = 0) {
        guard planes.count == 1 || planes.count == 3, planes.allSatisfy(\.isValid),
              planes.allSatisfy({ ($0.general == nil) == (planes[0].general == nil) }),
              (0...1).contains(centreX), (0...1).contains(centreY), imageWidth > 0, imageHeight > 0 else { return nil }
        self.planes = planes
        self.centreX = centreX; self.centreY = centreY
        self.imageWidth = imageWidth; self.imageHeight = imageHeight
        self.offsetX = offsetX; self.offsetY = offsetY
    }

    /// Moves no pixel: the SDK skips such an opcode, and so does the renderer.
    public var isIdentity: Bool { planes.allSatisfy(\.isIdentity) }

    /// Recorded as WarpRectilinear2 (DNG 1.6) rather than WarpRectilinear.
    public var isGeneral: Bool { planes[0].general != nil }

    /// The same warp for a crop whose origin is (x, y) in this image's visible coordinates.
    public func shifted(x: Int, y: Int) -> LensWarp {
        LensWarp(planes: planes, centreX: centreX, centreY: centreY, imageWidth: imageWidth, imageHeight: imageHeight,
                 offsetX: offsetX + x, offsetY: offsetY + y)!
    }

    /// The same warp for this image binned by `block` (a preview): binned pixel (u, v) is the
    /// mean of pixels u·block ..< (u + 1)·block across (likewise down), centred on
    /// u·block + (block − 1)/2. The optical centre is placed exactly; the area is scaled to whole
    /// pixels, so the radius that normalises r can be off by half a binned pixel over the area's
    /// size (0.1 % at a 480-pixel preview). Nil only if the binned centre falls outside the area.
    public func binned(by block: Int) -> LensWarp? {
        guard block > 1 else { return self }
        let b = Double(block), half = (b - 1) / 2
        let width = max(1, Int((Double(imageWidth) / b).rounded())), height = max(1, Int((Double(imageHeight) / b).rounded()))
        let x = Int((Double(offsetX) / b).rounded()), y = Int((Double(offsetY) / b).rounded())
        // The centre in this image's visible pixels, then in the binned image's, then relative to the binned area.
        let cx = (centreX * Double(imageWidth) - Double(offsetX) - half) / b, cy = (centreY * Double(imageHeight) - Double(offsetY) - half) / b
        return LensWarp(planes: planes, centreX: min(max((cx + Double(x)) / Double(width), 0), 1),
                        centreY: min(max((cy + Double(y)) / Double(height), 0), 1),
                        imageWidth: width, imageHeight: height, offsetX: x, offsetY: y)
    }

    /// The same warp for the image with rows and columns exchanged (`RawImage.transposed`).
    public var transposed: LensWarp {
        LensWarp(planes: planes.map { k in
                     var swapped = k
                     (swapped.tangentialX, swapped.tangentialY) = (k.tangentialY, k.tangentialX)
                     return swapped
                 },
                 centreX: centreY, centreY: centreX, imageWidth: imageHeight, imageHeight: imageWidth,
                 offsetX: offsetY, offsetY: offsetX)!
    }

    /// The geometry's derived constants for a visible frame whose pixels are `pixelAspect` wide
    /// for 1 tall (`ShotMetadata.pixelAspect`).
    public func mapping(pixelAspect: Double) -> Mapping { Mapping(self, pixelAspect: pixelAspect) }

    /// Where a destination pixel reads the source, in visible-frame pixels: derived once per render.
    public struct Mapping: Sendable {
        /// The optical centre in visible-frame pixels.
        public let centre: SIMD2<Double>
        /// Distance from the centre to the area's farthest corner, in square units, and its inverse.
        public let radius: Double
        let inverseRadius: Double
        /// Pixel width and height in square units (one of them 1), and their inverses.
        let scale: SIMD2<Double>
        let inverseScale: SIMD2<Double>
        /// R, G, B coefficients (a single set repeated).
        let planes: [Coefficients]
        /// All planes share one set: one source position serves the three channels.
        public let sharesPosition: Bool
        /// Each plane's WarpRectilinear2 model as `Row` evaluates it (nil for WarpRectilinear).
        let generals: [Row.General?]

        init(_ warp: LensWarp, pixelAspect: Double) {
            let aspect = pixelAspect.isFinite && pixelAspect > 0 ? pixelAspect : 1
            // The SDK scales rows (pixel height over width); only the ratio matters.
            scale = SIMD2(1, 1 / aspect)
            inverseScale = 1 / scale
            let area = SIMD2(Double(warp.imageWidth), Double(warp.imageHeight))
            // SDK: Lerp(left, right, centre) with right exclusive, so 0.5 is width / 2.
            let areaCentre = SIMD2(warp.centreX, warp.centreY) * area
            centre = areaCentre - SIMD2(Double(warp.offsetX), Double(warp.offsetY))
            var farthest = 0.0
            for corner in [SIMD2<Double>(0, 0), SIMD2(area.x, 0), SIMD2(0, area.y), area] {
                let d = (corner - areaCentre) * scale
                farthest = max(farthest, (d * d).sum())
            }
            radius = max(farthest.squareRoot(), 1)
            inverseRadius = 1 / radius
            planes = warp.planes.count == 3 ? warp.planes : Array(repeating: warp.planes[0], count: 3)
            sharesPosition = warp.planes.count == 1 || (planes[0] == planes[1] && planes[1] == planes[2])
            generals = planes.map { k in k.general.map(Row.General.init) }
        }

        /// The source position of destination pixel (x, y) for `plane` (0, 1, 2 = R, G, B).
        public func source(x: Double, y: Double, plane: Int) -> SIMD2<Double> {
            let p = row(y, plane: plane).source(x)
            return SIMD2(p.x, p.y)
        }

        /// What one destination row and plane hold constant, for `Row.source`.
        func row(_ y: Double, plane: Int) -> Row {
            let k = planes[plane]
            let ny = (y - centre.y) * inverseRadius, sy = ny * scale.y
            return Row(cx: centre.x, cy: centre.y, radius: radius, inverseRadius: inverseRadius, scaleX: scale.x,
                       inverseScaleX: inverseScale.x, inverseScaleY: inverseScale.y, ny: ny, sy: sy, syy: sy * sy,
                       kr0: k.radial.x, kr1: k.radial.y, kr2: k.radial.z, kr3: k.radial.w, ktX: k.tangentialX, ktY: k.tangentialY,
                       general: generals[plane])
        }

        /// One row's constants and the geometry's kernel (`sources`): the same operations
        /// wherever a position is asked (the resampler's rows, the row spans, tests).
        struct Row {
            let cx: Double, cy: Double, radius: Double, inverseRadius: Double
            let scaleX: Double, inverseScaleX: Double, inverseScaleY: Double
            let ny: Double, sy: Double, syy: Double
            let kr0: Double, kr1: Double, kr2: Double, kr3: Double, ktX: Double, ktY: Double
            /// WarpRectilinear2's ratio, in place of kr0…kr3.
            let general: General?
            var tangential: Bool { ktX != 0 || ktY != 0 }

            /// WarpRectilinear2's ratio as the SDK evaluates it (dng_warp_params_radial::
            /// EvaluateRatio): r² pinned to the valid range, then Horner in r over the 15 terms,
            /// then the reciprocal if asked. The terms in a vector, not an array: no reference to
            /// count in the loop.
            struct General: Sendable {
                let terms: SIMD16<Double>
                let minimum2: Double, maximum2: Double
                let reciprocal: Bool

                init(_ g: Coefficients.General) {
                    var t = SIMD16<Double>(repeating: 0)
                    for (i, v) in g.terms.prefix(15).enumerated() { t[i] = v }
                    terms = t
                    (minimum2, maximum2) = (g.minimumRadius * g.minimumRadius, g.maximumRadius * g.maximumRadius)
                    reciprocal = g.reciprocal
                }

                @inline(__always)
                func ratio(_ r2: SIMD4<Double>) -> SIMD4<Double> {
                    var x = r2
                    x.replace(with: minimum2, where: x .< minimum2)
                    x.replace(with: maximum2, where: x .> maximum2)
                    let r = x.squareRoot()
                    var poly = SIMD4<Double>(repeating: terms[14])
                    for i in stride(from: 13, through: 0, by: -1) { poly = poly * r + terms[i] }
                    return reciprocal ? 1 / poly : poly
                }
            }

            /// The source positions of four columns: the geometry's one implementation, four
            /// columns at a time because the resampler asks for whole rows (`source(_:)` asks for
            /// one through it).
            @inline(__always)
            func sources(_ x: SIMD4<Double>) -> (x: SIMD4<Double>, y: SIMD4<Double>) {
                let nx = (x - cx) * inverseRadius, sx = nx * scaleX
                var r2 = sx * sx + syy
                r2.replace(with: 1, where: r2 .> 1)
                let ratio: SIMD4<Double>
                if let general { ratio = general.ratio(r2) } else { ratio = kr0 + r2 * (kr1 + r2 * (kr2 + r2 * kr3)) }
                // Most lenses record no tangential terms: leaving out what would add +0 gives the same bits.
                guard tangential else { return (cx + radius * (nx * ratio), cy + radius * (ny * ratio)) }
                let cross = 2 * sx * sy
                let tx = ktX * (r2 + 2 * sx * sx) + ktY * cross, ty = ktY * (r2 + 2 * syy) + ktX * cross
                return (cx + radius * (nx * ratio + tx * inverseScaleX), cy + radius * (ny * ratio + ty * inverseScaleY))
            }

            func source(_ x: Double) -> (x: Double, y: Double) {
                let p = sources(SIMD4(repeating: x))
                return (p.x[0], p.y[0])
            }
        }
    }
}
