import EmulsionCore
import EmulsionIO
import EmulsionTestSupport
import Foundation
import XCTest

/// Truncated raws (issue 7): a file cut short must either be refused with a one-line error or
/// decode to exactly the samples of the whole file. Anything else would be invented pixels
/// rendered as if nothing had happened.
///
/// Background: a QuickTake 100 file cut at 99 % decodes with exit 0, which looked like a
/// silent failure. It is not: QuickTake 100 image data is 3 bits per pixel on average (dcraw's
/// `quicktake_100_load_raw`: 4 bits for half the pixels, 2 bits for the rest), so a 640×480
/// image needs 115,200 bytes from the data offset 736, i.e. the first 115,936 bytes. The last
/// 2,544 bytes of the sample are a trailing resource (it contains the text "QuickTime"), not
/// image data. LibRaw's bit reader calls `derror()` when it runs out, so one byte less is an
/// "unexpected end of file".
final class TruncatedRawTests: XCTestCase {
    func sampleBytes(_ name: String) throws -> [UInt8]? {
        let url = TestSupport.samplesDirectory.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            if TestSupport.inCI { XCTFail("sample \(name) missing") }
            return nil
        }
        return try [UInt8](Data(contentsOf: url))
    }

    /// A CFAPattern with colour codes outside DNG's 0–6 (a hostile raw's: 236, 57, 30, 0) made
    /// LibRaw 0.20 read an uninitialised table, and the refusal's wording changed between runs.
    /// Reference: DNG 1.6 §6 CFAPattern (0 red … 6 white). Now one message, every time
    /// (`RawFile.decode` checks it, which the in-process decoder and the worker both run).
    func testCFAPatternOutsideDNGsColoursIsRefusedTheSameWayEveryTime() throws {
        guard var bytes = try sampleBytes("raspberrypi-gs_camera_imx296-lightspot.dng") else {
            throw XCTSkip("Raspberry Pi sample missing")
        }
        // The IFD entry: tag 33422, type BYTE, count 4, the four codes inline (little-endian file).
        let entry: [UInt8] = [0x8E, 0x82, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00]
        let at = try XCTUnwrap((0..<(bytes.count - 12)).first { bytes[$0..<($0 + 8)].elementsEqual(entry) })
        XCTAssertEqual(Array(bytes[(at + 8)..<(at + 12)]), [2, 1, 1, 0], "the sample's own pattern (BGGR)")
        bytes.replaceSubrange((at + 8)..<(at + 12), with: [0xEC, 0x39, 0x1E, 0x00])
        var messages: Set<String> = []
        for _ in 0..<3 {
            XCTAssertThrowsError(try RawFile.read(bytes: bytes, label: "cfa.dng")) { messages.insert("\($0)") }
        }
        XCTAssertEqual(messages.count, 1, "\(messages)")
        XCTAssertTrue(messages.first?.contains("CFA pattern names colour 236") == true, "\(messages)")
        XCTAssertFalse(messages.first?.contains("\n") == true)
    }

    func testQuickTakeCutInsideItsTrailingResourceDecodesIdentically() throws {
        guard let bytes = try sampleBytes("apple-quicktake_100-test100.qtk") else { throw XCTSkip("QuickTake sample missing") }
        let whole = try RawFile.read(bytes: bytes, label: "whole.qtk")
        XCTAssertEqual(whole.width * whole.height, 640 * 480)
        let needed = 736 + 640 * 480 * 3 / 8
        for length in [bytes.count * 99 / 100, needed + 1, needed] {
            let cut = try RawFile.read(bytes: Array(bytes.prefix(length)), label: "cut-\(length).qtk")
            XCTAssertTrue(cut.samples == whole.samples, "cut at \(length) bytes decoded different samples")
        }
        for length in [needed - 1, needed - 100, bytes.count * 97 / 100] {
            XCTAssertThrowsError(try RawFile.read(bytes: Array(bytes.prefix(length)), label: "cut-\(length).qtk")) { error in
                XCTAssertEqual("\(error)", "cut-\(length).qtk: truncated raw data (unexpected end of file)")
            }
        }
    }

    /// Every small sample cut at eight points: refused, or the same samples as the whole file.
    func testTruncatedRawsFailOrDecodeIdentically() throws {
        let names = ["apple-quicktake_100-test100.qtk", "kodak-dc50-sample.kdc", "lg-g4_h815-lossy_linear.dng",
                     "canon-eos_6d-lossy_linear.dng", "raspberrypi-gs_camera_imx296-lightspot.dng", "nikon-d1x-lossy.nef",
                     "google-pixel_7-digizoom_crop.dng", "blackmagic-pocket_cinema_camera-frame.dng"]
        var refused = 0, identical = 0
        for name in names {
            guard let bytes = try sampleBytes(name) else { continue }
            let whole = try RawFile.read(bytes: bytes, label: name)
            let n = bytes.count
            for length in Set([n / 4, n / 2, n * 3 / 4, n * 9 / 10, n * 99 / 100, n * 999 / 1000, n - 16, n - 1]) {
                let label = "\(name)@\(length)"
                do {
                    let cut = try RawFile.read(bytes: Array(bytes.prefix(length)), label: label)
                    XCTAssertTrue(cut.samples == whole.samples && cut.width == whole.width && cut.height == whole.height,
                                  "\(label): decoded without an error but not the whole file's samples")
                    identical += 1
                } catch {
                    let text = "\(error)"
                    XCTAssertTrue(text.hasPrefix(label + ": ") && !text.contains("\n"), "not a one-line error: \(text)")
                    refused += 1
                }
            }
        }
        print("truncated raws: \(refused) refused, \(identical) decoded identically to the whole file")
        XCTAssertGreaterThan(refused, identical, "most cuts remove image data and must be refused")
    }
}
