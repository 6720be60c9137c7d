import XCTest
@testable import EmulsionCore

/// The index maps against the EXIF 2.32 definition of Orientation (where row 0 / column 0 of the
/// stored image go), written out pixel by pixel for a 3×2 image.
final class OrientationTests: XCTestCase {
    /// Stored image (w 3, h 2): a b c / d e f. Expected upright images, row-major.
    let expected: [Orientation: [Character]] = [
        .normal: Array("abcdef"),
        .mirrorHorizontal: Array("cbafed"),
        .rotate180: Array("fedcba"),
        .mirrorVertical: Array("defabc"),
        .transpose: Array("adbecf"),
        .rotate90Clockwise: Array("daebfc"),
        .transverse: Array("fcebda"),
        .rotate90CounterClockwise: Array("cfbead"),
    ]

    func testEveryOrientation() {
        let stored = Array("abcdef")
        for o in Orientation.allCases {
            let map = o.indexMap(width: 3, height: 2)
            var out = [Character](repeating: "?", count: 6)
            for y in 0..<2 { for x in 0..<3 { out[map.start + x * map.strideX + y * map.strideY] = stored[y * 3 + x] } }
            XCTAssertEqual(String(out), String(expected[o]!), "\(o)")
        }
    }
}
