import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A golden suite: a folder holding a manifest (`golden.json`) and one sub-folder per case with the
/// case's approved image (`NAME/approved.png`).
///
/// What: the manifest names every case — its input (a raw file, or a synthetic scene Emulsion
/// makes), its profile and render options — and the tolerances its comparison is judged by.
/// Why: QA engineers guard a pipeline by rendering a fixed set of raws through a fixed set of looks
/// and comparing with approved images (darktable-tests practice: ΔE2000 against `expected.png`,
/// fail at mean > 0.77 or max > 2.3). The manifest is strict (an unknown key is an error naming its
/// key path) so a typo cannot silently drop a case or a tolerance. See docs/GOLDEN.md.
///
/// ```json
/// { "schemaVersion": 1,
///   "variables": { "EMULSION_SAMPLES": "../../../../shared/raw-samples" },
///   "defaults": { "profile": "neutral", "maxSize": 320, "tolerance": { "mean": 0.77, "max": 2.3 } },
///   "cases": [ { "name": "chart-neutral", "input": "synthetic:chart@600x400" },
///              { "name": "lg-g4", "input": "$EMULSION_SAMPLES/lg-g4_h815-lossy_linear.dng",
///                "set": ["exposure.ev=0.3"], "space": "display-p3" } ] }
/// ```
public struct GoldenSuite: Sendable {
    public static let manifestName = "golden.json"
    public static let approvedName = "approved.png"
    public static let schemaVersion = 1

    /// The suite folder.
    public let directory: URL
    public var description: String
    /// Defaults for `$NAME` references in inputs; the environment wins over these. Relative values
    /// are paths relative to the suite folder.
    public var variables: [String: String]
    public var cases: [GoldenCase]

    /// The suite's name: its folder's name.
    public var name: String { directory.lastPathComponent }
    public var manifestPath: String { directory.appendingPathComponent(Self.manifestName).path }

    public init(directory: URL, description: String = "", variables: [String: String] = [:], cases: [GoldenCase]) {
        self.directory = directory.standardizedFileURL
        self.description = description
        self.variables = variables
        self.cases = cases
    }

