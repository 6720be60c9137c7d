#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A look: every stage parameter resolved (file values over inherited values over defaults).
public struct Profile: Sendable, Equatable {
    public static let schemaVersion = 1

    public var name: String
    public var summary: String
    /// Name the profile extends, if any.
    public var parent: String?
    /// Where it came from (a path, or "built-in").
    public var origin: String
    /// stage → parameter → value, complete for every declared parameter.
    public private(set) var values: [String: [String: ParameterValue]]

    /// The built-in defaults: the neutral, colorimetric rendering.
    public static var defaults: Profile {
        var values: [String: [String: ParameterValue]] = [:]
        for stage in StageCatalogue.all {
            values[stage.name] = Dictionary(uniqueKeysWithValues: stage.parameters.map { ($0.name, $0.defaultValue) })
        }
        return Profile(name: "defaults", summary: "Built-in defaults", parent: nil, origin: "built-in", values: values)
    }

    public init(name: String, summary: String, parent: String?, origin: String, values: [String: [String: ParameterValue]]) {
        self.name = name
        self.summary = summary
        self.parent = parent
        self.origin = origin
        self.values = values
    }

    public func value(_ stage: String, _ parameter: String) -> ParameterValue {
        guard let v = values[stage]?[parameter] else {
            preconditionFailure("undeclared parameter \(stage).\(parameter)")
        }
        return v
    }

    public func number(_ stage: String, _ parameter: String) -> Double {
        if case .number(let n) = value(stage, parameter) { return n }
        preconditionFailure("\(stage).\(parameter) is not a number")
    }

    public func choice(_ stage: String, _ parameter: String) -> String {
        if case .choice(let s) = value(stage, parameter) { return s }
        preconditionFailure("\(stage).\(parameter) is not a choice")
    }

    public func flag(_ stage: String, _ parameter: String) -> Bool {
        if case .boolean(let b) = value(stage, parameter) { return b }
        preconditionFailure("\(stage).\(parameter) is not a boolean")
    }

    /// A file parameter: an absolute path once loaded, or nil when none is set.
    public func file(_ stage: String, _ parameter: String) -> String? {
        if case .text(let s) = value(stage, parameter) { return s.isEmpty ? nil : s }
        preconditionFailure("\(stage).\(parameter) is not a file")
    }

    public func curve(_ stage: String, _ parameter: String) -> [CurvePoint] {
        if case .curve(let c) = value(stage, parameter) { return c }
        preconditionFailure("\(stage).\(parameter) is not a curve")
    }

    /// Applies `stage.param=value` overrides (from `--set`), validated like file values.
    public func applying(overrides: [String]) throws -> Profile {
        var copy = self
        for assignment in overrides {
            guard let eq = assignment.firstIndex(of: "=") else {
                throw ProfileError(file: "--set", keyPath: assignment, message: "expected stage.parameter=value")
            }
            let path = String(assignment[..<eq]).trimmingWhitespace()
            let text = String(assignment[assignment.index(after: eq)...]).trimmingWhitespace()
            let (stage, declaration) = try StageCatalogue.parameter(path, in: assignment, from: "--set")
            switch declaration.parse(text) {
            case .success(.text(let file)) where !file.isEmpty:
                let resolved = try ProfileLoader.resolveFile(file, relativeTo: nil, file: "--set", keyPath: path, declaration: declaration)
                copy.values[stage.name]![declaration.name] = .text(resolved)
            case .success(let v): copy.values[stage.name]![declaration.name] = v
            case .failure(let p): throw ProfileError(file: "--set", keyPath: path, message: p.message)
            }
        }
        return copy
    }

    /// The profile as a file: values that differ from `base` (all of them when base is nil).
    public func document(relativeTo base: Profile? = nil) -> JSONValue {
        var object: [String: JSONValue] = [
            "schemaVersion": .number(Double(Profile.schemaVersion)),
            "name": .string(name),
            "description": .string(summary),
        ]
        if let parent { object["extends"] = .string(parent) }
        for stage in StageCatalogue.all {
            var params: [String: JSONValue] = [:]
            for p in stage.parameters {
                let v = value(stage.name, p.name)
                if base == nil || base!.value(stage.name, p.name) != v { params[p.name] = v.json }
            }
            if !params.isEmpty { object[stage.name] = .object(params) }
        }
        return .object(object)
    }
}

/// A profile problem, naming the file, the key path and what is allowed.
public struct ProfileError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let keyPath: String
    public let message: String

    public init(file: String, keyPath: String, message: String) {
        self.file = file
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        keyPath.isEmpty ? "\(file): \(message)" : "\(file): \(keyPath): \(message)"
    }
}
