import EmulsionCore
import EmulsionIO
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

/// The values behind the shaders' `Parameters` block and table buffer, and the per-shot push
/// constants, filled from the same prepared stages the CPU renders with.
///
/// User parameters come from the `Profile` (numbers as Float, booleans and choices as uint, in
/// `GLSLGenerator.layout` order); derived constants from the prepared kernels themselves (tables,
/// matrices): `init(plan:raw:options:)` takes them out of a `RenderPlan`'s point chain, so the GPU
/// reads exactly what the CPU kernels read; `look(_:space:)` prepares them from the profile alone
/// (no image: local contrast, which needs the whole image's surround, is left out).
public struct GLSLParameters: Sendable {
    /// The per-shot push constants (`Shot` in the shaders).
    public struct Shot: Sendable {
        public var width: UInt32 = 1, height: UInt32 = 1
        public var originX: UInt32 = 0, originY: UInt32 = 0
        public var bufferWidth: UInt32 = 1, bufferHeight: UInt32 = 1
        public var whiteBalance: SIMD3<Float> = .one
        public var cameraToWorking: [Float] = Matrix3.identity.floats
        public var exposureGain: Float = 1

        public init() {}

        /// The push-constant bytes as 32-bit words (std430: 76 bytes).
        public var words: [UInt32] {
            [width, height, originX, originY, bufferWidth, bufferHeight]
                + [whiteBalance.x, whiteBalance.y, whiteBalance.z].map(\.bitPattern)
                + cameraToWorking.map(\.bitPattern) + [exposureGain.bitPattern]
        }
    }

    public var shot = Shot()
    /// Every table, concatenated; derived fields hold offsets into it.
    public private(set) var tables: [Float] = []
    private var values: [String: [UInt32]] = [:]
    /// What the exporter should say about stages it could not bake.
    public private(set) var notes: [String] = []

    /// A stage this GPU form does not run.
    public struct Unsupported: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    init() {}

    mutating func set(_ member: String, _ field: String, _ v: Float) { values["\(member).\(field)"] = [v.bitPattern] }
    mutating func set(_ member: String, _ field: String, _ v: UInt32) { values["\(member).\(field)"] = [v] }
    mutating func set(_ member: String, _ field: String, _ v: Bool) { values["\(member).\(field)"] = [v ? 1 : 0] }
    mutating func set(_ member: String, _ field: String, _ v: [Float]) { values["\(member).\(field)"] = v.map(\.bitPattern) }

    /// Appends a table (padded with 16 copies of its last value, so reading one entry past the end
    /// returns what the CPU's padded tables give under a zero weight) and sets the field to its offset.
    mutating func table(_ member: String, _ field: String, _ t: [Float]) {
        set(member, field, UInt32(tables.count))
        tables += t + [Float](repeating: t.last ?? 0, count: 16)
    }

    /// The `Parameters` block as std430 words; every field of the layout must have been set.
    public var words: [UInt32] {
        GLSLGenerator.layout.flatMap { entry -> [UInt32] in
            guard let v = values["\(entry.member).\(entry.field)"], v.count == entry.type.words else {
                preconditionFailure("GLSLParameters: \(entry.member).\(entry.field) not set")
            }
            return v
        }
    }

    /// The block as GLSL constructor arguments (for baked shaders), one stage struct per line.
    func constructorArguments() -> String {
        var lines: [String] = []
        for stage in GLSLStage.all {
            func constructor(_ member: String, _ type: String, _ fields: [GLSLStage.Field]) -> String {
                let args = fields.map { f -> String in
                    let v = values["\(member).\(f.name)"] ?? []
                    switch f.type {
                    case .uint: return "\(v.first ?? 0)u"
                    case .float: return glslFloat(Float(bitPattern: v.first ?? 0))
                    case .floats(let n): return "float[\(n)](" + v.map { glslFloat(Float(bitPattern: $0)) }.joined(separator: ", ") + ")"
                    }
                }
                return "    \(type)(" + args.joined(separator: ", ") + ")"
            }
            if stage.declaration != nil { lines.append(constructor(stage.name, "\(stage.name)Params", stage.userFields)) }
            lines.append(constructor(stage.name + "D", "\(stage.name)Derived", stage.derived))
        }
        return lines.joined(separator: ",\n") + "\n"
    }