    /// Loads `path` (the suite folder, or its `golden.json`).
    public static func load(_ path: String) throws -> GoldenSuite {
        var url = URL(fileURLWithPath: path).standardizedFileURL
        if url.lastPathComponent == manifestName { url.deleteLastPathComponent() }
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw GoldenSuiteError(file: path, message: "no such suite folder")
        }
        guard isDirectory else { throw GoldenSuiteError(file: path, message: "is not a folder (a suite is a folder with \(manifestName))") }
        let manifest = url.appendingPathComponent(manifestName)
        guard let data = FileManager.default.contents(atPath: manifest.path) else {
            let exists = FileManager.default.fileExists(atPath: manifest.path)
            throw GoldenSuiteError(file: manifest.path, message: exists ? "cannot be read" : "missing (a suite folder needs a \(manifestName) manifest)")
        }
        let document: JSONValue
        do { document = try JSONText.parse([UInt8](data)) } catch let error as JSONText.ParseError {
            throw GoldenSuiteError(file: manifest.path, message: error.description)
        }
        return try ManifestReader(file: manifest.path).suite(document, directory: url)
    }

    /// The cases whose names match any of `patterns` (shell wildcards `*`, `?`, `[...]`), in manifest
    /// order; all cases when `patterns` is empty. A pattern that matches nothing is an error.
    public func select(_ patterns: [String]) throws -> [GoldenCase] {
        guard !patterns.isEmpty else { return cases }
        for p in patterns where !cases.contains(where: { Self.matches(p, $0.name) }) {
            throw GoldenSuiteError(file: manifestPath, keyPath: "cases",
                                   message: "no case matches \"\(p)\"; cases: " + cases.map(\.name).joined(separator: ", "))
        }
        return cases.filter { c in patterns.contains { Self.matches($0, c.name) } }
    }

    static func matches(_ pattern: String, _ name: String) -> Bool { fnmatch(pattern, name, 0) == 0 }

    /// The folders in the suite that hold an approved image but name no case (a case renamed or
    /// removed from the manifest): nothing checks them, so they are reported, never deleted.
    public var orphanedApprovedImages: [String] {
        let names = Set(cases.map(\.name))
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return entries.filter { entry in
            !names.contains(entry)
                && FileManager.default.fileExists(atPath: directory.appendingPathComponent(entry).appendingPathComponent(Self.approvedName).path)
        }.sorted().map { "\($0)/\(Self.approvedName)" }
    }

    /// What `check`, `report` and `record` say about one of `orphanedApprovedImages`.
    public static func orphanNote(_ path: String) -> String {
        "\(path) belongs to no case in \(manifestName) (renamed or removed?); nothing checks it"
    }

    /// Where a case's approved image lives.
    public func approvedURL(_ c: GoldenCase) -> URL {
        directory.appendingPathComponent(c.name).appendingPathComponent(Self.approvedName)
    }

    /// The file a case's input names, with `$NAME` / `${NAME}` expanded (environment first, then
    /// the manifest's `variables`) and relative paths taken from the suite folder.
    public func inputPath(_ path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        var result = ""
        var rest = Substring(path)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            var after = rest[rest.index(after: dollar)...]
            let braced = after.first == "{"
            if braced { after = after.dropFirst() }
            let nameEnd = after.firstIndex { !($0.isLetter || $0.isNumber || $0 == "_") || !$0.isASCII } ?? after.endIndex
            let name = String(after[..<nameEnd])
            guard !name.isEmpty, !(braced && (nameEnd == after.endIndex || after[nameEnd] != "}")) else {
                throw GoldenSuiteError(file: path, message: "expected $NAME or ${NAME} after $")
            }
            if let value = environment[name], !value.isEmpty {
                result += value
            } else if let value = variables[name] {
                result += value.hasPrefix("/") ? value : directory.appendingPathComponent(value).standardizedFileURL.path
            } else {
                throw GoldenSuiteError(file: path, message: "$\(name) is not set (set it in the environment, or give it a default in the manifest's \"variables\")")
            }
            rest = braced ? after[after.index(after: nameEnd)...] : after[nameEnd...]
        }
        result += rest
        return result.hasPrefix("/") ? result : directory.appendingPathComponent(result).standardizedFileURL.path
    }

    /// A case's profile argument for `ProfileLoader`: names stay names; paths are taken from the suite folder.
    public func profileReference(_ c: GoldenCase) -> String { reference(c.profile) }

    /// A case's device argument for `DeviceLoader`, the same way; nil when it renders in float.
    public func deviceReference(_ c: GoldenCase) -> String? { c.device.map(reference) }

    /// A case's camera profile file, relative paths resolved against the suite folder; nil for
    /// none or `embedded` (the renderer reads the input's own).
    public func cameraProfilePath(_ c: GoldenCase) -> String? {
        guard let dcp = c.dcp, dcp != "embedded" else { return nil }
        return inSuite(dcp)
    }

    func reference(_ nameOrPath: String) -> String {
        ProfileLoader.namesFile(nameOrPath) ? inSuite(nameOrPath) : nameOrPath
    }

    /// A path as written in the manifest: absolute as it is, relative from the suite folder.
    private func inSuite(_ path: String) -> String {
        path.hasPrefix("/") ? path : directory.appendingPathComponent(path).standardizedFileURL.path
    }
}

/// What a case renders.
public enum GoldenInput: Sendable, Equatable, CustomStringConvertible {
    /// A raw file, as written in the manifest (`$NAME` not yet expanded).
    case file(String)
    /// Emulsion's synthetic colour chart (`SyntheticScene`) at the given size, written as a DNG and
    /// read back through LibRaw, as `emulsion process` does with no input.
    case syntheticChart(width: Int, height: Int)

    public static let syntheticPrefix = "synthetic:"

    /// `synthetic:chart`, `synthetic:chart@WIDTHxHEIGHT`, or a file path.
    public init(parsing text: String) throws(GoldenSuiteError) {
        guard text.hasPrefix(Self.syntheticPrefix) else { self = .file(text); return }
        let spec = text.dropFirst(Self.syntheticPrefix.count)
        let parts = spec.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts[0] == "chart" else {
            throw GoldenSuiteError(file: text, message: "unknown synthetic scene \"\(parts[0])\"; scenes: chart (optionally chart@WIDTHxHEIGHT)")
        }
        var width = 1200, height = 800
        if parts.count == 2 {
            let size = parts[1].split(separator: "x")
            guard size.count == 2, let w = Int(size[0]), let h = Int(size[1]),
                  w >= SyntheticScene.minimumWidth, h >= SyntheticScene.minimumHeight, w * h <= 50_000_000 else {
                throw GoldenSuiteError(file: text, message: "expected chart@WIDTHxHEIGHT with at least \(SyntheticScene.minimumWidth)x\(SyntheticScene.minimumHeight)")
            }
            (width, height) = (w, h)
        }
        self = .syntheticChart(width: width, height: height)
    }

