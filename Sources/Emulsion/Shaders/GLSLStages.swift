import EmulsionCore

/// The GPU form of the per-pixel stages after demosaic: one GLSL function per stage, the derived
/// constants each reads, and the shared helpers — the source `GLSLGenerator` writes to
/// `Shaders/` and bakes into `profile export --glsl`.
///
/// What: each stage's GLSL mirrors its CPU kernel operation for operation (the same `LookMath`
/// selects, clamps with NaN → lower bound, the hexcone HSV, `Lanes.interpolated(in:count:)` as
/// `roundEven(position − 0.5)`, the output encoding's exponent-indexed table by the float's bits),
/// and reads the same derived constants (tables and matrices from the prepared kernels, filled by
/// `GLSLParameters`). Each stage has two parameter structs: `<stage>Params`, generated from the
/// stage's `StageDeclaration` (the user parameters: numbers → float, booleans and choices → uint),
/// and `<stage>Derived`, declared here. Everything is 4-byte scalars or float arrays, so std430
/// packs the parameter block into consecutive words in declaration order.
/// Per-shot values (white balance gains, the camera matrix, the exposure gain, the image size)
/// come as push constants (`Shot`), so one baked look serves every photograph.
/// Not per-pixel, so not here: demosaic, highlight reconstruction, lens shading, DCP tables, and
/// local contrast's surround (a whole-image pre-pass; the shader reads the measured grid).
/// Colour spaces: as the CPU stages (camera RGB → working RGB → display-linear → encoded).
public struct GLSLStage: Sendable {
    public enum FieldType: Sendable, Equatable {
        case float, uint
        case floats(Int)
        var words: Int { if case .floats(let n) = self { return n }; return 1 }
    }

    public struct Field: Sendable {
        public let name: String
        public let type: FieldType
        public let comment: String
        init(_ name: String, _ type: FieldType, _ comment: String) { self.name = name; self.type = type; self.comment = comment }
    }

    /// The stage name (file name, struct prefix, parameter-block member).
    public let name: String
    /// The user parameters' declaration (the generated `<name>Params` struct); nil for none.
    public let declaration: StageDeclaration?
    /// The derived constants (`<name>Derived`), filled from the prepared kernels.
    public let derived: [Field]
    /// GLSL: the stage's function(s).
    public let code: String
    /// The call in `main`, transforming `p` (with `xy` the pixel's image coordinates).
    public let call: String

    /// The user parameters that become struct fields (files and curves are baked into derived tables).
    public var userFields: [Field] {
        (declaration?.parameters ?? []).compactMap { parameter in
            switch parameter.kind {
            case .number(let range, let d):
                return Field(GLSLStage.identifier(parameter.name), .float, "\(GLSLStage.trim(range.lowerBound))…\(GLSLStage.trim(range.upperBound)), default \(GLSLStage.trim(d)): \(parameter.summary)")
            case .boolean(let d): return Field(GLSLStage.identifier(parameter.name), .uint, "0/1, default \(d ? 1 : 0): \(parameter.summary)")
            case .choice(let options, let d):
                let list = options.enumerated().map { "\($0.offset) = \($0.element)" }.joined(separator: ", ")
                return Field(GLSLStage.identifier(parameter.name), .uint, "\(list); default \(d)")
            case .file, .curve: return nil
            }
        }
    }

    /// GLSL reserves some words the declarations use as names.
    static func identifier(_ name: String) -> String {
        ["input", "output", "sample", "filter", "common", "partition", "active", "half", "fixed"].contains(name) ? name + "_" : name
    }

    static func trim(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v) }
}

/// A float as a GLSL literal that parses back to the same float.
func glslFloat(_ v: Float) -> String {
    precondition(v.isFinite, "non-finite shader constant")
    let s = "\(v)"
    return s.contains(".") || s.contains("e") ? s : s + ".0"
}

extension GLSLStage {
    /// The stages in pipeline order (RenderPlan / LookPlan's order).
    public static let all: [GLSLStage] = [
        whiteBalance, highlights, camera, exposure, exposureBias, localContrast, vignette, highlightRollOff,
        skinProtection, hsl, colour, monochrome, tone, splitToning, lut, grain, outputEncoding,
    ]

