// TEMPORARY stand-in until the LittleCMS facade lands (branch colour); deleted at merge.
import EmulsionCore
import Foundation

public enum OutputSpace: String, CaseIterable, Sendable {
    case sRGB = "srgb", displayP3 = "display-p3", adobeRGB = "adobe-rgb", rec2020 = "rec2020", proPhoto = "prophoto"

    public func iccProfile() throws -> [UInt8] { [] }

    public func outputEncoding() throws -> OutputEncodingKernel {
        let p: RGBPrimaries = [.sRGB: .sRGB, .displayP3: .displayP3, .adobeRGB: .adobeRGB, .rec2020: .rec2020, .proPhoto: .proPhoto][self]!
        let adapt = ChromaticAdaptation.bradford(from: Chromaticity.d65.xyz, to: p.white.xyz)
        let m = p.toXYZ.inverse! * adapt * WorkingSpace.toXYZD65
        return OutputEncodingKernel(toOutput: m) { x in x <= 0.0031308 ? 12.92 * x : 1.055 * pow(x, 1 / 2.4) - 0.055 }
    }
}