    public var description: String {
        switch self {
        case .file(let path): return path
        case let .syntheticChart(w, h): return w == 1200 && h == 800 ? "synthetic:chart" : "synthetic:chart@\(w)x\(h)"
        }
    }
}

/// When a comparison passes. Defaults are the darktable integration-test limits.
public struct GoldenTolerance: Sendable, Equatable {
    /// Pass needs mean ΔE00 ≤ this…
    public var mean: Double = 0.77
    /// …and max ΔE00 ≤ this…
    public var max: Double = 2.3
    /// …and, when set, the 95th percentile ≤ this.
    public var p95: Double?
    /// The ΔE00 that "% of pixels above" counts against.
    public var threshold: Double = 2.3

    /// Below this max ΔE00 two images are reported identical (fixed, not per case).
    public static let identicalBelow = 0.01

    public init(mean: Double = 0.77, max: Double = 2.3, p95: Double? = nil, threshold: Double = 2.3) {
        self.mean = mean
        self.max = max
        self.p95 = p95
        self.threshold = threshold
    }

    public var summary: String {
        "mean ≤ \(GoldenFormat.number(mean)), max ≤ \(GoldenFormat.number(max))" + (p95.map { ", p95 ≤ \(GoldenFormat.number($0))" } ?? "")
    }
}

/// One case: what to render and how to judge it.
public struct GoldenCase: Sendable, Equatable {
    /// Unique within the suite; also the case's folder name.
    public var name: String
    public var input: GoldenInput
    /// A profile name (from Profiles/) or a path (relative to the suite folder).
    public var profile: String
    /// `stage.parameter=value` overrides, as `--set` takes them.
    public var overrides: [String]
    public var space: OutputSpace
    public var depth: OutputSink.Depth
    /// When set, the render is reduced (box average over whole-pixel blocks) until its longer side
    /// is at most this many pixels, which keeps approved images small.
    public var maxSize: Int?
    public var engine: Engine
    /// A phone ISP's precision to render through (`emulsion process --device`): a device name
    /// (Profiles/devices/, or ideal) or a path relative to the suite folder; nil renders in float.
    public var device: String?
    /// A DNG camera profile to render with (`emulsion process --dcp`): a .dcp or a DNG, its path
    /// relative to the suite folder, or `embedded` (the input's own); nil for the file's matrices.
    public var dcp: String?
    /// The part of the picture rendered (`--crop`, `--aspect`), before `maxSize`; nil for all of it.
    public var crop: OutputCrop?
    public var tolerance: GoldenTolerance
    public var note: String

    public init(name: String, input: GoldenInput, profile: String = "neutral", overrides: [String] = [],
                space: OutputSpace = .sRGB, depth: OutputSink.Depth = .sixteen, maxSize: Int? = nil,
                engine: Engine = .simd, device: String? = nil, tolerance: GoldenTolerance = GoldenTolerance(), note: String = "") {
        self.name = name
        self.input = input
        self.profile = profile
        self.overrides = overrides
        self.space = space
        self.depth = depth
        self.maxSize = maxSize
        self.engine = engine
        self.device = device
        self.tolerance = tolerance
        self.note = note
    }

    /// One line: profile, overrides and options.
    public var optionsSummary: String {
        var parts = ["profile \(profile)"]
        if !overrides.isEmpty { parts.append("--set " + overrides.joined(separator: " --set ")) }
        parts.append("\(space.rawValue) \(depth.rawValue)-bit")
        if let maxSize { parts.append("maxSize \(maxSize)") }
        if engine != .simd { parts.append("engine \(engine.rawValue)") }
        if let device { parts.append("device \(device)") }
        if let dcp { parts.append("dcp \(dcp)") }
        if let crop { parts.append(crop.description.dropFirst(2).description) }
        return parts.joined(separator: ", ")
    }
}