    static let whiteBalance = GLSLStage(
        name: "whiteBalance", declaration: StageCatalogue.whiteBalance,
        derived: [.init("enabled", .uint, "1: multiply by Shot.whiteBalance (input not yet balanced)")],
        code: """
            // White balance: per-channel gains on camera RGB (WhiteBalance.resolve's multipliers, a per-shot value).
            vec3 whiteBalanceApply(vec3 p, whiteBalanceDerived d) {
                if (d.enabled == 0u) return p;
                return vec3(p.r * shot.whiteBalance[0], p.g * shot.whiteBalance[1], p.b * shot.whiteBalance[2]);
            }
            """,
        call: "whiteBalanceApply(p, P.whiteBalanceD)")

    static let highlights = GLSLStage(
        name: "highlights", declaration: StageCatalogue.highlights,
        derived: [.init("blend", .uint, "1: HighlightBlendKernel runs (mode blend)")],
        code: """
            // Highlight blend (HighlightBlendKernel): unclipped brightness and hue, clipped chroma length.
            vec3 highlightsApply(vec3 p, highlightsDerived d) {
                if (d.blend == 0u) return p;
                float third = \(glslFloat(Float(1.0 / 3)));
                vec3 c = vec3(atMost(p.r, 1.0), atMost(p.g, 1.0), atMost(p.b, 1.0));
                float meanP = (p.r + p.g + p.b) * third, meanC = (c.r + c.g + c.b) * third;
                vec3 pc = vec3(p.r - meanP, p.g - meanP, p.b - meanP);
                vec3 cc = vec3(c.r - meanC, c.g - meanC, c.b - meanC);
                float lengthP = sqrt(pc.r * pc.r + pc.g * pc.g + pc.b * pc.b);
                float lengthC = sqrt(cc.r * cc.r + cc.g * cc.g + cc.b * cc.b);
                float ratio = lengthC / atLeast(lengthP, 1e-12);
                float over = atLeast(p.r - 1.0, 0.0) + atLeast(p.g - 1.0, 0.0) + atLeast(p.b - 1.0, 0.0);
                return over > 0.0 ? vec3(meanP + pc.r * ratio, meanP + pc.g * ratio, meanP + pc.b * ratio) : p;
            }
            """,
        call: "highlightsApply(p, P.highlightsD)")

    static let camera = GLSLStage(
        name: "camera", declaration: StageCatalogue.camera,
        derived: [.init("enabled", .uint, "1: multiply by Shot.cameraToWorking")],
        code: """
            // Camera matrix: white-balanced camera RGB → working RGB (linear Rec.2020, D65); per shot.
            vec3 cameraApply(vec3 p, cameraDerived d) {
                if (d.enabled == 0u) return p;
                return matrixApply(p, shot.cameraToWorking);
            }
            """,
        call: "cameraApply(p, P.cameraD)")

    static let exposure = GLSLStage(
        name: "exposure", declaration: StageCatalogue.exposure,
        derived: [.init("enabled", .uint, "1: multiply by Shot.exposureGain (2^(ev + baseline))")],
        code: """
            // Exposure: a gain on scene-linear light; per shot (it includes the file's baseline exposure).
            vec3 exposureApply(vec3 p, exposureDerived d) {
                if (d.enabled == 0u) return p;
                return vec3(p.r * shot.exposureGain, p.g * shot.exposureGain, p.b * shot.exposureGain);
            }
            """,
        call: "exposureApply(p, P.exposureD)")

    static let exposureBias = GLSLStage(
        name: "exposureBias", declaration: StageCatalogue.exposureBias,
        derived: [.init("gain", .float, "2^ev")],
        code: """
            // Exposure bias: the look's own gain (ExposureBias; fused into the matrices on the CPU).
            vec3 exposureBiasApply(vec3 p, exposureBiasDerived d) {
                return vec3(p.r * d.gain, p.g * d.gain, p.b * d.gain);
            }
            """,
        call: "exposureBiasApply(p, P.exposureBiasD)")

