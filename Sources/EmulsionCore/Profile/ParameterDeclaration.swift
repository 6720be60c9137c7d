/// The declaration of a stage's user parameters: names, kinds, defaults and ranges.
///
/// This is the one source of truth for what a profile may say (darktable's "params" as opposed to
/// the derived constants kernels read): the loader validates against it, `--set` parses with it,
/// `profile show` prints it, and generated artefacts (shader parameter blocks) are made from it.
public struct ParameterDeclaration: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case number(range: ClosedRange<Double>, default: Double)
        case choice([String], default: String)
        case boolean(default: Bool)
    }

    public let name: String
    public let kind: Kind
    public let summary: String

    public init(_ name: String, _ kind: Kind, _ summary: String) {
        self.name = name
        self.kind = kind
        self.summary = summary
    }

    public var defaultValue: ParameterValue {
        switch kind {
        case .number(_, let d): return .number(d)
        case .choice(_, let d): return .choice(d)
        case .boolean(let d): return .boolean(d)
        }
    }

    /// What values are allowed, in words, for error messages.
    public var allowed: String {
        switch kind {
        case .number(let r, _): return "a number in \(trim(r.lowerBound))…\(trim(r.upperBound))"
        case .choice(let options, _): return "one of " + options.map { "\"\($0)\"" }.joined(separator: ", ")
        case .boolean: return "true or false"
        }
    }

    /// Checks a JSON value; returns the typed value or the reason it is not allowed.
    public func validate(_ value: JSONValue) -> Result<ParameterValue, ParameterProblem> {
        switch (kind, value) {
        case (.number(let r, _), .number(let n)):
            guard n.isFinite else { return .failure(.init("must be finite; allowed: \(allowed)")) }
            guard r.contains(n) else { return .failure(.init("\(trim(n)) is out of range; allowed: \(allowed)")) }
            return .success(.number(n))
        case (.choice(let options, _), .string(let s)):
            guard options.contains(s) else { return .failure(.init("\"\(s)\" is not known; allowed: \(allowed)")) }
            return .success(.choice(s))
        case (.boolean, .bool(let b)):
            return .success(.boolean(b))
        default:
            return .failure(.init("expected \(allowed), got \(value.typeName)"))
        }
    }

    /// Parses a command-line value (`--set stage.param=value`).
    public func parse(_ text: String) -> Result<ParameterValue, ParameterProblem> {
        switch kind {
        case .number:
            guard let n = Double(text) else { return .failure(.init("expected \(allowed), got \"\(text)\"")) }
            return validate(.number(n))
        case .choice: return validate(.string(text))
        case .boolean:
            switch text.lowercased() {
            case "true", "1", "yes", "on": return .success(.boolean(true))
            case "false", "0", "no", "off": return .success(.boolean(false))
            default: return .failure(.init("expected true or false, got \"\(text)\""))
            }
        }
    }
}

public struct ParameterProblem: Error, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

public enum ParameterValue: Sendable, Equatable, CustomStringConvertible {
    case number(Double)
    case choice(String)
    case boolean(Bool)

    public var json: JSONValue {
        switch self {
        case .number(let n): return .number(n)
        case .choice(let s): return .string(s)
        case .boolean(let b): return .bool(b)
        }
    }

    public var description: String {
        switch self {
        case .number(let n): return trim(n)
        case .choice(let s): return s
        case .boolean(let b): return b ? "true" : "false"
        }
    }
}

/// A stage as the profile sees it: a name and its parameters.
public struct StageDeclaration: Sendable, Equatable {
    public let name: String
    public let summary: String
    public let parameters: [ParameterDeclaration]

    public init(_ name: String, _ summary: String, _ parameters: [ParameterDeclaration]) {
        self.name = name
        self.summary = summary
        self.parameters = parameters
    }

    public func parameter(_ name: String) -> ParameterDeclaration? { parameters.first { $0.name == name } }
}

func trim(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
    return String(v)
}
