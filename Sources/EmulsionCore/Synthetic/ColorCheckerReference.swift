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

/// Reference colours of the 24-patch ColorChecker Classic, as X-Rite publishes them for charts made
/// after November 2014, with the conversions a test needs to compare a rendering against them.
///
/// What: for each patch, its name, its published CIELAB (D50, 2° observer) value, and XYZ relative to
/// D50 and to D65 with the Y of the perfect white diffuser = 1 (so the white patch has Y ≈ 0.88).
/// Why: the synthetic scene paints these colours, and tests measure how close a rendered chart comes
/// back to them (mean CIEDE2000).
///
/// Reference: X-Rite (2016), "ColorChecker Classic — new colour specifications, from November 2014",
/// CIELAB D50 values to two decimals, as colour-science 0.4.7 carries them in
/// `colour.CCS_COLOURCHECKERS['ColorChecker24 - After November 2014']`
/// (`DATA_COLORCHECKER24_AFTER_NOV2014_CIE_LAB`; that module turns them into xyY with the ICC D50 white,
/// exactly as `xyzD50` does here). The Lab numbers below are typed in from there.
///
/// Colour spaces: Lab is CIE 1976 L*a*b* relative to the ICC D50 white (`iccD50`). XYZ D65 is the D50
/// XYZ adapted with linear Bradford (`ChromaticAdaptation.bradford`) from `iccD50` to `Chromaticity.d65`,
/// the white the project's sRGB and working-space matrices use.
public enum ColorCheckerReference {
    /// One chart patch.
    public struct Patch: Sendable, Equatable {
        /// 0…23, row-major from the top-left (dark skin) to the bottom-right (black).
        public let index: Int
        /// The colour-science / X-Rite name, e.g. "dark skin", "white 9.5 (.05 D)".
        public let name: String
        /// Published CIELAB, D50 (ICC) white, 2° observer.
        public let labD50: SIMD3<Double>

        /// Row (0…3) and column (0…5) on the chart.
        public var row: Int { index / ColorCheckerReference.columns }
        public var column: Int { index % ColorCheckerReference.columns }

        /// XYZ relative to the ICC D50 white, perfect diffuser Y = 1.
        public var xyzD50: SIMD3<Double> { ColorCheckerReference.labToXYZ(labD50, white: iccD50) }

        /// XYZ relative to D65 (Bradford from D50), perfect diffuser Y = 1.
        public var xyzD65: SIMD3<Double> { ColorCheckerReference.adaptD50ToD65 * xyzD50 }

        /// CIE xyY of `xyzD50`, the form colour-science stores.
        public var xyYD50: SIMD3<Double> {
            let v = xyzD50
            let s = v.x + v.y + v.z
            return SIMD3(v.x / s, v.y / s, v.y)
        }
    }

    public static let rows = 4
    public static let columns = 6

    /// Index of the white patch ("white 9.5 (.05 D)") and of the 18 % grey ("neutral 5 (.70 D)").
    public static let whiteIndex = 18
    public static let neutral5Index = 21

    /// The 24 patches, row-major. Lab values: X-Rite 2016 (after Nov 2014), via colour-science 0.4.7.
    public static let patches: [Patch] = {
        let table: [(String, Double, Double, Double)] = [
            ("dark skin", 37.54, 14.37, 14.92),
            ("light skin", 64.66, 19.27, 17.50),
            ("blue sky", 49.32, -3.82, -22.54),
            ("foliage", 43.46, -12.74, 22.72),
            ("blue flower", 54.94, 9.61, -24.79),
            ("bluish green", 70.48, -32.26, -0.37),
            ("orange", 62.73, 35.83, 56.50),
            ("purplish blue", 39.43, 10.75, -45.17),
            ("moderate red", 50.57, 48.64, 16.67),
            ("purple", 30.10, 22.54, -20.87),
            ("yellow green", 71.77, -24.13, 58.19),
            ("orange yellow", 71.51, 18.24, 67.37),
            ("blue", 28.37, 15.42, -49.80),
            ("green", 54.38, -39.72, 32.27),
            ("red", 42.43, 51.05, 28.62),
            ("yellow", 81.80, 2.67, 80.41),
            ("magenta", 50.63, 51.28, -14.12),
            ("cyan", 49.57, -29.71, -28.32),
            ("white 9.5 (.05 D)", 95.19, -1.03, 2.93),
            ("neutral 8 (.23 D)", 81.29, -0.57, 0.44),
            ("neutral 6.5 (.44 D)", 66.89, -0.75, -0.06),
            ("neutral 5 (.70 D)", 50.76, -0.13, 0.14),
            ("neutral 3.5 (1.05 D)", 35.63, -0.46, -0.48),
            ("black 2 (1.5 D)", 20.64, 0.07, -0.46),
        ]
        return table.enumerated().map { i, e in Patch(index: i, name: e.0, labD50: SIMD3(e.1, e.2, e.3)) }
    }()

    /// Linear Bradford from the ICC D50 white to D65 (x 0.3127, y 0.3290).
    public static let adaptD50ToD65: Matrix3 = ChromaticAdaptation.bradford(from: iccD50, to: Chromaticity.d65.xyz)
    /// Linear Bradford from D65 to the ICC D50 white.
    public static let adaptD65ToD50: Matrix3 = ChromaticAdaptation.bradford(from: Chromaticity.d65.xyz, to: iccD50)

    // MARK: CIELAB (CIE 15:2004 §8.2.1, with the exact ε = 216/24389 and κ = 24389/27)

    static let epsilon = 216.0 / 24389.0
    static let kappa = 24389.0 / 27.0

    /// CIE 1976 L*a*b* → XYZ relative to `white` (whose Y is taken as 1).
    public static func labToXYZ(_ lab: SIMD3<Double>, white: SIMD3<Double>) -> SIMD3<Double> {
        let fy = (lab.x + 16) / 116
        let fx = fy + lab.y / 500
        let fz = fy - lab.z / 200
        func finv(_ f: Double) -> Double {
            let f3 = f * f * f
            return f3 > epsilon ? f3 : (116 * f - 16) / kappa
        }
        let yr = lab.x > kappa * epsilon ? fy * fy * fy : lab.x / kappa
        return SIMD3(finv(fx) * white.x, yr * white.y, finv(fz) * white.z)
    }

    /// XYZ → CIE 1976 L*a*b* relative to `white`.
    public static func xyzToLab(_ xyz: SIMD3<Double>, white: SIMD3<Double>) -> SIMD3<Double> {
        func f(_ t: Double) -> Double { t > epsilon ? cbrt(t) : (kappa * t + 16) / 116 }
        let fx = f(xyz.x / white.x), fy = f(xyz.y / white.y), fz = f(xyz.z / white.z)
        return SIMD3(116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz))
    }
}
