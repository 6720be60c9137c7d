/// Vignetting correction from a DNG FixVignetteRadial opcode (OpcodeList3): a gain that grows
/// with the distance from the optical centre, the same for every channel.
///
/// What: every pixel is multiplied by g = 1 + k0 r² + k1 r⁴ + k2 r⁶ + k3 r⁸ + k4 r¹⁰, where r is
/// the distance of the pixel's centre (x + ½, y + ½) from the optical centre c (given relative to
/// the image area) over R, the distance from c to the area's farthest corner — so r ≤ 1 inside
/// the area. Non-square pixels are measured in square units (rows scaled by 1 / pixel aspect),
/// as for `LensWarp`. `LensVignetteSource` applies it; this file holds the parameters and the gain.
/// Why: Adobe DNG Converter writes a camera's built-in lens corrections (Micro Four Thirds,
/// many compacts) as OpcodeList3 WarpRectilinear and FixVignetteRadial; Lightroom, Camera Raw and
/// the DNG SDK apply them, LibRaw 0.20 does not, so without it such a file's corners render
/// dark (up to a stop and more on wide lenses).
/// Reference: DNG specification 1.6, chapter 7, opcode 3 FixVignetteRadial (the polynomial in
/// r², the centre relative to the image area, r normalised by the farthest corner); Adobe DNG SDK
/// dng_opcode_FixVignetteRadial (r at pixel centres, rows scaled by the pixel aspect ratio; it
/// quantises the gain to a 16-bit table of r² with at most 15 fractional bits, a relative
/// difference of at most ~3·10⁻⁵ from the polynomial evaluated here).
/// Colour space: any linear RGB (a gain on all channels).
public struct LensVignette: Sendable, Codable, Equatable {
    /// k0 … k4, the coefficients of r², r⁴, r⁶, r⁸, r¹⁰.
    public let coefficients: [Double]
    /// The optical centre relative to the image area: (0, 0) its top-left, (1, 1) its bottom-right corner.
    public let centreX: Double, centreY: Double
    /// The area the opcode's coordinates span (the DNG ActiveArea), in pixels.
    public let imageWidth: Int, imageHeight: Int
    /// Visible pixel (0, 0) in the area's coordinates.
    public let offsetX: Int, offsetY: Int
    /// The opcode came before the list's WarpRectilinear, so it applies to the uncorrected
    /// geometry (its r measured before the warp moves the pixels); false when after it or alone.
    public let precedesWarp: Bool

    /// Nil for what the DNG SDK refuses (five coefficients, a centre inside the area), a
    /// coefficient that is not finite or an empty area.
    public init?(coefficients: [Double], centreX: Double, centreY: Double, imageWidth: Int, imageHeight: Int,
                 offsetX: Int = 0, offsetY: Int = 0, precedesWarp: Bool = false) {
        guard coefficients.count == 5, coefficients.allSatisfy(\.isFinite), (0...1).contains(centreX), (0...1).contains(centreY),
              imageWidth > 0, imageHeight > 0 else { return nil }
        self.coefficients = coefficients
        self.centreX = centreX; self.centreY = centreY
        self.imageWidth = imageWidth; self.imageHeight = imageHeight
        self.offsetX = offsetX; self.offsetY = offsetY
        self.precedesWarp = precedesWarp
    }

    /// Changes nothing: the SDK skips such an opcode, and so does the renderer.
    public var isIdentity: Bool { coefficients.allSatisfy { $0 == 0 } }

    /// The same vignette for a crop whose origin is (x, y) in this image's visible coordinates.
    public func shifted(x: Int, y: Int) -> LensVignette {
        LensVignette(coefficients: coefficients, centreX: centreX, centreY: centreY, imageWidth: imageWidth, imageHeight: imageHeight,
                     offsetX: offsetX + x, offsetY: offsetY + y, precedesWarp: precedesWarp)!
    }

