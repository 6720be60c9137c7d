/// Every stage a profile can configure, with its parameters. Stages appear in pipeline order.
public enum StageCatalogue {
    public static let whiteBalance = StageDeclaration("whiteBalance", "Which white balance the raw is rendered with", [
        .init("mode", .options(WhiteBalanceMode.self, default: .asShot),
              "as-shot: the camera's recorded balance; daylight (D55), cloudy (D65), shade (D75), tungsten (A), "
              + "fluorescent (F2), flash (D55): CIE illuminants through the camera matrices (daylight without matrices: "
              + "the camera's daylight multipliers); kelvin: temperature and tint below; auto: robust grey world; "
              + "spot: the neutral rectangle below"),
        .init("temperature", .number(range: 1700...50000, default: 5500), "kelvin mode: correlated colour temperature (K)",
              appliesWhen: [.oneOf("whiteBalance.mode", ["kelvin"])]),
        .init("tint", .number(range: -150...150, default: 0), "kelvin mode: tint, + towards magenta, − towards green (Adobe-like scale)",
              appliesWhen: [.oneOf("whiteBalance.mode", ["kelvin"])]),
        .init("spotX", .number(range: 0...1_000_000, default: 0), "spot mode: left edge of the neutral rectangle, output pixels",
              appliesWhen: [.oneOf("whiteBalance.mode", ["spot"])]),
        .init("spotY", .number(range: 0...1_000_000, default: 0), "spot mode: top edge, output pixels", appliesWhen: [.oneOf("whiteBalance.mode", ["spot"])]),
        .init("spotWidth", .number(range: 0...1_000_000, default: 0), "spot mode: width, output pixels", appliesWhen: [.oneOf("whiteBalance.mode", ["spot"])]),
        .init("spotHeight", .number(range: 0...1_000_000, default: 0), "spot mode: height, output pixels", appliesWhen: [.oneOf("whiteBalance.mode", ["spot"])]),
    ])
    public static let highlights = StageDeclaration("highlights", "What happens to photosites at or above white", [
        .init("mode", .options(HighlightMode.self, default: .clip),
              "clip: every channel limited to white after white balance, so clipped areas stay neutral; "
              + "blend: channels limited to white, the light above it added back as a neutral (brighter, never tinted); "
              + "reconstruct: clipped photosites rebuilt from the unclipped colours around them (inpaint opposed), fully clipped areas neutral"),
    ])
    public static let demosaic = StageDeclaration("demosaic", "How full colour is rebuilt from the mosaic", [
        .init("algorithm", .options(DemosaicMethod.self, default: .bilinear),
              "bilinear: mean of nearest same-colour photosites; malvar: Malvar–He–Cutler 2004 linear filters; "
              + "rcd: Ratio Corrected Demosaicing (edge-directed, highest quality); directional: gradient-weighted "
              + "directional interpolation for any CFA (X-Trans; malvar and rcd use it on non-Bayer sensors)"),
    ])
    public static let exposure = StageDeclaration("exposure", "Scene-linear exposure", [
        .init("ev", .number(range: -10...10, default: 0), "exposure change in stops"),
        .init("baseline", .boolean(default: true), "also apply the DNG BaselineExposure the file records (DNG 1.6 §6: the camera maker’s exposure offset)"),
    ])

    public static let camera = StageDeclaration("camera", "Camera RGB to scene colour (DNG 1.6 chapter 6)", [
        .init("matrix", .options(CameraMatrixMethod.self, default: .libraw),
              "libraw: LibRaw's camera matrix; dng-color-matrix / dng-forward-matrix: the DNG ColorMatrix or ForwardMatrix "
              + "path, interpolated in 1/CCT between the file's two calibration illuminants for the white balance; "
              + "auto: forward matrix, else color matrix, else libraw"),
        .init("lookTable", .boolean(default: true), "with a camera profile (--dcp): apply its ProfileLookTable",
              appliesWhen: [.cameraProfile]),
        .init("profileToneCurve", .boolean(default: true), "with a camera profile (--dcp): apply its ProfileToneCurve",
              appliesWhen: [.cameraProfile]),
    ])

    public static let opcodes = StageDeclaration("opcodes", "DNG opcodes the file records and the decoder did not apply", [
        .init("gainMap", .boolean(default: true), "apply OpcodeList2 GainMap opcodes (lens shading: phone DNGs' vignetting and colour shading)"),
        .init("warp", .boolean(default: true),
              "apply OpcodeList3 WarpRectilinear or WarpRectilinear2 (lens distortion and lateral chromatic aberration: phone DNGs' geometry)"),
        .init("vignette", .boolean(default: true),
              "apply OpcodeList3 FixVignetteRadial (vignetting: the lens corrections DNG Converter writes for many cameras)"),
    ])

    public static let crop = StageDeclaration("crop", "Which part of the raw is the picture", [
        .init("dngDefault", .boolean(default: true),
              "render only the area a DNG marks as the picture (DefaultCropOrigin and DefaultCropSize: phones and cinema cameras "
              + "keep 8–16 pixel margins outside it); false renders the whole visible area"),
        .init("dngUser", .boolean(default: true),
              "render only the user crop a DNG records within that area (DefaultUserCrop: the aspect ratio a phone was set to, "
              + "an editor's saved crop); false renders the whole default crop"),
    ])

    public static let all: [StageDeclaration] = [whiteBalance, highlights, demosaic, exposure, camera, opcodes, crop] + lookStages

    public static func stage(_ name: String) -> StageDeclaration? { all.first { $0.name == name } }

    /// The stage and parameter `path` ("tone.contrast") names in `assignment` ("tone.contrast=1.3",
    /// from `--set` or `profile set`), or the one-line error that says what is wrong with it; `file`
    /// names where the assignment came from in that error.
    public static func parameter(_ path: String, in assignment: String, from file: String) throws -> (StageDeclaration, ParameterDeclaration) {
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            // "tone=1", "=1", "tone.contrast.x=1": not a known stage's fault.
            throw ProfileError(file: file, keyPath: "", message: "expected stage.parameter=value, got \"\(assignment)\"")
        }
        guard let stage = stage(parts[0]) else {
            throw ProfileError(file: file, keyPath: path, message: "unknown stage; stages: " + all.map(\.name).joined(separator: ", "))
        }
        guard let declaration = stage.parameter(parts[1]) else {
            throw ProfileError(file: file, keyPath: path,
                               message: "unknown parameter; parameters of \(stage.name): " + stage.parameters.map(\.name).joined(separator: ", "))
        }
        return (stage, declaration)
    }
}
