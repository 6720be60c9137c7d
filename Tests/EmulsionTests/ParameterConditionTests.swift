import Emulsion
import EmulsionCore
import EmulsionTestSupport
import Foundation
import XCTest

/// The declared conditions under which a parameter takes part (`ParameterCondition`) are claims
/// about the kernels; these tests hold them to the renderer. The reference is the render itself:
/// on Emulsion's synthetic chart (240×160, ColorChecker patches, neutral ramp, skin tones),
/// - with every condition of a parameter false (the defaults), its lowest and highest values
///   give **bitwise identical** renders — "changes nothing" is exact, no tolerance;
/// - with any one condition made true (and whatever that condition in turn depends on), the
///   two values give different renders, so the condition is not stricter than the kernel;
/// - a parameter declared without conditions changes the render when moved from its default in
///   the neutral profile, apart from the few listed below whose effect depends on the raw file,
///   so no idle parameter is missing its declaration.
final class ParameterConditionTests: XCTestCase {
    static let chart = ChartReport.chartScene.raw

    /// Values to compare where the range's ends would not do: a spot rectangle must lie inside
    /// the 240×160 chart; hues 0 and 360 are the same hue.
    static let comparedValues: [String: (String, String)] = [
        "whiteBalance.spotX": ("10", "150"), "whiteBalance.spotY": ("10", "100"),
        "whiteBalance.spotWidth": ("4", "60"), "whiteBalance.spotHeight": ("4", "50"),
        "skinProtection.hue": ("23", "200"), "splitToning.shadowHue": ("20", "200"),
        "splitToning.highlightHue": ("20", "200"),
        // The weights must sum to more than 0.05.
        "monochrome.red": ("0.1", "1.5"), "monochrome.green": ("0.1", "1.5"), "monochrome.blue": ("0.1", "1.5"),
    ]
    /// What a condition needs besides its own value: spot mode needs a rectangle.
    static let companions: [String: [String]] = [
        "whiteBalance.mode=spot": ["whiteBalance.spotX=20", "whiteBalance.spotY=20", "whiteBalance.spotWidth=30", "whiteBalance.spotHeight=30"],
    ]
    /// Parameters without conditions whose effect depends on what the raw file records, not on
    /// the profile: the synthetic chart records none of it (no BaselineExposure, no DNG
    /// matrices, gain maps, lens warp or vignette, default crop, nothing at white), so they cannot
    /// move its render. (DefaultCropTests renders crop.dngDefault both ways, LensWarpTests and
    /// LensVignetteTests their switches.)
    static let dependOnTheFile: Set<String> = [
        "exposure.baseline", "camera.matrix", "opcodes.gainMap", "opcodes.warp", "opcodes.vignette", "highlights.mode", "crop.dngDefault", "crop.dngUser",
    ]

    var lutFile: String!

    override func setUpWithError() throws {
        // A LUT that squares each channel: every encoding pair and strength changes its result.
        let dir = TestSupport.temporaryDirectory("emulsion-conditions")
        lutFile = dir.appendingPathComponent("square.cube").path
        var text = "LUT_3D_SIZE 3\n"
        for b in 0..<3 { for g in 0..<3 { for r in 0..<3 {
            text += [r, g, b].map { String(Double($0 * $0) / 4) }.joined(separator: " ") + "\n"
        } } }
        try text.write(toFile: lutFile, atomically: false, encoding: .utf8)
    }

    func render(_ assignments: [String]) throws -> [UInt16] {
        let profile = try Profile.defaults.applying(overrides: assignments)
        return try Renderer.render(Self.chart, options: RenderOptions(profile: profile, space: .sRGB, threads: 1)).samples
    }

    /// Two values of a parameter that should render differently wherever it takes part.
    func values(_ path: String, _ declaration: ParameterDeclaration) -> (String, String)? {
        if let v = Self.comparedValues[path] { return v }
        switch declaration.kind {
        case .number(let range, _): return ("\(range.lowerBound)", "\(range.upperBound)")
        case .choice(let options, _): return (options[0], options[1])
        case .boolean: return ("false", "true")
        case .curve: return ("", "0:0,0.5:0.7,1:1")
        case .file: return ("", lutFile)
        }
    }

    /// Skin protection acts on a per-hue shift only where the shifted hue lies in the protected
    /// range (23° ± 25° by default: red, orange, yellow): for the other centres' shifts the test
    /// moves the protected range onto the shifted centre. (The declared condition is necessary,
    /// not sufficient: the CLI warns only where a parameter is idle whatever the hues.)
    static func protectingTheShiftedHue(_ path: String, _ condition: ParameterCondition) -> [String] {
        guard path == "skinProtection.amount", case .set(let shift) = condition, shift.hasPrefix("hsl."),
              let centre = StageCatalogue.hueCentres.first(where: { shift.hasPrefix("hsl.\($0.name)") }) else { return [] }
        return ["skinProtection.hue=\(centre.degrees)"]
    }

    /// Assignments that make `condition` hold and let its parameter take part in turn.
    func enabling(_ condition: ParameterCondition) -> [String] {
        switch condition {
        case .oneOf(let path, let values):
            let a = "\(path)=\(values[0])"
            return [a] + (Self.companions[a] ?? []) + enablingDependencies(of: path)
        case .set(let path):
            let d = declaration(path)
            let value: String
            switch d.kind {
            case .number(let range, let def): value = "\(range.upperBound != def ? range.upperBound : range.lowerBound)"
            case .boolean(let def): value = "\(!def)"
            case .curve: value = "0:0,0.5:0.7,1:1"
            case .file: value = lutFile
            case .choice(let options, let def): value = options.first { $0 != def }!
            }
            return ["\(path)=\(value)"] + enablingDependencies(of: path)
        case .cameraProfile:
            return []
        }
    }

