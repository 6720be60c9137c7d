import EmulsionTestSupport
import Foundation
import XCTest

/// `emulsion profile export NAME --glsl -o look.comp` end to end: the shader and its tables file
/// (look.tables.bin) are written, it says what it leaves out, and is a compute shader with the
/// look's parameters as constants.
final class GLSLExportCLITests: XCTestCase {
    func testExportWritesAComputeShader() throws {
        let binary = try CLITests.builtBinary()
        let out = TestSupport.temporaryDirectory("emulsion-glsl-cli").appendingPathComponent("look.comp")
        let r = try TestSupport.run(binary, ["profile", "export", "leica-authentic", "--glsl", "-o", out.path],
                                    environment: ["EMULSION_PROFILES": TestSupport.repositoryRoot.appendingPathComponent("Profiles").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("localContrast.amount = 0.15 is NOT applied"), r.stderr)
        let text = try String(contentsOf: out, encoding: .utf8)
        XCTAssertTrue(text.contains("#version 450"))
        XCTAssertTrue(text.contains("const Parameters P = Parameters("))
        XCTAssertTrue(text.contains("    colourParams(0.85, -0.1)"), "the declared colour parameters, baked")
        let tables = try Data(contentsOf: out.deletingPathExtension().appendingPathExtension("tables.bin"))
        XCTAssertTrue(text.contains("the look's tables, \(tables.count / 4) floats"), "the tables file beside it, as the header says")
        let missing = try TestSupport.run(binary, ["profile", "export", "no-such-look", "--glsl", "-o", out.path])
        XCTAssertEqual(missing.status, 2)
    }
}
