import Testing
@testable import EmulsionCore

/// The index maps against the EXIF 2.32 definition of Orientation (where row 0 / column 0 of the
/// stored image go), written out pixel by pixel for a 3×2 image. (Swift Testing, beside XCTest.)
struct OrientationTests {
    /// Stored image (w 3, h 2): a b c / d e f. Expected upright images, row-major.
    static let expected: [(Orientation, String)] = [
        (.normal, "abcdef"), (.mirrorHorizontal, "cbafed"), (.rotate180, "fedcba"), (.mirrorVertical, "defabc"),
        (.transpose, "adbecf"), (.rotate90Clockwise, "daebfc"), (.transverse, "fcebda"), (.rotate90CounterClockwise, "cfbead"),
    ]

    @Test(arguments: expected)
    func indexMap(orientation: Orientation, upright: String) {
        let stored = Array("abcdef")
        let map = orientation.indexMap(width: 3, height: 2)
        var out = [Character](repeating: "?", count: 6)
        for y in 0..<2 { for x in 0..<3 { out[map.start + x * map.strideX + y * map.strideY] = stored[y * 3 + x] } }
        #expect(String(out) == upright)
    }

    @Test func orientedSizeSwapsForQuarterTurns() {
        #expect(Orientation.rotate90Clockwise.orientedSize(width: 4, height: 3) == (3, 4))
        #expect(Orientation.rotate180.orientedSize(width: 4, height: 3) == (4, 3))
    }

    /// The streamed render's band rule: the stored rows `storedRows` names for upright rows r are
    /// exactly those whose pixels the index map sends into rows r; quarter turns have none.
    @Test(arguments: Orientation.allCases)
    func storedRowsOfOutputRows(orientation: Orientation) {
        let (w, h) = (5, 7)
        guard !orientation.swapsAxes else {
            #expect(orientation.storedRows(ofOutputRows: 0 ..< 1, height: h) == nil)
            return
        }
        let map = orientation.indexMap(width: w, height: h)
        for lower in 0 ..< h {
            for upper in lower + 1 ... h {
                let stored = orientation.storedRows(ofOutputRows: lower ..< upper, height: h)!
                let expected = (0 ..< h).filter { y in (0 ..< w).allSatisfy { x in
                    (lower ..< upper).contains((map.start + x * map.strideX + y * map.strideY) / w) } }
                #expect(Array(stored) == expected)
            }
        }
    }
}