    static let localContrast = GLSLStage(
        name: "localContrast", declaration: StageCatalogue.localContrast,
        derived: [
            .init("enabled", .uint, "1 when the surround grid was measured (needs the whole image: not in baked looks)"),
            .init("grid", .uint, "table offset: surround grid, row-major"),
            .init("verticalStep", .float, "index distance to the next grid row"),
            .init("columnIndex", .uint, "table offset: grid column per image column"),
            .init("columnFraction", .uint, "table offset"),
            .init("rowOffset", .uint, "table offset: grid row offset per image row"),
            .init("rowFraction", .uint, "table offset"),
            .init("gains", .uint, "table offset: gain by t · \(LocalContrastKernel.gainCount - 1)"),
        ],
        code: """
            // Local contrast (LocalContrastKernel): luminance against the measured surround grid.
            vec3 localContrastApply(vec3 p, ivec2 xy, localContrastDerived d) {
                if (d.enabled == 0u) return p;
                p = finiteRGB(p);
                float y = atLeast(luminance(p), 0.0);
                float column = tab(d.columnIndex + uint(xy.x));
                float fx = tab(d.columnFraction + uint(xy.x));
                float top = column + tab(d.rowOffset + uint(xy.y));
                float fy = tab(d.rowFraction + uint(xy.y));
                float g00 = tab(d.grid + uint(top)), g01 = tab(d.grid + uint(top + 1.0));
                float g10 = tab(d.grid + uint(top + d.verticalStep)), g11 = tab(d.grid + uint(top + (d.verticalStep + 1.0)));
                float upper = g00 + fx * (g01 - g00), lower = g10 + fx * (g11 - g10);
                float surround = upper + fy * (lower - upper);
                float total = y + surround;
                float t = clampNaN(y / atLeast(total, 1e-20), 0.0, 1.0);
                float g = lookup(t * \(glslFloat(Float(LocalContrastKernel.gainCount - 1))), d.gains);
                return vec3(p.r * g, p.g * g, p.b * g);
            }
            """,
        call: "localContrastApply(p, xy, P.localContrastD)")

    static let vignette = GLSLStage(
        name: "vignette", declaration: StageCatalogue.vignette,
        derived: [
            .init("enabled", .uint, "amount ≠ 0"),
            .init("gains", .uint, "table offset: gain by ρ² · \(VignetteKernel.gainCount - 1)"),
        ],
        code: """
            // Vignette (VignetteKernel): the ellipse is computed here from the image size and the
            // declared roundness (the CPU tabulates dx² per column), the gain is the CPU's table.
            vec3 vignetteApply(vec3 p, ivec2 xy, vignetteParams u, vignetteDerived d) {
                if (d.enabled == 0u) return p;
                p = finiteRGB(p);
                float w = float(shot.width), h = float(shot.height);
                float ex = w / 2.0 * sqrt(2.0), ey = h / 2.0 * sqrt(2.0);
                float circle = sqrt(w * w + h * h) / 2.0;
                float ax = ex + (circle - ex) * u.roundness, ay = ey + (circle - ey) * u.roundness;
                float corner = sqrt((w / 2.0 / ax) * (w / 2.0 / ax) + (h / 2.0 / ay) * (h / 2.0 / ay));
                ax *= corner; ay *= corner;
                float dx = (float(xy.x) + 0.5 - w / 2.0) / ax;
                float dy = (float(xy.y) + 0.5 - h / 2.0) * (1.0 / ay);
                float last = \(glslFloat(Float(VignetteKernel.gainCount - 1)));
                float gain = lookup(clampNaN((dx * dx + dy * dy) * last, 0.0, last), d.gains);
                return vec3(p.r * gain, p.g * gain, p.b * gain);
            }
            """,
        call: "vignetteApply(p, xy, P.vignette, P.vignetteD)")

    static let highlightRollOff = GLSLStage(
        name: "highlightRollOff", declaration: StageCatalogue.highlightRollOff,
        derived: [
            .init("enabled", .uint, "the roll-off runs"),
            .init("ceiling", .float, "scene-linear ceiling"),
            .init("scale", .uint, "table offset: m′/m by t · \(HighlightRollOffKernel.count - 1)"),
            .init("desaturation", .uint, "table offset: desaturation weight"),
        ],
        code: """
            // Highlight roll-off (HighlightRollOffKernel).
            vec3 highlightRollOffApply(vec3 p, highlightRollOffDerived d) {
                if (d.enabled == 0u) return p;
                p = finiteRGB(p);
                float m = atLeast(maximum(p.r, maximum(p.g, p.b)), 0.0);
                float t = m / (m + d.ceiling);
                float position = clampNaN(t, 0.0, 1.0) * \(glslFloat(Float(HighlightRollOffKernel.count - 1)));
                float k = lookup(position, d.scale);
                float s = lookup(position, d.desaturation);
                vec3 q = vec3(p.r * k, p.g * k, p.b * k);
                float y = luminance(q);
                return vec3(q.r + s * (y - q.r), q.g + s * (y - q.g), q.b + s * (y - q.b));
            }
            """,
        call: "highlightRollOffApply(p, P.highlightRollOffD)")

