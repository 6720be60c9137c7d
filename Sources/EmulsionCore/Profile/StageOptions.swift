/// The choice-valued parameters as enums; the catalogue declares their allowed strings from these,
/// and the pipeline reads them back typed (`Profile.option`), so no stage compares mode strings.
public enum WhiteBalanceMode: String, CaseIterable, Sendable {
    case asShot = "as-shot"
    case daylight
    case cloudy
    case shade
    case tungsten
    case fluorescent
    case flash
    case auto
    case kelvin
    case spot
}

/// Which camera → XYZ matrix renders the raw (DNG 1.6 chapter 6, or LibRaw's own).
public enum CameraMatrixMethod: String, CaseIterable, Sendable {
    /// LibRaw's `rgb_cam` (from the DNG ColorMatrix it picked, or Adobe's table), whatever the white.
    case libraw
    /// The DNG ColorMatrix path, matrices interpolated for the white balance.
    case dngColorMatrix = "dng-color-matrix"
    /// The DNG ForwardMatrix path (needs ForwardMatrix tags).
    case dngForwardMatrix = "dng-forward-matrix"
    /// ForwardMatrix when the file has them, else ColorMatrix, else LibRaw.
    case auto
}

public enum HighlightMode: String, CaseIterable, Sendable {
    case clip
    case blend
    case reconstruct
}

public enum DemosaicMethod: String, CaseIterable, Sendable {
    case bilinear
    case malvar
    case rcd
    case directional

    /// The algorithm for a layout: Malvar and RCD are Bayer algorithms, so on other layouts
    /// (X-Trans) they give way to the directional one, the high-quality choice there.
    public func algorithm(for cfa: CFAPattern) -> any DemosaicAlgorithm {
        switch self {
        case .bilinear: return BilinearDemosaic()
        case .malvar: return cfa.isBayer ? MalvarDemosaic() : DirectionalDemosaic()
        case .rcd: return cfa.isBayer ? RCDDemosaic() : DirectionalDemosaic()
        case .directional: return DirectionalDemosaic()
        }
    }
}

extension Profile {
    /// A choice parameter as its enum (the catalogue only admits the enum's raw values).
    public func option<T: RawRepresentable & CaseIterable>(_ stage: String, _ parameter: String, as: T.Type) -> T
    where T.RawValue == String {
        guard let v = T(rawValue: choice(stage, parameter)) else {
            preconditionFailure("\(stage).\(parameter) holds a value its enum lacks")
        }
        return v
    }
}

extension ParameterDeclaration.Kind {
    /// A choice among an enum's cases.
    public static func options<T: RawRepresentable & CaseIterable>(_: T.Type, default value: T) -> Self where T.RawValue == String {
        .choice(T.allCases.map(\.rawValue), default: value.rawValue)
    }
}