/// A manifest or suite problem: `FILE: key.path: problem`, like `ProfileError`.
public struct GoldenSuiteError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let keyPath: String
    public let message: String

    public init(file: String, keyPath: String = "", message: String) {
        self.file = file
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String { keyPath.isEmpty ? "\(file): \(message)" : "\(file): \(keyPath): \(message)" }
}

/// Strict reading of the manifest document, with key paths in every error.
private struct ManifestReader {
    let file: String

    func fail(_ path: String, _ message: String) -> GoldenSuiteError { GoldenSuiteError(file: file, keyPath: path, message: message) }

    func object(_ value: JSONValue, _ path: String, allowed: [String]) throws -> [String: JSONValue] {
        guard case .object(let o) = value else { throw fail(path, "expected an object, got \(value.typeName)") }
        for key in o.keys.sorted() where !allowed.contains(key) {
            throw fail(path.isEmpty ? key : "\(path).\(key)", "unknown key; allowed: " + allowed.joined(separator: ", "))
        }
        return o
    }

    func string(_ value: JSONValue, _ path: String) throws -> String {
        guard case .string(let s) = value else { throw fail(path, "expected a string, got \(value.typeName)") }
        return s
    }

    func number(_ value: JSONValue, _ path: String, min: Double = 0) throws -> Double {
        guard case .number(let n) = value, n.isFinite else { throw fail(path, "expected a number, got \(value.typeName)") }
        guard n >= min else { throw fail(path, "must be at least \(GoldenFormat.number(min)), got \(GoldenFormat.number(n))") }
        return n
    }

    func integer(_ value: JSONValue, _ path: String, allowed: ClosedRange<Int>) throws -> Int {
        let n = try number(value, path, min: -.infinity)
        guard n == n.rounded(), let i = Int(exactly: n), allowed.contains(i) else {
            throw fail(path, "expected a whole number in \(allowed.lowerBound)…\(allowed.upperBound), got \(GoldenFormat.number(n))")
        }
        return i
    }

    static let caseKeys = ["name", "input", "note", "profile", "set", "space", "bits", "maxSize", "engine", "device", "dcp", "crop", "aspect",
                           "tolerance"]
    static let defaultKeys = ["profile", "set", "space", "bits", "maxSize", "engine", "device", "dcp", "crop", "aspect", "tolerance"]

