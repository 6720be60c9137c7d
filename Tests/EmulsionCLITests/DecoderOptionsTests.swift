import EmulsionIO
import Foundation
import XCTest

@testable import emulsion

/// Which decoder `emulsion process` uses: workers that run this binary, or none.
final class DecoderOptionsTests: XCTestCase {
    /// The workers run this binary: its path read with `readlink` is the one `URL` resolves
    /// (the way it was found before session 19), and `--in-process-decoder` asks for none.
    func testDecodeWorkersRunThisBinary() {
        guard case .isolated(let executable, let timeout) = DecoderOptions.decoder(inProcess: false, timeout: 7) else {
            return XCTFail("no isolated decoder")
        }
        XCTAssertEqual(executable, URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path)
        XCTAssertEqual(timeout, 7)
        guard case .inProcess = DecoderOptions.decoder(inProcess: true, timeout: 7) else { return XCTFail("a worker for --in-process-decoder") }
    }
}