    static let skinProtection = GLSLStage(
        name: "skinProtection", declaration: StageCatalogue.skinProtection,
        derived: [
            .init("amount", .float, "0 = off"),
            .init("centre", .float, "sextants"),
            .init("inverseWidth", .float, "1 / half-width in sextants"),
        ],
        code: """
            // Skin protection (SkinProtection.weight): no kernel of its own, used by hsl and colour.
            float skinWeight(float h, float s, skinProtectionDerived d) {
                float x = h - d.centre;
                x = x - ((x - 3.0) > 0.0 ? 6.0 : 0.0);
                x = x + ((-3.0 - x) > 0.0 ? 6.0 : 0.0);
                x = x * d.inverseWidth;
                float bump = atLeast(1.0 - x * x, 0.0);
                float gate = clampNaN(s * 4.0, 0.0, 1.0);
                return bump * bump * gate * d.amount;
            }
            """,
        call: "")

    static let hsl: GLSLStage = {
        let k = HueSatLumKernel.self
        let s = k.saturationDivisions
        return GLSLStage(
            name: "hsl", declaration: StageCatalogue.hsl,
            derived: [
                .init("enabled", .uint, "some control is not 0"),
                .init("valueVaries", .uint, "shadows ≠ 1: interpolate along value too"),
                .init("hueShift", .uint, "table offset: hue shift (sextants), index (v·\(k.hueStride) + h)·\(s) + s"),
                .init("saturationScale", .uint, "table offset"),
                .init("valueScale", .uint, "table offset"),
            ],
            code: """
                // Per-hue table (HueSatLumKernel): DNG HueSatMap semantics, √v value axis.
                float hslBilinear(uint table, float i, float sf, float hf) {
                    float a0 = tab(table + uint(i)), a1 = tab(table + uint(i + 1.0));
                    float b0 = tab(table + uint(i + \(glslFloat(Float(s))))), b1 = tab(table + uint(i + \(glslFloat(Float(s + 1)))));
                    float a = a0 + sf * (a1 - a0), b = b0 + sf * (b1 - b0);
                    return a + hf * (b - a);
                }

                float hslTrilinear(uint table, float base, float sf, float hf, float vf, hslDerived d) {
                    float low = hslBilinear(table, base, sf, hf);
                    if (d.valueVaries == 0u) return low;
                    float high = hslBilinear(table, base + \(glslFloat(Float(k.hueStride * s))), sf, hf);
                    return low + vf * (high - low);
                }

                vec3 hslApply(vec3 p, hslDerived d, skinProtectionDerived skin) {
                    if (d.enabled == 0u) return p;
                    p = finiteRGB(p);
                    vec3 hsv = hsvOf(p);
                    float hp = clampNaN(hsv.x * \(glslFloat(Float(k.hueDivisions) / 6)), 0.0, \(glslFloat(Float(k.hueDivisions) - 0.0001)));
                    float hi = clampNaN(floor(hp), 0.0, \(glslFloat(Float(k.hueDivisions - 1))));
                    float sp = clampNaN(hsv.y, 0.0, 1.0) * \(glslFloat(Float(s - 1)));
                    float si = clampNaN(floor(sp), 0.0, \(glslFloat(Float(s - 2))));
                    float vp = sqrt(clampNaN(hsv.z, 0.0, 1.0)) * \(glslFloat(Float(k.valueDivisions - 1)));
                    float vi = clampNaN(floor(vp), 0.0, \(glslFloat(Float(k.valueDivisions - 2))));
                    float base = (vi * \(glslFloat(Float(k.hueStride))) + hi) * \(glslFloat(Float(s))) + si;
                    float hf = hp - hi, sf = sp - si, vf = vp - vi;
                    float dh = hslTrilinear(d.hueShift, base, sf, hf, vf, d);
                    float ss = hslTrilinear(d.saturationScale, base, sf, hf, vf, d);
                    float vs = hslTrilinear(d.valueScale, base, sf, hf, vf, d);
                    if (skin.amount != 0.0) {
                        float keep = 1.0 - skinWeight(hsv.x, hsv.y, skin);
                        dh = dh * keep;
                        ss = 1.0 + (ss - 1.0) * keep;
                        vs = 1.0 + (vs - 1.0) * keep;
                    }
                    float h2 = wrapHue(hsv.x + dh);
                    float s2 = minimum(hsv.y * ss, maximum(hsv.y, 1.0));
                    vec3 q = rgbOf(h2, s2, hsv.z * vs);
                    return minimum(hsv.y, hsv.z) > 0.0 ? q : p;
                }
                """,
            call: "hslApply(p, P.hslD, P.skinProtectionD)")
    }()

