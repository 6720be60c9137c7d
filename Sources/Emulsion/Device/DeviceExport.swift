import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A look as a phone ISP would load it (`emulsion profile export P --device D --cube`): the 3-D
/// LUT at the device's size with entries rounded to its precision (a `.cube`), and beside it a JSON
/// file with the colour-correction matrices and the tone table in the device's fixed-point codes.
///
/// The LUT is the one device mode applies (`DevicePipeline.bakedLUT`): its input is the tone
/// table's output (sRGB's transfer function of linear working RGB — Rec.2020 primaries, D65 — over
/// [0, headroom]), its output the look in the output space's encoding. The CCMs are camera-specific:
/// they are those of `raw` (the synthetic chart's camera when none is given) with the render's
/// exposure and the look's exposure bias folded in, white-balanced camera RGB → working RGB.
public enum DeviceExport {
    public struct Files: Sendable {
        public var lut: LUT3D
        public var tables: JSONValue
    }

    public static func export(profile: Profile, device: DeviceDescription, raw: RawImage, rawName: String,
                              space: OutputSpace = .sRGB, cubeFileName: String) throws -> Files {
        guard let lutFormat = device.lut else {
            throw RenderError("\(device.origin): lut: the device has no 3-D LUT (\"float\"): nothing to export as a .cube")
        }
        var options = RenderOptions(profile: profile, space: space, threads: 1)
        options.device = device
        let plan = try RenderPlan(raw: raw, options: options)
        let lut = try DevicePipeline.bakedLUT(
            colour: LookPlan.stages(profile: profile, context: LookContext(width: 2, height: 2), part: .colourOnly)
                .filter { $0.role == .colour }.map(\.element),
            space: space, device: device, lut: lutFormat)
        var cube = lut
        cube.title = "\(profile.name) for \(device.name)"
        let h = DeviceLoader.format(device.headroom)
        cube.comments = [
            "Emulsion look \"\(profile.name)\" baked for device \"\(device.name)\": \(lutFormat.size)^3 nodes, entries rounded to \(lutFormat.bits) bits (\(device.rounding.rawValue))",
            "Input: the device tone table's output: sRGB transfer function of linear working RGB (Rec.2020 primaries, D65) / \(h), clipped to [0, 1]",
            "Output: \(space.rawValue) encoded RGB (\(space.profileDescription))",
            "Colour stages only: exposure bias is in the CCM; local contrast, vignette and grain run before the tone table",
        ]
        var document: [String: JSONValue] = [
            "profile": .string(profile.name),
            "device": .string(device.name),
            "deviceFile": .string(device.origin),
            "rounding": .string(device.rounding.rawValue),
            "headroom": .number(device.headroom),
            "lut": .object(["file": .string(cubeFileName), "size": .number(Double(lutFormat.size)), "bits": .number(Double(lutFormat.bits)),
                            "input": .string("tone table output"), "output": .string(space.rawValue)]),
        ]
        let matrices = plan.chain.elements.compactMap { element -> Matrix3? in
            if case .matrix(let m) = element { return m } else { return nil }
        }
        if let q = device.ccm {
            document["ccm"] = .object([
                "format": .string(q.description),
                "note": .string("white-balanced camera RGB of \(rawName) → linear working RGB (Rec.2020, D65), with exposure and the look's exposure bias; one matrix per linear block, in pipeline order; value = code / \(1 << q.fractionBits)"),
                "matrices": .array(matrices.map { m in
                    .array(m.m.map { .number(Double(q.code($0, rounding: device.rounding))) })
                }),
            ])
        } else {
            document["ccm"] = .object(["format": .string("float"),
                                       "matrices": .array(matrices.map { m in .array(m.m.map { .number($0) }) })])
        }
        if let t = device.toneTable {
            document["toneTable"] = .object([
                "entries": .number(Double(t.entries)), "bits": .number(Double(t.bits)),
                "input": .string("linear working RGB over [0, \(h)], entries evenly spaced, linear interpolation"),
                "codes": .array(DevicePipeline.toneTableCodes(device, table: t).map { .number(Double($0)) }),
            ])
        } else {
            document["toneTable"] = .string("float")
        }
        return Files(lut: cube, tables: .object(document))
    }
}