    /// The parameters of `plan` (built for `raw` with `options`), taking every derived constant
    /// from the plan's own prepared kernels. The shader input is then the plan source's camera RGB
    /// divided by the white balance (the shader multiplies it back).
    public init(plan: RenderPlan, raw: RawImage, options: RenderOptions) throws {
        guard options.cameraProfile == nil else { throw Unsupported(description: "camera profiles (--dcp) are not in the GPU stages") }
        var kernels: [any PointKernel] = []
        var output: OutputEncodingKernel?
        for element in plan.chain.elements {
            switch element {
            case .matrix: break  // camera, exposure, exposure bias and monochrome: set below from the same sources
            case .kernel(let k): kernels.append(k)
            case .output(let e): output = e
            case .encodedCurve: throw Unsupported(description: "encoded curves are not in the GPU stages")
            }
        }
        guard let output else { throw Unsupported(description: "the plan has no output encoding") }
        try self.init(profile: options.profile, kernels: kernels, output: output, localContrastMeasured: true)
        let profile = options.profile
        var ev = profile.number("exposure", "ev")
        if profile.flag("exposure", "baseline") { ev += Double(raw.colour.baselineExposure) }
        shot.width = UInt32(plan.source.width)
        shot.height = UInt32(plan.source.height)
        shot.bufferWidth = shot.width
        shot.bufferHeight = shot.height
        shot.whiteBalance = plan.whiteBalance
        shot.cameraToWorking = plan.cameraToWorking.floats
        shot.exposureGain = Float(pow(2, ev))
    }

    /// One look's parameters from the profile alone (for a baked shader): per-shot values stay push
    /// constants; local contrast is left out (see `notes`).
    public static func look(_ profile: Profile, space: OutputSpace) throws -> GLSLParameters {
        let elements = try LookPlan.elements(profile: profile, context: LookContext(width: 1, height: 1), part: .all)
        var kernels: [any PointKernel] = elements.compactMap { if case .kernel(let k) = $0 { return k }; return nil }
        if profile.option("highlights", "mode", as: HighlightMode.self) == .blend { kernels.insert(HighlightBlendKernel(), at: 0) }
        var p = try GLSLParameters(profile: profile, kernels: kernels, output: try space.outputEncoding(), localContrastMeasured: false)
        let lc = profile.number("localContrast", "amount")
        if lc != 0 {
            p.notes.append("localContrast.amount = \(lc) is NOT applied: it needs a surround measured over the whole image (a CPU pre-pass).")
        }
        return p
    }

