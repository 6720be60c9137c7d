/// RGB colour spaces by their primaries and white point, and the matrices between them.
///
/// Matrices follow the usual derivation (e.g. Lindbloom, "RGB/XYZ Matrices"): the primaries'
/// XYZ columns scaled so that RGB (1,1,1) is the white point. Adaptation between white points is
/// linear Bradford, the method ICC v4 profiles use for their chromatic adaptation tag.
public struct Chromaticity: Sendable, Equatable, Codable {
    public var x: Double
    public var y: Double
    public init(x: Double, y: Double) { self.x = x; self.y = y }

    /// XYZ with Y = 1.
    public var xyz: SIMD3<Double> { SIMD3(x / y, 1, (1 - x - y) / y) }

    public static let d65 = Chromaticity(x: 0.3127, y: 0.3290)
    public static let d50 = Chromaticity(x: 0.3457, y: 0.3585)
}

/// The XYZ of the ICC profile connection space white (D50), as ICC.1 gives it.
public let iccD50 = SIMD3<Double>(0.9642, 1.0, 0.8249)

public struct RGBPrimaries: Sendable, Equatable {
    public var red: Chromaticity
    public var green: Chromaticity
    public var blue: Chromaticity
    public var white: Chromaticity

    public init(red: Chromaticity, green: Chromaticity, blue: Chromaticity, white: Chromaticity) {
        self.red = red; self.green = green; self.blue = blue; self.white = white
    }

    /// Linear RGB → XYZ (relative to this space's own white, Y of white = 1).
    public var toXYZ: Matrix3 {
        let p = Matrix3(rowMajor: [
            red.xyz.x, green.xyz.x, blue.xyz.x,
            red.xyz.y, green.xyz.y, blue.xyz.y,
            red.xyz.z, green.xyz.z, blue.xyz.z,
        ])
        let s = p.inverse! * white.xyz
        return p * Matrix3.diagonal(s)
    }

    public static let sRGB = RGBPrimaries(red: .init(x: 0.64, y: 0.33), green: .init(x: 0.30, y: 0.60),
                                          blue: .init(x: 0.15, y: 0.06), white: .d65)
    public static let displayP3 = RGBPrimaries(red: .init(x: 0.680, y: 0.320), green: .init(x: 0.265, y: 0.690),
                                               blue: .init(x: 0.150, y: 0.060), white: .d65)
    public static let adobeRGB = RGBPrimaries(red: .init(x: 0.64, y: 0.33), green: .init(x: 0.21, y: 0.71),
                                              blue: .init(x: 0.15, y: 0.06), white: .d65)
    public static let rec2020 = RGBPrimaries(red: .init(x: 0.708, y: 0.292), green: .init(x: 0.170, y: 0.797),
                                             blue: .init(x: 0.131, y: 0.046), white: .d65)
    public static let proPhoto = RGBPrimaries(red: .init(x: 0.7347, y: 0.2653), green: .init(x: 0.1596, y: 0.8404),
                                              blue: .init(x: 0.0366, y: 0.0001), white: .d50)
}

public enum ChromaticAdaptation {
    static let bradford = Matrix3(rowMajor: [0.8951, 0.2664, -0.1614, -0.7502, 1.7135, 0.0367, 0.0389, -0.0685, 1.0296])

    /// Linear Bradford adaptation of XYZ from `source` white to `destination` white.
    public static func bradford(from source: SIMD3<Double>, to destination: SIMD3<Double>) -> Matrix3 {
        let s = bradford * source
        let d = bradford * destination
        return bradford.inverse! * Matrix3.diagonal(d / s) * bradford
    }
}

/// The scene-linear working space every look stage sees: linear Rec.2020 primaries, D65 white.
/// Wide enough to hold what cameras record without clipping, and standard enough to name in a LUT.
public enum WorkingSpace {
    public static let primaries = RGBPrimaries.rec2020
    /// Working RGB → XYZ relative to D65.
    public static var toXYZD65: Matrix3 { primaries.toXYZ }
    /// XYZ D65 → working RGB.
    public static var fromXYZD65: Matrix3 { primaries.toXYZ.inverse! }
    /// Linear sRGB → working RGB (same white, so no adaptation).
    public static var fromLinearSRGB: Matrix3 { fromXYZD65 * RGBPrimaries.sRGB.toXYZ }
}
