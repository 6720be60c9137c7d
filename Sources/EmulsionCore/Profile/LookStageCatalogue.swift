/// The look stages' parameters (issue 5), in pipeline order after `exposure`. Each stage's file
/// under Stages/Look/ reads these through `Profile` and turns them into derived constants.
/// Defaults are the identity: a profile that sets nothing here renders exactly like `neutral`.
extension StageCatalogue {
    public static let exposureBias = StageDeclaration("exposureBias", "The look's own exposure offset (kept apart from exposure.ev, which stays the user's)", [
        .init("ev", .number(range: -3...3, default: 0), "stops added by the look"),
    ])
    public static let localContrast = StageDeclaration("localContrast", "Local (micro) contrast: each pixel's luminance against its blurred surround", [
        .init("amount", .number(range: -1...1, default: 0), "exponent on luminance ÷ surround; 0 = off, negative softens"),
        .init("radius", .number(range: 0.002...0.2, default: 0.02), "surround radius as a fraction of the image's short side",
              appliesWhen: [.set("localContrast.amount")]),
    ])
    public static let vignette = StageDeclaration("vignette", "Light fall-off toward the corners (scene-linear gain)", [
        .init("amount", .number(range: -3...1, default: 0), "stops at the corners; negative darkens, 0 = off"),
        .init("midpoint", .number(range: 0...0.95, default: 0.4), "where the fall-off starts, as a fraction of the centre-to-corner distance",
              appliesWhen: [.set("vignette.amount")]),
        .init("roundness", .number(range: 0...1, default: 0.5), "0 follows the frame's aspect (ellipse), 1 is a circle", appliesWhen: [.set("vignette.amount")]),
    ])
    public static let highlightRollOff = StageDeclaration("highlightRollOff", "Soft compression and desaturation of scene highlights before the tone curve", [
        .init("enabled", .boolean(default: false), "turn the roll-off on"),
        .init("start", .number(range: 0.1...0.95, default: 0.6), "where compression begins, as a fraction of the ceiling",
              appliesWhen: [.set("highlightRollOff.enabled")]),
        .init("ceiling", .number(range: 0.5...64, default: 1), "scene-linear level the brightest values approach",
              appliesWhen: [.set("highlightRollOff.enabled")]),
        .init("desaturation", .number(range: 0...1, default: 0.5), "how far compressed highlights move toward neutral",
              appliesWhen: [.set("highlightRollOff.enabled")]),
    ])
    public static let skinProtection = StageDeclaration("skinProtection", "Keeps skin hues out of the per-hue, saturation and vibrance changes", [
        .init("amount", .number(range: 0...1, default: 0), "0 = off, 1 = skin hues fully protected",
              appliesWhen: perHueShifts + [.set("colour.saturation"), .set("colour.vibrance")],
              applicabilitySummary: "a per-hue shift (hsl), colour.saturation or colour.vibrance is set"),
        .init("hue", .number(range: 0...360, default: 23), "centre hue, degrees of the working space's hexcone hue (ColorChecker skin ≈ 22–24)",
              appliesWhen: [.set("skinProtection.amount")]),
        .init("width", .number(range: 5...90, default: 25), "half-width of the protected hue range, degrees",
              appliesWhen: [.set("skinProtection.amount")]),
    ])
    /// The eight hue centres of the per-hue controls, degrees of working-space hexcone hue (the
    /// hues of sRGB red, orange, yellow, green, cyan, blue, violet and magenta, spread slightly
    /// where linear Rec.2020 crowds them).
    public static let hueCentres: [(name: String, degrees: Double)] = [
        ("red", 5), ("orange", 22), ("yellow", 62), ("green", 103),
        ("aqua", 185), ("blue", 240), ("purple", 265), ("magenta", 300),
    ]
    public static let hsl = StageDeclaration("hsl", "Per-hue hue, saturation and luminance shifts, applied as a DCP-style hue × saturation × value table",
        hueCentres.flatMap { centre in [
            ParameterDeclaration("\(centre.name)Hue", .number(range: -45...45, default: 0), "hue shift of \(centre.name)s, degrees"),
            ParameterDeclaration("\(centre.name)Saturation", .number(range: -1...1, default: 0), "saturation change of \(centre.name)s (scale 1 + value)"),
            ParameterDeclaration("\(centre.name)Luminance", .number(range: -1...1, default: 0), "value change of \(centre.name)s, stops"),
        ] } + [
            ParameterDeclaration("shadows", .number(range: 0...1, default: 1), "share of the shifts applied in the darkest tones (1 = same as everywhere)",
                                 appliesWhen: perHueShifts, applicabilitySummary: "a per-hue shift (hsl) is set"),
        ])
    public static let colour = StageDeclaration("colour", "Global saturation and vibrance (luminance kept)", [
        .init("saturation", .number(range: 0...2, default: 1), "chroma scale around luminance"),
        .init("vibrance", .number(range: -1...1, default: 0), "extra saturation for muted colours only"),
    ])
    public static let monochrome = StageDeclaration("monochrome", "Black-and-white conversion by a channel mix (a colour filter on panchromatic film)", [
        .init("enabled", .boolean(default: false), "render in monochrome"),
        .init("red", .number(range: -1...2, default: 0.2627), "weight of working red (normalised with the others to sum 1)",
              appliesWhen: [.set("monochrome.enabled")]),
        .init("green", .number(range: -1...2, default: 0.6780), "weight of working green", appliesWhen: [.set("monochrome.enabled")]),
        .init("blue", .number(range: -1...2, default: 0.0593), "weight of working blue", appliesWhen: [.set("monochrome.enabled")]),
    ])
    public static let tone = StageDeclaration("tone", "Filmic tone curve from scene-linear to display, and an optional custom curve", [
        .init("curve", .options(ToneCurveKind.self, default: .none), "none: no curve (colorimetric); filmic: the curve below"),
        .init("contrast", .number(range: 0.5...3, default: 1.2), "log-log slope at the pivot (film gamma)", appliesWhen: filmic),
        .init("pivot", .number(range: 0.05...0.5, default: 0.18), "scene-linear grey kept in place", appliesWhen: filmic),
        .init("toe", .number(range: 0...1, default: 0.3), "softness of the knee into black", appliesWhen: filmic),
        .init("shoulder", .number(range: 0...1, default: 0.5), "softness of the roll into white", appliesWhen: filmic),
        .init("blackPoint", .number(range: 2...16, default: 9), "stops below the pivot that become black", appliesWhen: filmic),
        .init("whitePoint", .number(range: 1...10, default: 4), "stops above the pivot that become white", appliesWhen: filmic),
        .init("method", .options(ToneMethod.self, default: .rgb), "rgb: each channel through the curve (film-like); ratio: max(R,G,B) through it, hue and saturation kept",
              appliesWhen: filmic + [.set("tone.points")]),
        .init("points", .curve(maxPoints: 16), "custom curve after the filmic one, in gamma-2.2 display units (monotone cubic through the points)"),
    ])
    public static let splitToning = StageDeclaration("splitToning", "Tints shadows and highlights (luminance kept)", [
        .init("shadowHue", .number(range: 0...360, default: 220), "shadow tint hue, degrees of the sRGB hue wheel",
              appliesWhen: [.set("splitToning.shadowSaturation")]),
        .init("shadowSaturation", .number(range: 0...1, default: 0), "shadow tint strength"),
        .init("highlightHue", .number(range: 0...360, default: 45), "highlight tint hue, degrees", appliesWhen: [.set("splitToning.highlightSaturation")]),
        .init("highlightSaturation", .number(range: 0...1, default: 0), "highlight tint strength"),
        .init("balance", .number(range: -1...1, default: 0), "moves the split point: negative favours shadows, positive highlights",
              appliesWhen: [.set("splitToning.shadowSaturation"), .set("splitToning.highlightSaturation")]),
    ])
    public static let lut = StageDeclaration("lut", "An optional 3D LUT (.cube or Hald CLUT .png), tetrahedral interpolation", [
        .init("file", .file(extensions: ["cube", "png"]), "the LUT; relative paths are relative to the profile"),
        .init("input", .options(LUTEncoding.self, default: .sRGB), "the encoding the LUT expects", appliesWhen: [.set("lut.file")]),
        .init("output", .options(LUTEncoding.self, default: .sRGB), "the encoding the LUT produces", appliesWhen: [.set("lut.file")]),
        .init("strength", .number(range: 0...1, default: 1), "mix of the LUT's result with its input", appliesWhen: [.set("lut.file")]),
    ])
    public static let grain = StageDeclaration("grain", "Seeded film grain (deterministic for a given seed)", [
        .init("amount", .number(range: 0...0.5, default: 0), "standard deviation of the relative luminance change in mid-tones; 0 = off"),
        .init("size", .number(range: 0.5...4, default: 1.2), "grain size, pixels", appliesWhen: [.set("grain.amount")]),
        .init("seed", .number(range: 0...4_294_967_295, default: 1), "seed of the grain pattern (whole number)", appliesWhen: [.set("grain.amount")]),
    ])

