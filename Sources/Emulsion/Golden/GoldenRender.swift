import EmulsionCore
import EmulsionIO
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

/// Renders golden cases through the public pipeline (`RawFile` → `Renderer`), the way
/// `emulsion process` renders a file.
///
/// What: resolves a case's input (a file, with `$NAME` expanded, or the synthetic chart written as a
/// DNG and read back through LibRaw), loads its profile and applies its `--set` overrides (then any
/// what-if overrides given to the whole run), renders in its space, depth and engine (through its
/// device's precision, if it names one; with its camera profile and crop, if it names them), and reduces
/// the result to its `maxSize`. Each input is decoded once per run and shared by the cases that use it.
/// Why: a golden image must be exactly what a user gets from the CLI for the same options, so this
/// uses the same calls and adds only the reduction.
public struct GoldenRenderer: Sendable {
    public var suite: GoldenSuite
    public var profiles: ProfileLoader
    /// `stage.parameter=value` applied to every case after its own (a what-if run).
    public var extraOverrides: [String]
    public var environment: [String: String]
    private let inputs = InputCache()

    public init(suite: GoldenSuite, profiles: ProfileLoader = .standard, extraOverrides: [String] = [],
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.suite = suite
        self.profiles = profiles
        self.extraOverrides = extraOverrides
        self.environment = environment
    }

    /// Tells the renderer which cases will be rendered, so each decoded input is dropped after the
    /// last case that uses it (without this, inputs are kept for the renderer's lifetime).
    public func expect(_ cases: [GoldenCase]) {
        for c in cases { if let key = try? inputKey(c.input) { inputs.expect(key) } }
    }

    /// The case rendered as PNG samples with the output space's ICC profile.
    public func render(_ c: GoldenCase, threads: Int = 1) throws -> PNGImage {
        try rendered(c, threads: threads).image
    }

    /// The render and, as notes for the report, the case's overrides (its own `set`, then the
    /// run's what-if `--set`) that change nothing under its profile: a what-if that reads
    /// "identical" because the parameter is idle in that look would otherwise look like evidence.
    func rendered(_ c: GoldenCase, threads: Int) throws -> (image: PNGImage, idleNotes: [String]) {
        let key = try? inputKey(c.input)
        defer { if let key { inputs.used(key) } }
        let profile = try profiles.load(suite.profileReference(c)).applying(overrides: c.overrides + extraOverrides)
        let idleNotes = profile.idleAssignments(c.overrides + extraOverrides).map { idle in
            (extraOverrides.contains(idle.assignment) ? "what-if --set " : "set ") + idle.description
        }
        var options = RenderOptions(profile: profile, space: c.space, depth: c.depth, engine: c.engine, threads: max(1, threads))
        if let device = suite.deviceReference(c) { options.device = try DeviceLoader.standard.load(device) }
        if let path = suite.cameraProfilePath(c) { options.cameraProfile = try DCPFile.read(path: path) }
        if c.dcp == "embedded" {
            guard case .file = c.input else { throw RenderError("\(c.name): dcp embedded needs a raw file as input, not \(c.input)") }
            options.cameraProfile = try DCPFile.readEmbedded(in: try inputKey(c.input))
        }
        options.crop = c.crop
        let raw = try rawImage(c.input)
        let image = try Renderer.render(raw, options: options)
        let png = image.pngImage
        return (c.maxSize.map { ImageReduction.reduced(png, maxSide: $0) } ?? png, idleNotes)
    }

    /// What the input is, resolved (a path, or the synthetic scene).
    public func describe(_ input: GoldenInput) -> String {
        switch input {
        case .file(let path): return (try? suite.inputPath(path, environment: environment)) ?? path
        case .syntheticChart: return input.description
        }
    }

    func inputKey(_ input: GoldenInput) throws -> String {
        switch input {
        case .file(let written): return try suite.inputPath(written, environment: environment)
        case .syntheticChart: return input.description
        }
    }

    func rawImage(_ input: GoldenInput) throws -> RawImage {
        let key = try inputKey(input)
        switch input {
        case .file:
            return try inputs.value(key) { try RawFile.read(path: key) }
        case let .syntheticChart(width, height):
            return try inputs.value(key) {
                let dir = FileManager.default.temporaryDirectory
                    .appendingPathComponent("emulsion-golden-\(getpid())-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: dir) }
                let dng = dir.appendingPathComponent("synthetic-chart.dng")
                try DNGWriter.write(SyntheticScene(width: width, height: height).render(), to: dng)
                return try RawFile.read(path: dng.path)
            }
        }
    }
}

/// Decoded inputs by key, each loaded once even when several workers ask at the same time, and
/// dropped when the last expected use is over.
private final class InputCache: @unchecked Sendable {
    private enum Entry { case loading, done(Result<RawImage, Error>) }
    private let condition = ThreadCondition()
    private var entries: [String: Entry] = [:]
    private var remaining: [String: Int] = [:]

    func expect(_ key: String) {
        condition.lock(); remaining[key, default: 0] += 1; condition.unlock()
    }

    func used(_ key: String) {
        condition.lock()
        defer { condition.unlock() }
        guard let n = remaining[key] else { return }
        if n <= 1 {
            remaining[key] = nil
            if case .done? = entries[key] { entries[key] = nil }
        } else {
            remaining[key] = n - 1
        }
    }

    func value(_ key: String, load: () throws -> RawImage) throws -> RawImage {
        condition.lock()
        while true {
            switch entries[key] {
            case .done(let result)?:
                condition.unlock()
                return try result.get()
            case .loading?:
                condition.wait()
            case nil:
                entries[key] = .loading
                condition.unlock()
                let result = Result { try load() }
                condition.lock()
                entries[key] = .done(result)
                condition.broadcast()
                condition.unlock()
                return try result.get()
            }
        }
    }
}