    static let colour = GLSLStage(
        name: "colour", declaration: StageCatalogue.colour,
        derived: [.init("enabled", .uint, "saturation ≠ 1 or vibrance ≠ 0")],
        code: """
            // Saturation and vibrance (ColourSaturationKernel), straight from the declared parameters.
            vec3 colourApply(vec3 p, colourParams u, colourDerived d, skinProtectionDerived skin) {
                if (d.enabled == 0u) return p;
                p = finiteRGB(p);
                float y = luminance(p);
                vec3 hsv = hsvOf(p);
                float muted = 1.0 - clampNaN(hsv.y, 0.0, 1.0);
                float f = u.saturation * (1.0 + u.vibrance * muted * muted);
                if (skin.amount != 0.0) f = 1.0 + (f - 1.0) * (1.0 - skinWeight(hsv.x, hsv.y, skin));
                return vec3(y + f * (p.r - y), y + f * (p.g - y), y + f * (p.b - y));
            }
            """,
        call: "colourApply(p, P.colour, P.colourD, P.skinProtectionD)")

    static let monochrome = GLSLStage(
        name: "monochrome", declaration: StageCatalogue.monochrome,
        derived: [
            .init("enabled", .uint, "render in monochrome"),
            .init("row", .floats(3), "normalised channel weights (Monochrome.prepare's matrix row)"),
        ],
        code: """
            // Monochrome (Monochrome.prepare): one normalised channel mix to all three channels.
            vec3 monochromeApply(vec3 p, monochromeDerived d) {
                if (d.enabled == 0u) return p;
                float g = p.r * d.row[0] + p.g * d.row[1] + p.b * d.row[2];
                return vec3(g, g, g);
            }
            """,
        call: "monochromeApply(p, P.monochromeD)")

    static let tone = GLSLStage(
        name: "tone", declaration: StageCatalogue.tone,
        derived: [
            .init("enabled", .uint, "a curve is set"),
            .init("ratio", .uint, "method ratio"),
            .init("inverseMaximum", .float, "1 / scene level at the table's end"),
            .init("table", .uint, "table offset: the curve of x / x_white, exponent-indexed (ExponentCurveTable)"),
        ],
        code: """
            // Tone curve (ToneCurveKernel): filmic + custom points, one table.
            float toneLookup(float x, toneDerived d) {
                return encodeChannel(x * d.inverseMaximum, d.table);
            }

            vec3 toneApply(vec3 p, toneDerived d) {
                if (d.enabled == 0u) return p;
                p = finiteRGB(p);
                if (d.ratio == 0u) return vec3(toneLookup(p.r, d), toneLookup(p.g, d), toneLookup(p.b, d));
                float m = maximum(p.r, maximum(p.g, p.b));
                float tiny = 1e-10;
                float safe = m > tiny ? m : 1.0;
                float k = m > tiny ? toneLookup(m, d) / safe : 0.0;
                float base = m > tiny ? 0.0 : tab(d.table);
                return vec3(p.r * k + base, p.g * k + base, p.b * k + base);
            }
            """,
        call: "toneApply(p, P.toneD)")

