#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What a phone ISP's precision is, stage by stage: the input of device mode (issue 9).
///
/// A description says, for each block of the emulated ISP, how it holds its numbers; `nil`
/// (written `"float"` in a file) means that block computes in float exactly as the normal engine
/// does. The blocks, in pipeline order (docs/DEVICES.md):
/// - `linear`: the data word between the linear blocks (demosaic output, CCM, lens shading, local
///   tone mapping), `bits` bits over [0, `headroom`] (headroom a power of two: the scene-linear level
///   the word's top code stands for; 1 is diffuse white);
/// - `ccm`: the colour-correction matrix coefficients, a signed Q format;
/// - `toneTable`: the gamma/tone block, a 1-D table of `entries` points over [0, headroom] with
///   `bits`-bit entries, linearly interpolated (the 3-D LUT's input encoding);
/// - `lut`: the 3-D LUT the look is baked into, `size`³ nodes with `bits`-bit entries;
/// - `encoded`: the data word after the gamma block and out of the 3-D LUT, `bits` bits over [0, 1];
/// - `rounding`: how every block rounds to its word.
/// `DeviceLoader` reads these from `Profiles/devices/NAME.json` with strict validation.
public struct DeviceDescription: Sendable, Equatable {
    public struct Linear: Sendable, Equatable {
        public var bits: Int
        public var headroom: Double
        public init(bits: Int, headroom: Double) { self.bits = bits; self.headroom = headroom }
    }

    public struct Table: Sendable, Equatable {
        public var entries: Int
        public var bits: Int
        public init(entries: Int, bits: Int) { self.entries = entries; self.bits = bits }
    }

    public struct LUT: Sendable, Equatable {
        public var size: Int
        public var bits: Int
        public init(size: Int, bits: Int) { self.size = size; self.bits = bits }
    }

    public var name: String
    public var summary: String
    /// The file it came from (or "built-in").
    public var origin: String
    public var rounding: DeviceRounding
    /// The linear data range: headroom over diffuse white (a power of two). Also used without
    /// `linear` bits, as the range of the tone table and the 3-D LUT's input.
    public var headroom: Double
    public var linearBits: Int?
    public var ccm: QFormat?
    public var toneTable: Table?
    public var lut: LUT?
    public var encodedBits: Int?
    /// Why each number is what it is, by block name.
    public var reasoning: [String: String]

    public init(name: String, summary: String = "", origin: String = "built-in", rounding: DeviceRounding = .halfEven,
                headroom: Double = 4, linearBits: Int? = nil, ccm: QFormat? = nil, toneTable: Table? = nil, lut: LUT? = nil,
                encodedBits: Int? = nil, reasoning: [String: String] = [:]) {
        self.name = name; self.summary = summary; self.origin = origin; self.rounding = rounding
        self.headroom = headroom; self.linearBits = linearBits; self.ccm = ccm; self.toneTable = toneTable
        self.lut = lut; self.encodedBits = encodedBits; self.reasoning = reasoning
    }

    /// Float everywhere: device mode with it is the normal engine, bit for bit (a test checks it).
    public static let ideal = DeviceDescription(
        name: "ideal", summary: "Float everywhere: no block quantises (the normal engine's precision).")

    /// Whether every block is float.
    public var isIdeal: Bool { linearBits == nil && ccm == nil && toneTable == nil && lut == nil && encodedBits == nil }

    /// One line per block, for reports.
    public var precisionSummary: String {
        func opt<T>(_ v: T?, _ f: (T) -> String) -> String { v.map(f) ?? "float" }
        return "linear \(opt(linearBits) { "\($0)-bit" }) over [0, \(DeviceLoader.format(headroom))], CCM \(opt(ccm) { $0.description }), "
            + "tone table \(opt(toneTable) { "\($0.entries)×\($0.bits)-bit" }), 3-D LUT \(opt(lut) { "\($0.size)³×\($0.bits)-bit" }), "
            + "encoded \(opt(encodedBits) { "\($0)-bit" }), rounding \(rounding.rawValue)"
    }
}

