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

/// A DNG camera profile (a `.dcp` file, or the profile tags inside a DNG): calibration matrices
/// and the tables that refine them, in the form the renderer prepares (`HueSatMapKernel`,
/// `ProfileToneCurveKernel`). Read by EmulsionIO's `DCPFile`.
/// Reference: DNG specification 1.6, chapter 6 ("Camera Profiles"): ProfileHueSatMapDims/Data1/2,
/// ProfileHueSatMapEncoding, ProfileLookTableDims/Data/Encoding, ProfileToneCurve,
/// BaselineExposureOffset.
public struct CameraProfile: Sendable, Equatable {
    /// A hue × saturation × value table of (hue shift in degrees, saturation scale, value scale),
    /// saturation varying fastest, then hue, then value (DNG 1.6 §6).
    public struct HSVTable: Sendable, Equatable {
        public var hues: Int, saturations: Int, values: Int
        public var data: [Float]
        /// Value axis encoding: false linear, true sRGB-encoded.
        public var sRGBEncoded: Bool

        public init(hues: Int, saturations: Int, values: Int, data: [Float], sRGBEncoded: Bool) {
            self.hues = hues; self.saturations = saturations; self.values = values
            self.data = data; self.sRGBEncoded = sRGBEncoded
        }

        public var isValid: Bool {
            hues >= 1 && saturations >= 2 && values >= 1 && data.count == 3 * hues * saturations * values && data.allSatisfy { $0.isFinite }
        }

        /// `g·a + (1 − g)·b`, for two tables of the same shape.
        public static func mix(_ a: HSVTable, _ b: HSVTable, _ g: Float) -> HSVTable {
            var out = a
            out.data = zip(a.data, b.data).map { g * $0 + (1 - g) * $1 }
            return out
        }
    }

    public var name: String
    /// One or two calibrations (illuminant, ColorMatrix, ForwardMatrix; CameraCalibration identity).
    public var calibrations: [DNGCalibration]
    /// HueSatMap for calibration 1 and 2 (the second may be absent).
    public var hueSatMaps: [HSVTable]
    public var lookTable: HSVTable?
    /// ProfileToneCurve points (x, y) in 0…1, or empty.
    public var toneCurve: [SIMD2<Float>]
    public var baselineExposureOffset: Float

    public init(name: String, calibrations: [DNGCalibration], hueSatMaps: [HSVTable] = [], lookTable: HSVTable? = nil,
                toneCurve: [SIMD2<Float>] = [], baselineExposureOffset: Float = 0) {
        self.name = name
        self.calibrations = calibrations
        self.hueSatMaps = hueSatMaps
        self.lookTable = lookTable
        self.toneCurve = toneCurve
        self.baselineExposureOffset = baselineExposureOffset
    }

    /// sRGB encoding of u² for u = i / 4095 (for tables whose value axis is sRGB-encoded).
    public static let sRGBEncodingBySquareRoot: [Float] = (0..<4096).map { i in
        let u = Double(i) / 4095, x = u * u
        return Float(x <= 0.0031308 ? 12.92 * x : 1.055 * pow(x, 1 / 2.4) - 0.055)
    }
}