    static let splitToning = GLSLStage(
        name: "splitToning", declaration: StageCatalogue.splitToning,
        derived: [
            .init("enabled", .uint, "a tint is set"),
            .init("shadow", .floats(3), "shadow tint (working RGB, luminance 0)"),
            .init("highlight", .floats(3), "highlight tint"),
            .init("weightScale", .float, "the highlight weight's smoothstep position per unit of √Y"),
            .init("weightOffset", .float, "that position at √Y = 0"),
        ],
        code: """
            // Split toning (SplitToningKernel).
            vec3 splitToningApply(vec3 p, splitToningDerived d) {
                if (d.enabled == 0u) return p;
                p = finiteRGB(p);
                float y = clampNaN(luminance(p), 0.0, 1.0);
                float u = clamp(sqrt(y) * d.weightScale + d.weightOffset, 0.0, 1.0);
                float wh = u * u * (3.0 - 2.0 * u);
                float ws = 1.0 - wh;
                float a = y * ws, b = y * wh;
                return vec3(p.r + a * d.shadow[0] + b * d.highlight[0],
                            p.g + a * d.shadow[1] + b * d.highlight[1],
                            p.b + a * d.shadow[2] + b * d.highlight[2]);
            }
            """,
        call: "splitToningApply(p, P.splitToningD)")

    static let lut = GLSLStage(
        name: "lut", declaration: StageCatalogue.lut,
        derived: [
            .init("enabled", .uint, "a LUT file is set"),
            .init("size", .float, "lattice points per axis"),
            .init("scale", .floats(3), "lattice position = encoded · scale + offset"),
            .init("offset", .floats(3), ""),
            .init("strength", .float, "mix with the input"),
            .init("red", .uint, "table offset: lattice red, red fastest"),
            .init("green", .uint, "table offset"),
            .init("blue", .uint, "table offset"),
            .init("decode", .uint, "table offset: output decoding by v · \(LookLUTKernel.decodeCount - 1)"),
            .init("encodeMatrix", .floats(9), "working → the LUT's input primaries"),
            .init("encodeTable", .uint, "table offset: input transfer curve (exponent-indexed)"),
            .init("toWorking", .floats(9), "the LUT's output primaries → working"),
        ],
        code: """
            // 3-D LUT (LookLUTKernel): tetrahedral interpolation in the declared encodings.
            vec2 lutPosition(float v, float scale, float offset, float size) {
                float last = size - 1.0;
                float q = clampNaN(v * scale + offset, 0.0, last);
                float i = clampNaN(floor(q), 0.0, last - 1.0);
                return vec2(i, q - i);
            }

            float lutBlend(uint t, float base, float v1, float v2, float v3, float w0, float w1, float w2, float f3) {
                return tab(t + uint(base)) * w0 + tab(t + uint(v1)) * w1 + tab(t + uint(v2)) * w2 + tab(t + uint(v3)) * f3;
            }

            vec3 lutApply(vec3 p, lutDerived d) {
                if (d.enabled == 0u) return p;
                p = finiteRGB(p);
                vec3 e = matrixApply(p, d.encodeMatrix);
                e = vec3(encodeChannel(e.r, d.encodeTable), encodeChannel(e.g, d.encodeTable),
                         encodeChannel(e.b, d.encodeTable));
                float n = d.size;
                vec2 r = lutPosition(e.r, d.scale[0], d.offset[0], n);
                vec2 g = lutPosition(e.g, d.scale[1], d.offset[1], n);
                vec2 b = lutPosition(e.b, d.scale[2], d.offset[2], n);
                float fr = r.y, fg = g.y, fb = b.y;
                float oR = 1.0, oG = n, oB = n * n;
                float rg = fr - fg;
                float maxRGf = rg > 0.0 ? fr : fg, maxRGo = rg > 0.0 ? oR : oG;
                float minRGf = rg > 0.0 ? fg : fr, minRGo = rg > 0.0 ? oG : oR;
                float f1 = (fb - maxRGf) > 0.0 ? fb : maxRGf;
                float o1 = (fb - maxRGf) > 0.0 ? oB : maxRGo;
                float f3 = (minRGf - fb) > 0.0 ? fb : minRGf;
                float o3 = (minRGf - fb) > 0.0 ? oB : minRGo;
                float f2 = maximum(minRGf, minimum(maxRGf, fb));
                float base = r.x + g.x * oG + b.x * oB;
                float corner = 1.0 + n + n * n;
                float v1 = base + o1, v2 = base + (corner - o3), v3 = base + corner;
                float w0 = 1.0 - f1, w1 = f1 - f2, w2 = f2 - f3;
                vec3 c = vec3(lutBlend(d.red, base, v1, v2, v3, w0, w1, w2, f3),
                              lutBlend(d.green, base, v1, v2, v3, w0, w1, w2, f3),
                              lutBlend(d.blue, base, v1, v2, v3, w0, w1, w2, f3));
                float last = \(glslFloat(Float(LookLUTKernel.decodeCount - 1)));
                vec3 lin = vec3(lookup(clampNaN(c.r, 0.0, 1.0) * last, d.decode),
                                lookup(clampNaN(c.g, 0.0, 1.0) * last, d.decode),
                                lookup(clampNaN(c.b, 0.0, 1.0) * last, d.decode));
                vec3 q = matrixApply(lin, d.toWorking);
                if (d.strength == 1.0) return q;
                float s = d.strength;
                return vec3(p.r + s * (q.r - p.r), p.g + s * (q.g - p.g), p.b + s * (q.b - p.b));
            }
            """,
        call: "lutApply(p, P.lutD)")