/// Finds and strictly validates device description files (`Profiles/devices/*.json`), in the
/// profile loader's style: every error is one line naming the file, the key path and the problem.
///
/// File layout (schemaVersion 1): `schemaVersion`, `name`, `description`, `rounding`
/// (half-even | half-up | floor), `headroom` (power of two 1…64), then one entry per block —
/// `linear` {bits}, `ccm` {format: "Qm.n"}, `toneTable` {entries, bits}, `lut` {size, bits},
/// `encoded` {bits} — each either that object or the string "float"; and `reasoning`, an object
/// of strings keyed by block name (optional). Every key is required except `reasoning`.
public struct DeviceLoader: Sendable {
    public static let schemaVersion = 1
    public static let blocks = ["linear", "ccm", "toneTable", "lut", "encoded"]
    public static let topKeys = ["schemaVersion", "name", "description", "rounding", "headroom"] + blocks + ["reasoning"]

    public var searchDirectories: [URL]

    public init(searchDirectories: [URL]) { self.searchDirectories = searchDirectories }

    /// `devices/` inside the standard profile folders.
    public static var standard: DeviceLoader {
        DeviceLoader(searchDirectories: ProfileLoader.standard.searchDirectories.map { $0.appendingPathComponent("devices") })
    }

    /// Built-in names (not files).
    public static let builtIn: [String: DeviceDescription] = ["ideal": .ideal]