    func enablingDependencies(of path: String) -> [String] {
        declaration(path).appliesWhen.first.map(enabling) ?? []
    }

    func declaration(_ path: String) -> ParameterDeclaration {
        let parts = path.split(separator: ".").map(String.init)
        return StageCatalogue.stage(parts[0])!.parameter(parts[1])!
    }

    func testConditionsNameDeclaredParametersAndValues() {
        for stage in StageCatalogue.all {
            for p in stage.parameters {
                var seen: [String] = ["\(stage.name).\(p.name)"]
                var queue = p.appliesWhen
                while let c = queue.popLast() {
                    guard case let path? = c.parameterPath else { continue }
                    let parts = path.split(separator: ".").map(String.init)
                    guard parts.count == 2, let d = StageCatalogue.stage(parts[0])?.parameter(parts[1]) else {
                        XCTFail("\(stage.name).\(p.name): condition names \(path), which is not declared"); continue
                    }
                    if case .oneOf(_, let values) = c {
                        guard case .choice(let options, _) = d.kind else { XCTFail("\(path) is not a choice"); continue }
                        XCTAssertTrue(Set(values).isSubset(of: options), "\(path): \(values)")
                    }
                    // Conditions must not loop back (idleness follows them recursively).
                    XCTAssertFalse(seen.contains(path), "\(stage.name).\(p.name): conditions loop through \(path)")
                    seen.append(path)
                    if seen.count < 64 { queue += d.appliesWhen }
                }
            }
        }
    }

    func testEveryConditionMatchesTheRender() throws {
        var checked = 0
        for stage in StageCatalogue.all {
            for p in stage.parameters where !p.appliesWhen.isEmpty {
                let path = "\(stage.name).\(p.name)"
                if p.appliesWhen == [.cameraProfile] {
                    XCTAssertNotNil(Profile.defaults.idleness(of: stage.name, p.name, cameraProfile: false), path)
                    XCTAssertNil(Profile.defaults.idleness(of: stage.name, p.name, cameraProfile: true), path)
                    XCTAssertNil(Profile.defaults.idleness(of: stage.name, p.name), "\(path): unknown counts as taking part")
                    continue
                }
                let (a, b) = try XCTUnwrap(values(path, p), path)
                // Idle under the defaults: identical renders, and the profile says so.
                XCTAssertNotNil(Profile.defaults.idleness(of: stage.name, p.name), "\(path) should be idle in the defaults")
                XCTAssertTrue(try render(["\(path)=\(a)"]) == render(["\(path)=\(b)"]),
                               "\(path) is declared idle in the defaults but \(a) and \(b) render differently")
                for condition in p.appliesWhen {
                    let on = enabling(condition) + Self.protectingTheShiftedHue(path, condition)
                    let profile = try Profile.defaults.applying(overrides: on)
                    XCTAssertNil(profile.idleness(of: stage.name, p.name), "\(path) with \(on)")
                    XCTAssertTrue(try render(on + ["\(path)=\(a)"]) != render(on + ["\(path)=\(b)"]),
                                      "\(path) should take part with \(on), but \(a) and \(b) render the same")
                }
                checked += 1
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 30, "the conditions this test knows of")
    }

    func testUnconditionalParametersChangeTheRender() throws {
        let neutral = try render([])
        for stage in StageCatalogue.all {
            for p in stage.parameters where p.appliesWhen.isEmpty {
                let path = "\(stage.name).\(p.name)"
                guard !Self.dependOnTheFile.contains(path) else { continue }
                let value: String
                switch p.kind {
                case .number(let range, let def): value = "\(range.upperBound != def ? range.upperBound : range.lowerBound)"
                case .boolean(let def): value = "\(!def)"
                case .choice(let options, let def): value = options.first { $0 != def && $0 != "spot" }!
                case .curve: value = "0:0,0.5:0.7,1:1"
                case .file: value = lutFile
                }
                XCTAssertTrue(try render(["\(path)=\(value)"]) != neutral,
                                  "\(path)=\(value) changes nothing on the chart: declare when it applies")
            }
        }
    }

    func testMessagesSayWhatIsMissing() throws {
        let neutral = Profile.defaults
        XCTAssertEqual(neutral.idleness(of: "whiteBalance", "temperature")?.reason,
                       "it applies only when whiteBalance.mode is kelvin, and whiteBalance.mode is as-shot")
        XCTAssertEqual(neutral.idleness(of: "tone", "method")?.reason,
                       "it applies only when tone.curve is filmic or tone.points is set, and tone.curve is none, tone.points is not set")
        XCTAssertEqual(neutral.idleness(of: "lut", "strength")?.reason, "it applies only when lut.file is set, and lut.file is not set")
        XCTAssertEqual(neutral.idleness(of: "hsl", "shadows")?.reason, "it applies only when a per-hue shift (hsl) is set")
        let skinOnly = try neutral.applying(overrides: ["skinProtection.amount=1"])
        XCTAssertEqual(skinOnly.idleness(of: "skinProtection", "hue")?.reason,
                       "it acts through skinProtection.amount, which changes nothing here: it applies only when a per-hue shift (hsl), colour.saturation or colour.vibrance is set")
        XCTAssertNil(try skinOnly.applying(overrides: ["colour.vibrance=0.3"]).idleness(of: "skinProtection", "hue"))
        XCTAssertNil(neutral.idleness(of: "tone", "curve"))
        XCTAssertEqual(neutral.idleAssignments(["whiteBalance.temperature=3000", "exposure.ev=1", "whiteBalance.temperature=3200"]).map(\.description),
                       ["whiteBalance.temperature=3200 changes nothing under defaults: it applies only when whiteBalance.mode is kelvin, and whiteBalance.mode is as-shot"])
    }
}