    static let grain: GLSLStage = {
        let (na, nb) = FilmGrainKernel.sizes
        let pad = FilmGrainKernel.padding
        return GLSLStage(
            name: "grain", declaration: StageCatalogue.grain,
            derived: [
                .init("enabled", .uint, "amount > 0"),
                .init("tileA", .uint, "table offset: noise tile \(na)², rows padded to \(na + pad)"),
                .init("tileB", .uint, "table offset: noise tile \(nb)², rows padded to \(nb + pad)"),
                .init("weightBase", .float, "amount · ¼: the weight at black and white"),
                .init("weightBump", .float, "amount · 3: the weight is weightBase + weightBump · t(1 − t), t = √Y"),
            ],
            code: """
                // Film grain (FilmGrainKernel): the CPU's seeded tiles, read by image position, so the
                // grain is the same pattern as the CPU render's.
                vec3 grainApply(vec3 p, ivec2 xy, grainDerived d) {
                    if (d.enabled == 0u) return p;
                    p = finiteRGB(p);
                    uint x = uint(xy.x), y = uint(xy.y);
                    float noise = tab(d.tileA + (y % \(na)u) * \(na + pad)u + x % \(na)u)
                                + tab(d.tileB + (y % \(nb)u) * \(nb + pad)u + x % \(nb)u);
                    float l = clampNaN(luminance(p), 0.0, 1.0);
                    float t = sqrt(l);
                    float w = d.weightBase + d.weightBump * (t * (1.0 - t));
                    float g = atLeast(1.0 + noise * w, 0.0);
                    return vec3(p.r * g, p.g * g, p.b * g);
                }
                """,
            call: "grainApply(p, xy, P.grainD)")
    }()

    static let outputEncoding = GLSLStage(
        name: "outputEncoding", declaration: nil,
        derived: [
            .init("toOutput", .floats(9), "working → output primaries"),
            .init("table", .uint, "table offset: transfer curve, exponent-indexed (OutputEncodingKernel)"),
        ],
        code: """
            // Output encoding (OutputEncodingKernel): matrix, clip to [0, 1], transfer curve by table.
            vec3 outputEncodingApply(vec3 p, outputEncodingDerived d) {
                vec3 q = matrixApply(p, d.toOutput);
                return vec3(encodeChannel(q.r, d.table), encodeChannel(q.g, d.table), encodeChannel(q.b, d.table));
            }
            """,
        call: "outputEncodingApply(p, P.outputEncodingD)")

