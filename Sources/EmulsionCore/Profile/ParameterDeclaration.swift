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
        /// A path to a file with one of `extensions` (lower case, no dot); "" means none. Relative
        /// paths are resolved against the profile's folder (against the current folder for `--set`).
        case file(extensions: [String])
        /// A curve through `[x, y]` points, 0 ≤ x, y ≤ 1, x strictly increasing, 2…`maxPoints`
        /// points; empty means none.
        case curve(maxPoints: Int)
    }

    public let name: String
    public let kind: Kind
    public let summary: String
    /// The alternatives under which the parameter takes part in the render (any one is enough);
    /// empty: always (`ParameterCondition`).
    public let appliesWhen: [ParameterCondition]
    /// Those alternatives in words, where listing them would be too long.
    public let applicabilitySummary: String?

    public init(_ name: String, _ kind: Kind, _ summary: String, appliesWhen: [ParameterCondition] = [],
                applicabilitySummary: String? = nil) {
        self.name = name
        self.kind = kind
        self.summary = summary
        self.appliesWhen = appliesWhen
        self.applicabilitySummary = applicabilitySummary
    }

    public var defaultValue: ParameterValue {
        switch kind {
        case .number(_, let d): return .number(d)
        case .choice(_, let d): return .choice(d)
        case .boolean(let d): return .boolean(d)
        case .file: return .text("")
        case .curve: return .curve([])
        }
    }

    /// What values are allowed, in words, for error messages.
    public var allowed: String {
        switch kind {
        case .number(let r, _): return "a number in \(trim(r.lowerBound))…\(trim(r.upperBound))"
        case .choice(let options, _): return "one of " + options.map { "\"\($0)\"" }.joined(separator: ", ")
        case .boolean: return "true or false"
        case .file(let extensions):
            return "a path to a " + extensions.map { ".\($0)" }.joined(separator: " or ") + " file, or \"\" for none"
        case .curve(let maxPoints):
            return "[] or an array of 2…\(maxPoints) [x, y] points with 0 ≤ x, y ≤ 1 and x increasing"
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
        case (.file(let extensions), .string(let s)):
            if s.isEmpty { return .success(.text("")) }
            let ext = s.split(separator: ".").last.map { $0.lowercased() } ?? ""
            guard s.contains("."), extensions.contains(ext) else {
                return .failure(.init("\"\(s)\" has an unsupported extension; allowed: \(allowed)"))
            }
            return .success(.text(s))
        case (.curve(let maxPoints), .array(let items)):
            if items.isEmpty { return .success(.curve([])) }
            var points: [CurvePoint] = []
            for item in items {
                guard case .array(let pair) = item, pair.count == 2, case .number(let x) = pair[0], case .number(let y) = pair[1],
                      x.isFinite, y.isFinite, (0...1).contains(x), (0...1).contains(y)
                else { return .failure(.init("point \(points.count + 1) is not an [x, y] pair in 0…1; allowed: \(allowed)")) }
                if let last = points.last, x <= last.x {
                    return .failure(.init("point \(points.count + 1): x must increase; allowed: \(allowed)"))
                }
                points.append(CurvePoint(x: x, y: y))
            }
            guard (2...maxPoints).contains(points.count) else {
                return .failure(.init("\(points.count) points; allowed: \(allowed)"))
            }
            return .success(.curve(points))
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
        case .file: return validate(.string(text))
        case .curve:
            // `x:y,x:y,…` (shell-friendly) or a JSON array of pairs.
            let cleaned = String(text.filter { !"[] ".contains($0) })
            let numbers = cleaned.split(whereSeparator: { $0 == "," || $0 == ":" }).map { Double($0) }
            guard numbers.count % 2 == 0, numbers.allSatisfy({ $0 != nil }) else {
                return .failure(.init("expected x:y,x:y,… (e.g. 0:0.03,0.5:0.5,1:1), got \"\(text)\""))
            }
            let pairs: [JSONValue] = stride(from: 0, to: numbers.count, by: 2).map { .array([.number(numbers[$0]!), .number(numbers[$0 + 1]!)]) }
            return validate(.array(pairs))
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
    /// A file path (resolved to an absolute path once loaded), "" for none.
    case text(String)
    case curve([CurvePoint])

    public var json: JSONValue {
        switch self {
        case .number(let n): return .number(n)
        case .choice(let s): return .string(s)
        case .boolean(let b): return .bool(b)
        case .text(let s): return .string(s)
        case .curve(let points): return .array(points.map { .array([.number($0.x), .number($0.y)]) })
        }
    }

    public var description: String {
        switch self {
        case .number(let n): return trim(n)
        case .choice(let s): return s
        case .boolean(let b): return b ? "true" : "false"
        case .text(let s): return s.isEmpty ? "\"\"" : s
        case .curve(let points): return points.isEmpty ? "[]" : points.map { "\(trim($0.x)):\(trim($0.y))" }.joined(separator: ",")
        }
    }
}

/// One point of a user curve (both coordinates in 0…1).
public struct CurvePoint: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public init(x: Double, y: Double) { self.x = x; self.y = y }
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
