import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The look stages of a render, prepared from a profile: the order they run in and their
/// derived constants. `RenderPlan` appends them after exposure and before the output encoding;
/// `LookExport` uses the colour-only part to bake a `.cube`.
///
/// Order (scene-linear first, then display-linear): exposure bias → local contrast → vignette →
/// highlight roll-off → per-hue table (with skin protection) → saturation/vibrance (with skin
/// protection) → monochrome mix → tone curve → split toning → 3-D LUT → grain.
/// Local contrast, vignette and grain depend on position; the others are a pure colour mapping.
public enum LookPlan {
    public enum Part: Sendable { case all, colourOnly }

    /// What a prepared element is, for schedules that place the look's parts differently (device
    /// mode folds the bias into the CCM and bakes the colour stages into a 3-D LUT).
    public enum Role: Sendable, Equatable, CaseIterable {
        case exposureBias, localContrast, vignette, colour, grain

        /// The profile stage of a role whose result depends on where the pixel is (so no LUT,
        /// which sees a colour alone, can hold it); nil for the pure colour mappings.
        public var positionDependentStage: String? {
            switch self {
            case .localContrast: return "localContrast"
            case .vignette: return "vignette"
            case .grain: return "grain"
            case .exposureBias, .colour: return nil
            }
        }
    }

    /// The prepared look elements. `sourceToWorking` maps the source's RGB to working RGB as the
    /// chain has it before the look (camera matrix and exposure), for local contrast's pre-pass.
    public static func elements(profile: Profile, context: LookContext, part: Part = .all,
                                source: (any StripSource)? = nil, sourceToWorking: Matrix3 = .identity,
                                engine: Engine = .simd, threads: Int = 1) throws -> [LookElement] {
        try stages(profile: profile, context: context, part: part, source: source, sourceToWorking: sourceToWorking,
                   engine: engine, threads: threads).map(\.element)
    }

    /// The prepared look elements with their roles, in order.
    public static func stages(profile: Profile, context: LookContext, part: Part = .all,
                              source: (any StripSource)? = nil, sourceToWorking: Matrix3 = .identity,
                              engine: Engine = .simd, threads: Int = 1) throws -> [(role: Role, element: LookElement)] {
        let spatial = part == .all
        var out: [(role: Role, element: LookElement)] = []
        func add(_ role: Role, _ element: LookElement?) { if let element { out.append((role, element)) } }
        let bias = ExposureBias.Params(profile)
        add(.exposureBias, ExposureBias.prepare(bias))
        if spatial {
            let lc = LocalContrastKernel.Params(profile)
            if lc.amount != 0, let source, context.width >= 4, context.height >= 4 {
                let toWorking = Exposure.matrix(ev: bias.ev) * sourceToWorking
                let y = LookMath.luminanceWeights
                let row = SIMD3<Double>(
                    Double(y.0) * toWorking[0, 0] + Double(y.1) * toWorking[1, 0] + Double(y.2) * toWorking[2, 0],
                    Double(y.0) * toWorking[0, 1] + Double(y.1) * toWorking[1, 1] + Double(y.2) * toWorking[2, 1],
                    Double(y.0) * toWorking[0, 2] + Double(y.1) * toWorking[1, 2] + Double(y.2) * toWorking[2, 2])
                let surround = LocalContrastSurround.measure(source: source, luminance: SIMD3<Float>(row), radius: lc.radius,
                                                             engine: engine, threads: threads)
                add(.localContrast, .kernel(LocalContrastKernel(lc, surround: surround)))
            }
            add(.vignette, VignetteKernel.prepare(.init(profile), context))
        }
        add(.colour, HighlightRollOffKernel.prepare(.init(profile)))
        let skin = SkinProtection.prepare(.init(profile))
        add(.colour, HueSatLumKernel.prepare(.init(profile), skin: skin))
        add(.colour, ColourSaturationKernel.prepare(.init(profile), skin: skin))
        add(.colour, try Monochrome.prepare(.init(profile), profile: profile.origin))
        add(.colour, ToneCurveKernel.prepare(.init(profile)))
        add(.colour, SplitToningKernel.prepare(.init(profile)))
        if let file = profile.file("lut", "file") {
            add(.colour, .kernel(try lutKernel(file: file, profile: profile)))
        }
        if spatial { add(.grain, FilmGrainKernel.prepare(.init(profile))) }
        return out
    }

    /// Reads the files a profile names (today its LUT) once, so a broken file is one error before
    /// a batch starts rather than the same error for every input. Throws `ProfileError` naming
    /// the profile, the key path, the LUT file and the problem.
    public static func checkFiles(_ profile: Profile) throws {
        if let file = profile.file("lut", "file") { _ = try lutKernel(file: file, profile: profile) }
    }

    /// Reads the profile's LUT (a `.cube`, or a Hald CLUT `.png`) and prepares its kernel.
    static func lutKernel(file: String, profile: Profile) throws -> LookLUTKernel {
        let lut: LUT3D
        do {
            lut = try LUTFileCache.shared.lut(at: file) {
                file.lowercased().hasSuffix(".png") ? try HaldCLUT.read(path: file) : try LUT3D.readCube(path: file)
            }
        } catch let e as LUTError {
            throw ProfileError(file: profile.origin, keyPath: "lut.file", message: e.description)
        }
        let input = profile.option("lut", "input", as: LUTEncoding.self).space
        let output = profile.option("lut", "output", as: LUTEncoding.self).space
        return try lutKernel(lut, input: input, output: output, strength: profile.number("lut", "strength"))
    }

    public static func lutKernel(_ lut: LUT3D, input: OutputSpace, output: OutputSpace, strength: Double = 1) throws -> LookLUTKernel {
        let encode = try input.outputEncoding()
        let embedded = try output.embeddedProfile()
        guard let toWorking = embedded.fromWorking.inverse else { throw RenderError("\(output.rawValue): singular matrix") }
        let curve = embedded.transferCurve
        return LookLUTKernel(lut: lut, encode: encode, decode: { curve.decode($0) }, outputToWorking: toWorking, strength: strength)
    }
}

extension LUTEncoding {
    /// The output space with this encoding's primaries and curve.
    public var space: OutputSpace {
        switch self {
        case .sRGB: return .sRGB
        case .displayP3: return .displayP3
        case .rec2020: return .rec2020
        }
    }
}