    /// Helpers shared by the stages (LookMath, Lanes, the output encoding's table index).
    static let common = """
        // Shared helpers: the GLSL forms of LookMath and the Lanes requirements the kernels use.
        const float LOOK_LIMIT = \(glslFloat(LookMath.limit));

        // Lanes.clamped: NaN → the lower bound.
        float clampNaN(float x, float lo, float hi) { float l = lo < x ? x : lo; return l < hi ? l : hi; }
        float atLeast(float x, float lo) { return lo < x ? x : lo; }
        float atMost(float x, float hi) { return x > hi ? hi : x; }
        float maximum(float a, float b) { return (a - b) > 0.0 ? a : b; }
        float minimum(float a, float b) { return (a - b) > 0.0 ? b : a; }

        vec3 finiteRGB(vec3 p) {
            return vec3(clampNaN(p.r, -LOOK_LIMIT, LOOK_LIMIT), clampNaN(p.g, -LOOK_LIMIT, LOOK_LIMIT), clampNaN(p.b, -LOOK_LIMIT, LOOK_LIMIT));
        }

        // Rec.2020 luminance (LookMath.luminanceWeights), summed in the CPU's order.
        float luminance(vec3 p) {
            return p.r * \(glslFloat(LookMath.luminanceWeights.0)) + p.g * \(glslFloat(LookMath.luminanceWeights.1)) + p.b * \(glslFloat(LookMath.luminanceWeights.2));
        }

        // A row-major 3×3 matrix (ColourMatrixKernel).
        vec3 matrixApply(vec3 p, float m[9]) {
            return vec3(p.r * m[0] + p.g * m[1] + p.b * m[2],
                        p.r * m[3] + p.g * m[4] + p.b * m[5],
                        p.r * m[6] + p.g * m[7] + p.b * m[8]);
        }

        // Lanes.interpolated(in:count:): the cell is round-to-even(position − 0.5), as the CPU's
        // magic-number rounding gives it; linear interpolation to the next entry.
        float lookup(float position, uint table) {
            float cell = roundEven(position - 0.5);
            uint index = table + uint(int(cell));
            float fraction = position - cell;
            float low = tab(index);
            return low + fraction * (tab(index + 1u) - low);
        }

        // ExponentCurveTable.lookup: clip, offset by the table's first point 2^-\(ExponentCurveTable.octaves), then the
        // table indexed by the float's exponent and top mantissa bits (\(1 << ExponentCurveTable.stepsPerOctaveLog2) entries per octave).
        float encodeChannel(float v, uint table) {
            float start = uintBitsToFloat(\(ExponentCurveTable.baseBits)u);
            float c = clampNaN(v, 0.0, 1.0) + start;
            uint offset = floatBitsToUint(c) - \(ExponentCurveTable.baseBits)u;
            uint index = table + (offset >> \(ExponentCurveTable.shift)u);
            float fraction = float(offset & \((1 << ExponentCurveTable.shift) - 1)u) * \(glslFloat(1 / Float(1 << ExponentCurveTable.shift)));
            float low = tab(index);
            return low + fraction * (tab(index + 1u) - low);
        }

        // LookMath.hsv: hexcone hue (sextants), saturation, value, as the DNG SDK computes them.
        vec3 hsvOf(vec3 p) {
            float v = maximum(p.r, maximum(p.g, p.b));
            float gap = v - minimum(p.r, minimum(p.g, p.b));
            float safeGap = gap > 0.0 ? gap : 1.0;
            float safeV = v > 0.0 ? v : 1.0;
            float hr = (p.g - p.b) / safeGap;
            hr = hr + ((0.0 - hr) > 0.0 ? 6.0 : 0.0);
            float hg = 2.0 + (p.b - p.r) / safeGap;
            float hb = 4.0 + (p.r - p.g) / safeGap;
            float h = (v - p.r) > 0.0 ? ((v - p.g) > 0.0 ? hb : hg) : hr;
            float valid = minimum(gap, v);
            return vec3(valid > 0.0 ? h : 0.0, valid > 0.0 ? gap / safeV : 0.0, v);
        }

        float hsvChannel(float h, float v, float vs, float n) {
            float k = h + n;
            k = k - ((k - 6.0) > -1e-30 ? 6.0 : 0.0);
            float f = clampNaN(minimum(k, 4.0 - k), 0.0, 1.0);
            return v - vs * f;
        }

        // LookMath.rgb: the inverse of hsvOf.
        vec3 rgbOf(float h, float s, float v) {
            float vs = v * s;
            return vec3(hsvChannel(h, v, vs, 5.0), hsvChannel(h, v, vs, 3.0), hsvChannel(h, v, vs, 1.0));
        }

        // LookMath.wrapHue: into [0, 6).
        float wrapHue(float h) {
            float low = h + ((0.0 - h) > 0.0 ? 6.0 : 0.0);
            return low - ((low - 6.0) > -1e-30 ? 6.0 : 0.0);
        }
        """
}
