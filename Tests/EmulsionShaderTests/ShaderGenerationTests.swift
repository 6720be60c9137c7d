import Emulsion
import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// The committed shaders are what the generator writes from the Swift declarations, and every
/// shader compiles to SPIR-V. `EMULSION_WRITE_SHADERS=1` (Shaders/generate.sh) rewrites them first.
final class ShaderGenerationTests: XCTestCase {
    static let shaders = TestSupport.repositoryRoot.appendingPathComponent("Shaders")

    func testCommittedShadersMatchTheDeclarations() throws {
        let files = GLSLGenerator.files()
        if ProcessInfo.processInfo.environment["EMULSION_WRITE_SHADERS"] == "1" {
            try FileManager.default.createDirectory(at: Self.shaders, withIntermediateDirectories: true)
            for f in files { try f.text.write(to: Self.shaders.appendingPathComponent(f.name), atomically: true, encoding: .utf8) }
        }
        for f in files {
            let committed = try? String(contentsOf: Self.shaders.appendingPathComponent(f.name), encoding: .utf8)
            XCTAssertEqual(committed, f.text, "Shaders/\(f.name) differs from the generator's output: run Shaders/generate.sh")
        }
        let present = try FileManager.default.contentsOfDirectory(atPath: Self.shaders.path).filter { $0.hasSuffix(".glsl") || $0.hasSuffix(".comp") }
        XCTAssertEqual(Set(present), Set(files.map(\.name)), "Shaders/ holds shaders the generator does not write")
    }

    /// Every look stage has a GPU stage, and its parameter struct lists the declared parameters in order.
    func testParameterBlocksFollowTheDeclarations() {
        let gpu = Dictionary(uniqueKeysWithValues: GLSLStage.all.map { ($0.name, $0) })
        for declaration in StageCatalogue.lookStages {
            guard let stage = gpu[declaration.name] else { XCTFail("look stage \(declaration.name) has no GLSL stage"); continue }
            let expected = declaration.parameters.compactMap { p -> String? in
                switch p.kind { case .file, .curve: return nil; default: return p.name }
            }
            XCTAssertEqual(stage.userFields.map { $0.name.hasSuffix("_") ? String($0.name.dropLast()) : $0.name }, expected, declaration.name)
            let text = GLSLGenerator.files().first { $0.name == "\(declaration.name).glsl" }!.text
            XCTAssertTrue(text.contains("struct \(declaration.name)Params {"), declaration.name)
        }
        // A parameter changed in the declaration changes the generated struct (the block is made from it).
        let field = GLSLStage.all.first { $0.name == "colour" }!.userFields.first!
        XCTAssertEqual(field.name, "saturation")
        XCTAssertEqual(field.type, .float)
    }

    static func requireCompiler() throws {
        guard GLSLCompiler.path != nil else {
            if TestSupport.inCI { XCTFail("glslangValidator not found: install glslang-tools (.ci/setup --tests)"); return }
            throw XCTSkip("glslangValidator not found (Debian glslang-tools): shaders not compiled")
        }
    }

    func testEveryShaderCompilesToSPIRV() throws {
        try Self.requireCompiler()
        guard GLSLCompiler.path != nil else { return }
        // The committed pipeline (with its #includes of every stage file).
        XCTAssertFalse(try GLSLCompiler.compile(file: Self.shaders.appendingPathComponent("pipeline.comp")).isEmpty)
        // Each stage alone.
        for stage in GLSLStage.all where !stage.call.isEmpty {
            XCTAssertNoThrow(try GLSLCompiler.compile(source: GLSLGenerator.pipeline(includes: false, only: [stage.name]), name: "\(stage.name).comp"))
        }
        // Every shipped look, baked.
        for name in try Self.shippedLooks() {
            let shader = try Self.bakedLook(name)
            let start = Date()
            XCTAssertNoThrow(try GLSLCompiler.compile(source: shader.text, name: "\(name).comp"), name)
            print("\(name).comp: \(shader.text.utf8.count / 1024) KiB, compiled in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
        }
    }

    /// Optional Metal path: spirv-cross turns the pipeline's SPIR-V into Metal Shading Language (a
    /// kernel function). No Metal compiler here, so the MSL itself is not compiled.
    func testPipelineConvertsToMetal() throws {
        try Self.requireCompiler()
        guard let crossPath = TestSupport.which("spirv-cross") else {
            if TestSupport.inCI { XCTFail("spirv-cross not found: install spirv-cross (.ci/setup --tests)"); return }
            throw XCTSkip("spirv-cross not found: Metal conversion not checked")
        }
        let spirv = try GLSLCompiler.compile(file: Self.shaders.appendingPathComponent("pipeline.comp"))
        let dir = TestSupport.temporaryDirectory("emulsion-msl")
        let input = dir.appendingPathComponent("pipeline.spv"), output = dir.appendingPathComponent("pipeline.metal")
        try Data(spirv).write(to: input)
        let run = try TestSupport.run(crossPath, ["--msl", "--msl-version", "20100", input.path, "--output", output.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let msl = try String(contentsOf: output, encoding: .utf8)
        XCTAssertTrue(msl.contains("kernel void main0("), "no Metal kernel in spirv-cross's output")
    }

    nonisolated(unsafe) static var baked: [String: (text: String, notes: [String], tables: [Float])] = [:]

    /// A shipped look's baked shader (made once per process: seconds in a debug build).
    static func bakedLook(_ name: String) throws -> (text: String, notes: [String], tables: [Float]) {
        if let shader = baked[name] { return shader }
        let shader = try GLSLExport.lookShader(profile: try ProfileLoader.standard.load(name), space: .sRGB)
        baked[name] = shader
        return shader
    }

    static func shippedLooks() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: TestSupport.repositoryRoot.appendingPathComponent("Profiles").path)
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// The tables file holds exactly the tables' floats, little end first, in order, and the
    /// shader's header states their number and the file's name.
    func testExportedTablesFile() throws {
        let dir = TestSupport.temporaryDirectory("emulsion-glsl-tables")
        let path = dir.appendingPathComponent("chrome.comp").path
        _ = try GLSLExport.write(profile: try ProfileLoader.standard.load("film-chrome"), space: .sRGB, to: path, overwrite: true)
        XCTAssertEqual(GLSLExport.tablesPath(for: path), dir.appendingPathComponent("chrome.tables.bin").path)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: GLSLExport.tablesPath(for: path))))
        let floats = stride(from: 0, to: bytes.count - 3, by: 4).map {
            Float(bitPattern: UInt32(bytes[$0]) | UInt32(bytes[$0 + 1]) << 8 | UInt32(bytes[$0 + 2]) << 16 | UInt32(bytes[$0 + 3]) << 24)
        }
        let shader = try Self.bakedLook("film-chrome")
        XCTAssertEqual(floats.map(\.bitPattern), shader.tables.map(\.bitPattern))
        XCTAssertGreaterThan(shader.tables.count, 100_000, "film-chrome has grain: its two noise tiles are in the tables")
        let text = try String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8)
        XCTAssertTrue(text.contains("the look's tables, \(floats.count) floats = \(bytes.count) bytes"), "header")
        XCTAssertTrue(text.contains("`chrome.tables.bin`"), "header names the tables file")
        XCTAssertFalse(text.contains("const uint B0["), "no embedded tables")
        XCTAssertThrowsError(try GLSLExport.write(profile: try ProfileLoader.standard.load("neutral"), space: .sRGB, to: path, overwrite: false))
        XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: GLSLExport.tablesPath(for: path)))), bytes, "not overwritten")
    }
}