    private init(profile: Profile, kernels: [any PointKernel], output: OutputEncodingKernel, localContrastMeasured: Bool) throws {
        for stage in GLSLStage.all {
            guard let declaration = stage.declaration else { continue }
            for parameter in declaration.parameters {
                let name = GLSLStage.identifier(parameter.name)
                switch parameter.kind {
                case .number: set(stage.name, name, Float(profile.number(declaration.name, parameter.name)))
                case .boolean: set(stage.name, name, profile.flag(declaration.name, parameter.name))
                case .choice(let options, _):
                    set(stage.name, name, UInt32(options.firstIndex(of: profile.choice(declaration.name, parameter.name)) ?? 0))
                case .file, .curve: break
                }
            }
        }
        func kernel<K: PointKernel>(_ type: K.Type) -> K? { kernels.lazy.compactMap { $0 as? K }.first }
        for k in kernels {
            let name = String(describing: type(of: k))
            let known = ["HighlightBlendKernel", "LocalContrastKernel", "VignetteKernel", "HighlightRollOffKernel", "HueSatLumKernel",
                         "ColourSaturationKernel", "ToneCurveKernel", "SplitToningKernel", "LookLUTKernel", "FilmGrainKernel"]
            guard known.contains(name) else { throw Unsupported(description: "\(name) has no GPU stage") }
        }
        set("whiteBalanceD", "enabled", true)
        set("highlightsD", "blend", kernel(HighlightBlendKernel.self) != nil)
        set("cameraD", "enabled", true)
        set("exposureD", "enabled", true)
        set("exposureBiasD", "gain", Float(pow(2, profile.number("exposureBias", "ev"))))

        let lc = localContrastMeasured ? kernel(LocalContrastKernel.self) : nil
        set("localContrastD", "enabled", lc != nil)
        set("localContrastD", "verticalStep", lc?.verticalStep ?? 0)
        table("localContrastD", "grid", lc?.grid.values ?? [0])
        table("localContrastD", "columnIndex", lc?.columnIndex.values ?? [0])
        table("localContrastD", "columnFraction", lc?.columnFraction.values ?? [0])
        table("localContrastD", "rowOffset", lc?.rowOffset ?? [0])
        table("localContrastD", "rowFraction", lc?.rowFraction ?? [0])
        table("localContrastD", "gains", lc?.gains.values ?? [0])

        let vignette = kernel(VignetteKernel.self)
        set("vignetteD", "enabled", vignette != nil)
        table("vignetteD", "gains", vignette?.gains.values ?? [0])

        let rollOff = kernel(HighlightRollOffKernel.self)
        set("highlightRollOffD", "enabled", rollOff != nil)
        set("highlightRollOffD", "ceiling", rollOff?.ceiling ?? 1)
        table("highlightRollOffD", "scale", rollOff?.scale.values ?? [0])
        table("highlightRollOffD", "desaturation", rollOff?.desaturation.values ?? [0])

        let skin = SkinProtection.prepare(.init(profile))
        set("skinProtectionD", "amount", skin.amount)
        set("skinProtectionD", "centre", skin.centre)
        set("skinProtectionD", "inverseWidth", skin.inverseWidth)

        let hsl = kernel(HueSatLumKernel.self)
        set("hslD", "enabled", hsl != nil)
        set("hslD", "valueVaries", hsl?.valueVaries ?? false)
        table("hslD", "hueShift", hsl?.hueShift ?? [0])
        table("hslD", "saturationScale", hsl?.saturationScale ?? [0])
        table("hslD", "valueScale", hsl?.valueScale ?? [0])
        if let hsl, hsl.skin != skin { throw Unsupported(description: "hsl: skin protection differs from the profile's") }

        let colour = kernel(ColourSaturationKernel.self)
        set("colourD", "enabled", colour != nil)
        if let colour, colour.saturation != Float(profile.number("colour", "saturation")) || colour.vibrance != Float(profile.number("colour", "vibrance")) {
            throw Unsupported(description: "colour: the kernel's parameters differ from the profile's")
        }

        let mono = try Monochrome.prepare(.init(profile), profile: profile.origin)
        if case .matrix(let m) = mono {
            set("monochromeD", "enabled", true)
            set("monochromeD", "row", Array(m.floats[0..<3]))
        } else {
            set("monochromeD", "enabled", false)
            set("monochromeD", "row", [0, 0, 0])
        }

        let tone = kernel(ToneCurveKernel.self)
        set("toneD", "enabled", tone != nil)
        set("toneD", "ratio", tone?.ratio ?? false)
        set("toneD", "inverseMaximum", tone?.inverseMaximum ?? 1)
        table("toneD", "table", tone?.table.values ?? [0])

        let split = kernel(SplitToningKernel.self)
        set("splitToningD", "enabled", split != nil)
        set("splitToningD", "shadow", split.map { [$0.shadow.0, $0.shadow.1, $0.shadow.2] } ?? [0, 0, 0])
        set("splitToningD", "highlight", split.map { [$0.highlight.0, $0.highlight.1, $0.highlight.2] } ?? [0, 0, 0])
        set("splitToningD", "weightScale", split?.weightScale ?? 0)
        set("splitToningD", "weightOffset", split?.weightOffset ?? 0)

        let lut = kernel(LookLUTKernel.self)
        set("lutD", "enabled", lut != nil)
        set("lutD", "size", Float(lut?.size ?? 2))
        set("lutD", "scale", lut.map { [$0.scale.0, $0.scale.1, $0.scale.2] } ?? [1, 1, 1])
        set("lutD", "offset", lut.map { [$0.offset.0, $0.offset.1, $0.offset.2] } ?? [0, 0, 0])
        set("lutD", "strength", lut?.strength ?? 1)
        table("lutD", "red", lut?.red.values ?? [0])
        table("lutD", "green", lut?.green.values ?? [0])
        table("lutD", "blue", lut?.blue.values ?? [0])
        table("lutD", "decode", lut?.decode.values ?? [0])
        set("lutD", "encodeMatrix", lut?.encode.toOutput.matrix.floats ?? Matrix3.identity.floats)
        table("lutD", "encodeTable", lut?.encode.curve.values ?? [0])
        set("lutD", "toWorking", lut?.toWorking.matrix.floats ?? Matrix3.identity.floats)

        let grain = kernel(FilmGrainKernel.self)
        set("grainD", "enabled", grain != nil)
        table("grainD", "tileA", grain?.tileA.values ?? [0])
        table("grainD", "tileB", grain?.tileB.values ?? [0])
        set("grainD", "weightBase", grain?.weightBase ?? 0)
        set("grainD", "weightBump", grain?.weightBump ?? 0)

        set("outputEncodingD", "toOutput", output.toOutput.matrix.floats)
        table("outputEncodingD", "table", output.curve.values)
    }
}

