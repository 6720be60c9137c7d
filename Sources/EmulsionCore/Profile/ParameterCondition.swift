/// When a parameter takes part in the render at all: `whiteBalance.temperature` only in kelvin
/// mode, `vignette.midpoint` only with a vignette, the filmic settings only with the filmic curve.
///
/// Why: such a parameter can be set, validated and saved while changing nothing, and a user who
/// writes `--set whiteBalance.temperature=3000` or sweeps `tone.contrast` on `neutral` got an
/// unchanged render with no word (darktable greys such sliders out; a command line has to say
/// it). The declarations say it once, next to the parameter; the CLI warns from them, `profile
/// show` marks them, and `ParameterConditionTests` renders both sides of every condition, so a
/// condition that stops matching the kernels fails a test rather than misleading users.
public enum ParameterCondition: Sendable, Equatable {
    /// `stage.parameter` (a choice) is one of `values`.
    case oneOf(String, [String])
    /// `stage.parameter` differs from its declared default: a number other than its default, a
    /// boolean turned on, a file or curve given.
    case set(String)
    /// A camera profile (`--dcp`) is part of the render; known to `process` only.
    case cameraProfile

    /// Whether the condition holds for `profile`; nil where it cannot be known from the profile
    /// (a camera profile, where the caller did not say).
    func holds(in profile: Profile, cameraProfile: Bool?) -> Bool? {
        switch self {
        case .oneOf(let path, let values):
            return values.contains(profile.value(at: path).description)
        case .set(let path):
            return profile.value(at: path) != StageCatalogue.declaration(at: path).defaultValue
        case .cameraProfile:
            return cameraProfile
        }
    }

    /// The parameter the condition reads, if any.
    public var parameterPath: String? {
        switch self {
        case .oneOf(let path, _), .set(let path): return path
        case .cameraProfile: return nil
        }
    }

    /// "tone.curve is filmic", "vignette.amount is not 0", "lut.file is set".
    var requirement: String {
        switch self {
        case .oneOf(let path, let values):
            return "\(path) is " + values.joined(separator: " or ")
        case .set(let path):
            switch StageCatalogue.declaration(at: path).kind {
            case .number(_, let d): return "\(path) is not \(trim(d))"
            case .boolean(let d): return "\(path) is \(!d)"
            case .choice(_, let d): return "\(path) is not \(d)"
            case .file, .curve: return "\(path) is set"
            }
        case .cameraProfile:
            return "a camera profile is given (--dcp)"
        }
    }

    /// What the profile has instead: "tone.curve is none".
    func state(in profile: Profile) -> String? {
        switch self {
        case .oneOf(let path, _), .set(let path):
            let value = profile.value(at: path)
            if case .text("") = value { return "\(path) is not set" }
            if case .curve([]) = value { return "\(path) is not set" }
            return "\(path) is \(value)"
        case .cameraProfile:
            return nil
        }
    }
}

/// A parameter that changes nothing in a given profile, and why.
public struct IdleParameter: Sendable, Equatable, CustomStringConvertible {
    public let path: String
    /// "it applies only when tone.curve is filmic, and tone.curve is none".
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// An override (`--set`, a golden case's `set`) that changes nothing in the profile it was applied to.
public struct IdleAssignment: Sendable, Equatable, CustomStringConvertible {
    public let assignment: String
    /// The profile's name.
    public let profile: String
    public let parameter: IdleParameter
    /// "tone.contrast=2 changes nothing under neutral: it applies only when tone.curve is filmic, …".
    public var description: String { "\(assignment) changes nothing under \(profile): \(parameter.reason)" }
}

extension Profile {
    /// The value at "stage.parameter" (a declared path).
    func value(at path: String) -> ParameterValue {
        let parts = path.split(separator: ".", maxSplits: 1).map(String.init)
        return value(parts[0], parts[1])
    }

    /// Why `stage.parameter` changes nothing in this profile, or nil when it takes part (or may:
    /// a condition the profile cannot decide counts as met). `cameraProfile` says whether a
    /// `--dcp` is part of the render, where the caller knows.
    ///
    /// A condition on a parameter that is itself idle does not count: `skinProtection.hue` with
    /// an amount of 1 still changes nothing while no per-hue shift or saturation change exists
    /// for the protection to hold back.
    public func idleness(of stage: String, _ parameter: String, cameraProfile: Bool? = nil) -> IdleParameter? {
        guard let declaration = StageCatalogue.stage(stage)?.parameter(parameter) else { return nil }
        let conditions = declaration.appliesWhen
        guard !conditions.isEmpty else { return nil }
        var idleDependencies: [IdleParameter] = []
        for condition in conditions {
            guard condition.holds(in: self, cameraProfile: cameraProfile) != false else { continue }
            guard let path = condition.parameterPath else { return nil }
            let parts = path.split(separator: ".", maxSplits: 1).map(String.init)
            guard let idle = idleness(of: parts[0], parts[1], cameraProfile: cameraProfile) else { return nil }
            idleDependencies.append(idle)
        }
        let path = "\(stage).\(parameter)"
        if let dependency = idleDependencies.first {
            return IdleParameter(path: path, reason: "it acts through \(dependency.path), which changes nothing here: \(dependency.reason)")
        }
        let wanted = declaration.applicabilitySummary ?? conditions.map(\.requirement).joined(separator: " or ")
        var reason = "it applies only when \(wanted)"
        // A summarised list of alternatives (the per-hue shifts) is not followed by their states.
        let states = conditions.compactMap { $0.state(in: self) }
        if !states.isEmpty && declaration.applicabilitySummary == nil { reason += ", and " + states.joined(separator: ", ") }
        return IdleParameter(path: path, reason: reason)
    }

    /// The assignments among `assignments` (`stage.parameter=value`, as given to `--set`, each
    /// already applied to this profile) that change nothing in it; the last of each path only (the
    /// one in force).
    public func idleAssignments(_ assignments: [String], cameraProfile: Bool? = nil) -> [IdleAssignment] {
        var seen = Set<String>()
        var idle: [IdleAssignment] = []
        for assignment in assignments.reversed() {
            guard let eq = assignment.firstIndex(of: "=") else { continue }
            let path = String(assignment[..<eq]).trimmingWhitespace()
            let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, seen.insert(path).inserted,
                  let parameter = idleness(of: parts[0], parts[1], cameraProfile: cameraProfile) else { continue }
            idle.append(IdleAssignment(assignment: assignment, profile: name, parameter: parameter))
        }
        return idle.reversed()
    }

    /// The parameters this profile's own file sets (values that differ from `base`, its parent
    /// or the defaults) that change nothing in it: what `profile validate` warns about.
    public func idleSettings(relativeTo base: Profile) -> [IdleParameter] {
        var idle: [IdleParameter] = []
        for stage in StageCatalogue.all {
            for p in stage.parameters where value(stage.name, p.name) != base.value(stage.name, p.name) {
                if let i = idleness(of: stage.name, p.name) { idle.append(i) }
            }
        }
        return idle
    }
}

extension StageCatalogue {
    /// The declaration at "stage.parameter"; the path must be declared (conditions name only
    /// declared paths, which `ParameterConditionTests` checks).
    static func declaration(at path: String) -> ParameterDeclaration {
        let parts = path.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, let d = stage(parts[0])?.parameter(parts[1]) else {
            preconditionFailure("undeclared parameter \(path)")
        }
        return d
    }
}