    public func availableNames() -> [String] {
        var names = Set(Self.builtIn.keys)
        for dir in searchDirectories {
            for f in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] where f.hasSuffix(".json") {
                names.insert(String(f.dropLast(5)))
            }
        }
        return names.sorted()
    }

    /// A device by name (`ideal`, or `NAME.json` in the search folders) or by path.
    public func load(_ nameOrPath: String) throws -> DeviceDescription {
        var url: URL?
        if ProfileLoader.namesFile(nameOrPath) {
            url = URL(fileURLWithPath: nameOrPath)
        } else {
            if let d = Self.builtIn[nameOrPath] { return d }
            url = searchDirectories.map { $0.appendingPathComponent(nameOrPath + ".json") }
                .first { FileManager.default.fileExists(atPath: $0.path) }
        }
        guard let url else {
            throw ProfileError(file: nameOrPath, keyPath: "", message: "no such device; available: " + availableNames().joined(separator: ", "))
        }
        let path = url.path
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory else {
            throw ProfileError(file: path, keyPath: "", message: "no such file")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw ProfileError(file: path, keyPath: "", message: "cannot be read") }
        return try parse(data, file: path)
    }

    /// Parses and validates a device description (`file` names it in errors).
    public func parse(_ data: Data, file: String) throws -> DeviceDescription {
        return try resolve(try ProfileLoader.document(data, file: file), file: file)
    }

    public func resolve(_ document: JSONValue, file: String) throws -> DeviceDescription {
        func fail(_ key: String, _ message: String) -> ProfileError { ProfileError(file: file, keyPath: key, message: message) }
        guard case .object(let top) = document else { throw fail("", "expected a JSON object at the top level, got \(document.typeName)") }
        for key in top.keys.sorted() where !Self.topKeys.contains(key) {
            throw fail(key, "unknown key; allowed: " + Self.topKeys.joined(separator: ", "))
        }
        for key in Self.topKeys where key != "reasoning" && top[key] == nil {
            throw fail(key, "missing" + (Self.blocks.contains(key) ? "; expected an object or \"float\"" : ""))
        }
        func number(_ value: JSONValue, _ key: String) throws -> Double {
            guard case .number(let v) = value else { throw fail(key, "expected a number, got \(value.typeName)") }
            return v
        }
        func integer(_ value: JSONValue?, _ key: String, _ range: ClosedRange<Int>) throws -> Int {
            guard let value else { throw fail(key, "missing; expected a whole number \(range.lowerBound)…\(range.upperBound)") }
            let v = try number(value, key)
            guard v == v.rounded(), v >= Double(range.lowerBound), v <= Double(range.upperBound) else {
                throw fail(key, "expected a whole number \(range.lowerBound)…\(range.upperBound), got \(Self.format(v))")
            }
            return Int(v)
        }
        func string(_ key: String) throws -> String {
            guard case .string(let s)? = top[key] else { throw fail(key, "expected a string, got \(top[key]!.typeName)") }
            return s
        }
        /// A block's parameters, or nil for "float"; unknown keys refused.
        func block(_ key: String, _ allowed: [String]) throws -> [String: JSONValue]? {
            switch top[key]! {
            case .string("float"): return nil
            case .object(let o):
                for k in o.keys.sorted() where !allowed.contains(k) {
                    throw fail("\(key).\(k)", "unknown key; allowed: " + allowed.joined(separator: ", "))
                }
                return o
            case let v: throw fail(key, "expected an object (\(allowed.joined(separator: ", "))) or \"float\", got \(v.typeName)")
            }
        }

        let v = try number(top["schemaVersion"]!, "schemaVersion")
        guard v == Double(Self.schemaVersion) else { throw fail("schemaVersion", "expected \(Self.schemaVersion), got \(Self.format(v))") }
        let name = try string("name")
        guard !name.isEmpty else { throw fail("name", "must not be empty") }
        let summary = try string("description")
        let roundingName = try string("rounding")
        guard let rounding = DeviceRounding(rawValue: roundingName) else {
            throw fail("rounding", "unknown value \"\(roundingName)\"; allowed: " + DeviceRounding.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let headroom = try number(top["headroom"]!, "headroom")
        guard headroom >= 1, headroom <= 64, headroom == Double(1 << Int(log2(headroom))) else {
            throw fail("headroom", "expected a power of two 1…64, got \(Self.format(headroom))")
        }
        var linearBits: Int?
        if let o = try block("linear", ["bits"]) { linearBits = try integer(o["bits"], "linear.bits", 1...22) }
        var ccm: QFormat?
        if let o = try block("ccm", ["format"]) {
            guard let f = o["format"] else { throw fail("ccm.format", "missing; expected a Q format such as \"Q4.10\"") }
            guard case .string(let s) = f else { throw fail("ccm.format", "expected a string such as \"Q4.10\", got \(f.typeName)") }
            guard let q = QFormat(parsing: s) else {
                throw fail("ccm.format", "expected Qm.n with m \(QFormat.integerBitsRange.lowerBound)…\(QFormat.integerBitsRange.upperBound) and n \(QFormat.fractionBitsRange.lowerBound)…\(QFormat.fractionBitsRange.upperBound), got \"\(s)\"")
            }
            ccm = q
        }
        var tone: DeviceDescription.Table?
        if let o = try block("toneTable", ["entries", "bits"]) {
            tone = .init(entries: try integer(o["entries"], "toneTable.entries", 2...65536), bits: try integer(o["bits"], "toneTable.bits", 1...22))
        }
        var lut: DeviceDescription.LUT?
        if let o = try block("lut", ["size", "bits"]) {
            lut = .init(size: try integer(o["size"], "lut.size", 2...129), bits: try integer(o["bits"], "lut.bits", 1...22))
        }
        var encodedBits: Int?
        if let o = try block("encoded", ["bits"]) { encodedBits = try integer(o["bits"], "encoded.bits", 1...22) }
        if tone != nil && lut == nil {
            throw fail("toneTable", "a tone table needs a 3-D LUT after it (its output is the LUT's input encoding); set lut or make toneTable \"float\"")
        }
        var reasoning: [String: String] = [:]
        if let r = top["reasoning"] {
            guard case .object(let o) = r else { throw fail("reasoning", "expected an object of strings keyed by block, got \(r.typeName)") }
            let allowed = Self.blocks + ["rounding", "headroom"]
            for (k, value) in o.sorted(by: { $0.key < $1.key }) {
                guard allowed.contains(k) else { throw fail("reasoning.\(k)", "unknown key; allowed: " + allowed.joined(separator: ", ")) }
                guard case .string(let s) = value else { throw fail("reasoning.\(k)", "expected a string, got \(value.typeName)") }
                reasoning[k] = s
            }
        }
        return DeviceDescription(name: name, summary: summary, origin: file, rounding: rounding, headroom: headroom,
                                 linearBits: linearBits, ccm: ccm, toneTable: tone, lut: lut, encodedBits: encodedBits, reasoning: reasoning)
    }

    public static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
    }
}