/// `profile export --glsl`: one look as a compute shader (`look.comp`) with its parameters as
/// constants, plus its tables as a binary beside it (`look.tables.bin`: little-endian binary32
/// floats, bound read-only at binding 2). The tables are not constant arrays in the source because
/// lavapipe cannot build a pipeline from arrays that large in reasonable time (`GLSLGenerator.baked`).
public enum GLSLExport {
    /// The tables file written beside `shader`: `look.comp` → `look.tables.bin` (other names get
    /// `.tables.bin` appended).
    public static func tablesPath(for shader: String) -> String {
        (shader.hasSuffix(".comp") ? String(shader.dropLast(5)) : shader) + ".tables.bin"
    }

    /// The look's shader (its header names `tablesFile`), what it leaves out, and its tables.
    public static func lookShader(profile: Profile, space: OutputSpace, tablesFile: String = "look.tables.bin") throws -> (text: String, notes: [String], tables: [Float]) {
        let parameters = try GLSLParameters.look(profile, space: space)
        let title = "Look \"\(profile.name)\" baked for output \(space.rawValue): input camera RGB (binding 0), encoded RGB out (binding 1), per-shot values as push constants (Shot)."
        return (GLSLGenerator.baked(parameters, title: title, notes: parameters.notes, tablesFile: tablesFile), parameters.notes, parameters.tables)
    }

    /// Tables as the bytes of the tables file (little-endian binary32).
    public static func tableBytes(_ tables: [Float]) -> [UInt8] {
        tables.flatMap { v -> [UInt8] in let b = v.bitPattern.littleEndian; return [UInt8(b & 255), UInt8(b >> 8 & 255), UInt8(b >> 16 & 255), UInt8(b >> 24)] }
    }

    /// Writes the shader to `path` and its tables to `tablesPath(for: path)`; returns the notes.
    public static func write(profile: Profile, space: OutputSpace, to path: String, overwrite: Bool) throws -> [String] {
        let tables = tablesPath(for: path)
        let shader = try lookShader(profile: profile, space: space, tablesFile: URL(fileURLWithPath: tables).lastPathComponent)
        try AtomicOutput.write([(Array(shader.text.utf8), path), (tableBytes(shader.tables), tables)], overwrite: overwrite)
        return shader.notes
    }
}