    /// The same vignette for the image with rows and columns exchanged (`RawImage.transposed`).
    public var transposed: LensVignette {
        LensVignette(coefficients: coefficients, centreX: centreY, centreY: centreX, imageWidth: imageHeight, imageHeight: imageWidth,
                     offsetX: offsetY, offsetY: offsetX, precedesWarp: precedesWarp)!
    }

    /// The same vignette for this image binned by `block` (a preview): binned pixel u spans
    /// pixels u·block ..< (u + 1)·block, so a position measured from the frame's edge, as r's
    /// pixel centres are, scales by 1 / block (`LensWarp.binned`, whose positions are pixel
    /// indices, also shifts by (block − 1) / 2). The area rounds to whole binned pixels.
    public func binned(by block: Int) -> LensVignette? {
        guard block > 1 else { return self }
        let b = Double(block)
        let width = max(1, Int((Double(imageWidth) / b).rounded())), height = max(1, Int((Double(imageHeight) / b).rounded()))
        let x = Int((Double(offsetX) / b).rounded()), y = Int((Double(offsetY) / b).rounded())
        let cx = (centreX * Double(imageWidth) - Double(offsetX)) / b, cy = (centreY * Double(imageHeight) - Double(offsetY)) / b
        return LensVignette(coefficients: coefficients, centreX: min(max((cx + Double(x)) / Double(width), 0), 1),
                            centreY: min(max((cy + Double(y)) / Double(height), 0), 1),
                            imageWidth: width, imageHeight: height, offsetX: x, offsetY: y, precedesWarp: precedesWarp)
    }

    /// The gain at r², clamped to [0, 1] (the SDK's table spans it); a gain that overflows or is
    /// not a number (a hostile file's coefficients) is held to [0, 65535], the range of the SDK's
    /// 16-bit table, and 1 where it is not a number.
    public func gain(r2: Double) -> Double {
        let x = min(max(r2, 0), 1)
        var sum = 0.0
        for k in coefficients.reversed() { sum = x * (k + sum) }
        let g = sum + 1
        return g.isNaN ? 1 : min(max(g, 0), 65535)
    }

    /// Derived once per render: where the frame's pixels lie relative to the centre.
    public func mapping(pixelAspect: Double) -> Mapping { Mapping(self, pixelAspect: pixelAspect) }

    public struct Mapping: Sendable {
        public let vignette: LensVignette
        /// The optical centre in visible-frame pixels.
        public let centre: SIMD2<Double>
        /// The distance from the centre to the area's farthest corner, in square units.
        public let radius: Double
        /// Rows in square units: 1 / pixel aspect.
        let rowScale: Double

        init(_ vignette: LensVignette, pixelAspect: Double) {
            self.vignette = vignette
            let aspect = pixelAspect.isFinite && pixelAspect > 0 ? pixelAspect : 1
            rowScale = 1 / aspect
            let area = SIMD2(Double(vignette.imageWidth), Double(vignette.imageHeight))
            let areaCentre = SIMD2(vignette.centreX, vignette.centreY) * area
            centre = areaCentre - SIMD2(Double(vignette.offsetX), Double(vignette.offsetY))
            // SDK: hypot of the larger distance to a vertical edge and (rows scaled) to a horizontal one.
            let across = max(areaCentre.x, area.x - areaCentre.x), down = max(areaCentre.y, area.y - areaCentre.y) * rowScale
            radius = max((across * across + down * down).squareRoot(), 1)
        }

        /// The horizontal part of r² for each of `width` columns (pixel centres).
        public func columnTerms(width: Int) -> [Double] {
            (0..<width).map { x in
                let d = (Double(x) + 0.5 - centre.x) / radius
                return d * d
            }
        }

        /// The vertical part of r² for row `y` (its pixel centres).
        public func rowTerm(_ y: Int) -> Double {
            let d = (Double(y) + 0.5 - centre.y) * rowScale / radius
            return d * d
        }

        /// The gain of pixel (x, y): what `LensVignetteSource` multiplies it by.
        public func gain(x: Int, y: Int) -> Double {
            let d = (Double(x) + 0.5 - centre.x) / radius
            return vignette.gain(r2: d * d + rowTerm(y))
        }
    }
}