    func suite(_ document: JSONValue, directory: URL) throws -> GoldenSuite {
        let top = try object(document, "", allowed: ["schemaVersion", "description", "variables", "defaults", "cases"])
        guard let version = top["schemaVersion"] else { throw fail("schemaVersion", "missing; expected \(GoldenSuite.schemaVersion)") }
        let v = try integer(version, "schemaVersion", allowed: 1...Int.max)
        guard v <= GoldenSuite.schemaVersion else {
            throw fail("schemaVersion", "version \(v) is newer than this Emulsion understands (\(GoldenSuite.schemaVersion))")
        }
        let description = try top["description"].map { try string($0, "description") } ?? ""
        var variables: [String: String] = [:]
        if let vars = top["variables"] {
            guard case .object(let o) = vars else { throw fail("variables", "expected an object of NAME: path, got \(vars.typeName)") }
            for (k, value) in o { variables[k] = try string(value, "variables.\(k)") }
        }
        var defaults = GoldenCase(name: "", input: .file(""))
        if let d = top["defaults"] {
            defaults = try options(try object(d, "defaults", allowed: Self.defaultKeys), "defaults", base: defaults)
        }
        guard let casesValue = top["cases"] else { throw fail("cases", "missing; expected an array of cases") }
        guard case .array(let list) = casesValue else { throw fail("cases", "expected an array, got \(casesValue.typeName)") }
        var cases: [GoldenCase] = []
        var seen = Set<String>()
        for (i, entry) in list.enumerated() {
            let path = "cases[\(i)]"
            let o = try object(entry, path, allowed: Self.caseKeys)
            guard let nameValue = o["name"] else { throw fail("\(path).name", "missing") }
            let name = try string(nameValue, "\(path).name")
            guard !name.isEmpty, !name.hasPrefix("."), name.utf8.count <= 120,
                  name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
                throw fail("\(path).name", "\"\(name)\": use letters, digits, - _ . (it names the case's folder)")
            }
            guard seen.insert(name).inserted else { throw fail("\(path).name", "\"\(name)\" is used by another case") }
            guard let inputValue = o["input"] else { throw fail("\(path).input", "missing; a file path or synthetic:chart") }
            let inputText = try string(inputValue, "\(path).input")
            let input: GoldenInput
            do { input = try GoldenInput(parsing: inputText) } catch { throw fail("\(path).input", error.message) }
            var c = try options(o, path, base: defaults)
            c.name = name
            c.input = input
            c.note = try o["note"].map { try string($0, "\(path).note") } ?? ""
            cases.append(c)
        }
        return GoldenSuite(directory: directory, description: description, variables: variables, cases: cases)
    }

    /// Applies the option keys of `o` (case or defaults) over `base`.
    func options(_ o: [String: JSONValue], _ path: String, base: GoldenCase) throws -> GoldenCase {
        var c = base
        if let v = o["profile"] { c.profile = try string(v, "\(path).profile") }
        if let v = o["set"] {
            guard case .array(let items) = v else { throw fail("\(path).set", "expected an array of \"stage.parameter=value\", got \(v.typeName)") }
            // Case overrides come after the defaults' ones, so they win.
            c.overrides = base.overrides + (try items.enumerated().map { try string($0.element, "\(path).set[\($0.offset)]") })
        }
        if let v = o["space"] {
            let s = try string(v, "\(path).space")
            guard let space = OutputSpace(rawValue: s) else {
                throw fail("\(path).space", "unknown space \"\(s)\"; spaces: " + OutputSpace.allCases.map(\.rawValue).joined(separator: ", "))
            }
            c.space = space
        }
        if let v = o["bits"] {
            let bits = try integer(v, "\(path).bits", allowed: 8...16)
            guard let depth = OutputSink.Depth(rawValue: bits) else { throw fail("\(path).bits", "expected 8 or 16, got \(bits)") }
            c.depth = depth
        }
        if let v = o["maxSize"] { c.maxSize = try integer(v, "\(path).maxSize", allowed: 16...100_000) }
        if let v = o["engine"] {
            let s = try string(v, "\(path).engine")
            guard let engine = Engine(rawValue: s) else {
                throw fail("\(path).engine", "unknown engine \"\(s)\"; engines: " + Engine.allCases.map(\.rawValue).joined(separator: ", "))
            }
            c.engine = engine
        }
        if let v = o["device"] {
            // "" in a case renders it in float when the defaults name a device.
            let d = try string(v, "\(path).device")
            c.device = d.isEmpty ? nil : d
        }
        if let v = o["dcp"] {
            // "" in a case renders with the file's matrices when the defaults name a profile.
            let d = try string(v, "\(path).dcp")
            c.dcp = d.isEmpty ? nil : d
        }
        if o["crop"] != nil && o["aspect"] != nil { throw fail(path, "use either crop or aspect, not both") }
        for key in ["crop", "aspect"] {
            guard let v = o[key] else { continue }
            let text = try string(v, "\(path).\(key)")
            // "" in a case renders the whole picture when the defaults crop it.
            if text.isEmpty { c.crop = nil; continue }
            do { c.crop = key == "crop" ? try OutputCrop(parsingRectangle: text) : try OutputCrop(parsingAspect: text) } catch {
                throw fail("\(path).\(key)", "\(error)")
            }
        }
        if let v = o["tolerance"] {
            let t = try object(v, "\(path).tolerance", allowed: ["mean", "max", "p95", "threshold"])
            if let x = t["mean"] { c.tolerance.mean = try number(x, "\(path).tolerance.mean") }
            if let x = t["max"] { c.tolerance.max = try number(x, "\(path).tolerance.max") }
            if let x = t["p95"] { c.tolerance.p95 = try number(x, "\(path).tolerance.p95") }
            if let x = t["threshold"] { c.tolerance.threshold = try number(x, "\(path).tolerance.threshold") }
        }
        return c
    }
}

/// Number formatting shared by the text, HTML and JUnit outputs.
enum GoldenFormat {
    /// Up to `digits` decimals, trailing zeros dropped ("0.77", "2.3", "12").
    static func number(_ v: Double, digits: Int = 3) -> String {
        guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
        var s = CFormat.string("%.\(digits)f", v)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s == "-0" ? "0" : s
    }

    static func percent(_ fraction: Double) -> String { number(fraction * 100, digits: 2) + "%" }
}