    /// The per-hue shifts' conditions: any one of them set (skin protection and `hsl.shadows`
    /// act on those shifts only).
    static let perHueShifts: [ParameterCondition] = hueCentres.flatMap { centre in
        ["Hue", "Saturation", "Luminance"].map { ParameterCondition.set("hsl.\(centre.name)\($0)") }
    }
    /// The filmic curve's settings apply with the filmic curve only.
    static let filmic: [ParameterCondition] = [.oneOf("tone.curve", [ToneCurveKind.filmic.rawValue])]

    /// The look stages in pipeline order.
    public static let lookStages: [StageDeclaration] = [
        exposureBias, localContrast, vignette, highlightRollOff, skinProtection, hsl, colour, monochrome, tone,
        splitToning, lut, grain,
    ]
}

public enum ToneCurveKind: String, CaseIterable, Sendable {
    case none
    case filmic
}

public enum ToneMethod: String, CaseIterable, Sendable {
    case rgb
    case ratio
}

/// Encodings a LUT's input or output can be declared in (the matching output space's primaries
/// and transfer curve: IEC 61966-2-1 sRGB, Display P3, ITU-R BT.2020).
public enum LUTEncoding: String, CaseIterable, Sendable {
    case sRGB = "srgb"
    case displayP3 = "display-p3"
    case rec2020 = "rec2020"
}
