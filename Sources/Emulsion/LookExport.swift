import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A look's colour mapping baked into a 3-D LUT, and a LUT turned back into a look.
///
/// Export: each lattice node is an encoded RGB in the declared input encoding; it is decoded (the
/// encoding's own transfer curve and primaries, as the matching output profile defines them) to
/// working RGB and sent through the look's pure colour stages — exposure bias, highlight roll-off,
/// per-hue table, saturation/vibrance, monochrome, tone curve, split toning and the look's own LUT,
/// the same kernels a render runs — and then the output encoding. Local contrast, vignette and
/// grain depend on position, so no LUT can hold them: they are left out, and the file says so.
/// Applied to an image that Emulsion rendered with the `neutral` profile in the input encoding,
/// the LUT reproduces the look's render for every colour the input could hold (inside the
/// encoding's gamut and below its white).
public enum LookExport {
    /// A RawTherapee processing profile (.pp3, RawTherapee 5.9's format, version 349) that applies
    /// a Hald CLUT of the look through its Film Simulation tool, at full strength, on top of
    /// whatever base profile RawTherapee is given (`rawtherapee-cli -p look.pp3` builds on its
    /// neutral one). `clut` is the CLUT's absolute path: RawTherapee takes a relative one as
    /// relative to its own CLUT folder. RawTherapee reads a Hald CLUT's colour space from the
    /// part of its name after the last "_" and takes sRGB when that names no profile it knows,
    /// so the CLUT must map sRGB to sRGB (the export's default encodings).
    public static func rawTherapeeProfile(clut: String, look: Profile) -> String {
        """
        # Emulsion look \(look.name): its colour mapping as a Hald CLUT (local contrast, vignette and grain are not in one)
        [Version]
        AppVersion=5.9
        Version=349

        [Film Simulation]
        Enabled=true
        ClutFilename=\(clut)
        Strength=100

        """
    }

    public static func cube(profile: Profile, size: Int, input: LUTEncoding = .sRGB, output: LUTEncoding = .sRGB) throws -> LUT3D {
        precondition((2...256).contains(size))
        let inputProfile = try input.space.embeddedProfile()
        guard let inputToWorking = inputProfile.fromWorking.inverse else { throw RenderError("\(input.rawValue): singular matrix") }
        let n = size
        let decoded = (0..<n).map { Float(inputProfile.transferCurve.decode(Double($0) / Double(n - 1))) }
        var chain = PointStageChain()
        chain.append(.matrix(inputToWorking))
        for element in try LookPlan.elements(profile: profile, context: LookContext(width: n * n, height: n), part: .colourOnly) {
            switch element {
            case .matrix(let m): chain.append(.matrix(m))
            case .kernel(let k): chain.append(.kernel(k))
            }
        }
        chain.append(.output(try output.space.outputEncoding()))
        let values = lattice(axis: decoded, through: chain)
        return LUT3D(size: n, title: profile.name, values: values, comments: [
            "Emulsion look \"\(profile.name)\": \(profile.summary)",
            "Input: \(input.rawValue) encoded RGB (\(input.space.profileDescription)), as `emulsion process --profile neutral --space \(input.space.rawValue)` writes",
            "Output: \(output.rawValue) encoded RGB (\(output.space.profileDescription))",
            "Colour mapping only: local contrast, vignette and grain are not in this LUT",
        ])
    }

    /// The look stages a LUT cannot hold (they depend on where the pixel is), each off at
    /// `amount` 0: the stages of the roles `LookPlan` prepares only for a whole render.
    public static let positionDependentStages = LookPlan.Role.allCases.compactMap(\.positionDependentStage)

    /// Every node of a `axis.count`³ lattice (node (r, g, b) holds axis[r], axis[g], axis[b]) sent
    /// through `chain`; the results as RGB triples, red fastest (`LUT3D.values` order).
    public static func lattice(axis: [Float], through chain: PointStageChain) -> [Float] {
        let n = axis.count
        let storage = StripStorage(width: n * n, rows: n)
        let strip = storage.strip(firstRow: 0, rows: n)
        for b in 0..<n { for g in 0..<n { for r in 0..<n {
            let i = (b * n + g) * n + r
            strip.r[i] = axis[r]; strip.g[i] = axis[g]; strip.b[i] = axis[b]
        } } }
        for kernel in chain.fusedKernels() { kernel.run(over: strip, engine: .simd) }
        var values = [Float](repeating: 0, count: 3 * n * n * n)
        for i in 0..<(n * n * n) { values[3 * i] = strip.r[i]; values[3 * i + 1] = strip.g[i]; values[3 * i + 2] = strip.b[i] }
        withExtendedLifetime(storage) {}
        return values
    }

    /// The declared input/output encodings an Emulsion-written `.cube` records in its comments.
    public static func declaredEncodings(_ lut: LUT3D) -> (input: LUTEncoding?, output: LUTEncoding?) {
        func find(_ prefix: String) -> LUTEncoding? {
            guard let line = lut.comments.first(where: { $0.hasPrefix(prefix) }) else { return nil }
            let word = line.dropFirst(prefix.count).split(separator: " ").first.map(String.init) ?? ""
            return LUTEncoding(rawValue: word)
        }
        return (find("Input: "), find("Output: "))
    }

    /// A profile document that applies `lutPath` (a `.cube` or Hald `.png`) with everything else
    /// neutral; the LUT path is written relative to `profilePath`'s folder when it lies inside it.
    public static func importedDocument(lutPath: String, profilePath: String, name: String,
                                        input: LUTEncoding, output: LUTEncoding) -> JSONValue {
        let lut = URL(fileURLWithPath: lutPath).standardizedFileURL.path
        let folder = URL(fileURLWithPath: profilePath).standardizedFileURL.deletingLastPathComponent().path + "/"
        let reference = lut.hasPrefix(folder) ? String(lut.dropFirst(folder.count)) : lut
        return .object([
            "schemaVersion": .number(Double(Profile.schemaVersion)),
            "name": .string(name),
            "description": .string("Imported from \(URL(fileURLWithPath: lutPath).lastPathComponent): a 3-D LUT (input \(input.rawValue), output \(output.rawValue)) on the neutral rendering."),
            "lut": .object(["file": .string(reference), "input": .string(input.rawValue), "output": .string(output.rawValue)]),
        ])
    }
}
