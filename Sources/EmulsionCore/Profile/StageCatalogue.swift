/// Every stage a profile can configure, with its parameters. Stages appear in pipeline order.
public enum StageCatalogue {
    public static let whiteBalance = StageDeclaration("whiteBalance", "Which white balance the raw is rendered with", [
        .init("mode", .options(WhiteBalanceMode.self, default: .asShot),
              "as-shot: the camera's recorded balance; daylight: the camera's daylight multipliers"),
    ])
    public static let highlights = StageDeclaration("highlights", "What happens to photosites at or above white", [
        .init("mode", .options(HighlightMode.self, default: .clip),
              "clip: every channel limited to white after white balance, so clipped areas stay neutral"),
    ])
    public static let demosaic = StageDeclaration("demosaic", "How full colour is rebuilt from the mosaic", [
        .init("algorithm", .options(DemosaicMethod.self, default: .bilinear), "bilinear: mean of nearest same-colour photosites"),
    ])
    public static let exposure = StageDeclaration("exposure", "Scene-linear exposure", [
        .init("ev", .number(range: -10...10, default: 0), "exposure change in stops"),
        .init("baseline", .boolean(default: true), "also apply the DNG BaselineExposure the file records (DNG 1.6 §6: the camera maker’s exposure offset)"),
    ])

    public static let all: [StageDeclaration] = [whiteBalance, highlights, demosaic, exposure] + lookStages

    public static func stage(_ name: String) -> StageDeclaration? { all.first { $0.name == name } }
}
