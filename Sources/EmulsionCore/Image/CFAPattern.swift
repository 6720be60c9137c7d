/// The colour filter array: which colour (0 red, 1 green, 2 blue) each photosite records.
///
/// A pattern repeats with period `width × height` from the image's top-left visible pixel: 2×2 for
/// Bayer (in any of four orientations), 6×6 for Fujifilm X-Trans. Sensors with a fourth colour
/// (CMYG, RGBE) are not representable and are refused by the reader as an unsupported layout.
public struct CFAPattern: Sendable, Equatable, Hashable {
    public let width: Int
    public let height: Int
    /// Row-major colours, `width * height` entries, each 0, 1 or 2.
    public let colours: [UInt8]

    public init(width: Int, height: Int, colours: [UInt8]) {
        precondition(width > 0 && height > 0 && colours.count == width * height)
        precondition(colours.allSatisfy { $0 < 3 })
        self.width = width
        self.height = height
        self.colours = colours
    }

    @inlinable public func colour(row: Int, column: Int) -> Int {
        Int(colours[(row % height) * width + column % width])
    }

    public static let rggb = CFAPattern(width: 2, height: 2, colours: [0, 1, 1, 2])
    public static let bggr = CFAPattern(width: 2, height: 2, colours: [2, 1, 1, 0])
    public static let grbg = CFAPattern(width: 2, height: 2, colours: [1, 0, 2, 1])
    public static let gbrg = CFAPattern(width: 2, height: 2, colours: [1, 2, 0, 1])

    /// The 2×2 Bayer layouts, named as photographers name them.
    public static let bayerLayouts: [String: CFAPattern] = ["RGGB": .rggb, "BGGR": .bggr, "GRBG": .grbg, "GBRG": .gbrg]

    /// True for the four 2×2 layouts whose two greens sit on a diagonal.
    public var isBayer: Bool {
        guard width == 2 && height == 2 else { return false }
        let c = colours
        let greensOnMainDiagonal = c[0] == 1 && c[3] == 1 && Set([c[1], c[2]]) == [0, 2]
        let greensOnAntiDiagonal = c[1] == 1 && c[2] == 1 && Set([c[0], c[3]]) == [0, 2]
        return greensOnMainDiagonal || greensOnAntiDiagonal
    }

    /// A readable name: "RGGB" for Bayer layouts, "X-Trans" for 6×6, else the raw colour list.
    public var name: String {
        let letters: [Character] = ["R", "G", "B"]
        if width == 2 && height == 2 { return String(colours.map { letters[Int($0)] }) }
        if width == 6 && height == 6 { return "X-Trans" }
        return "\(width)x\(height):" + String(colours.map { letters[Int($0)] })
    }

    /// This pattern seen from a window that starts `rows` down and `columns` right of its origin.
    public func shifted(rows: Int, columns: Int) -> CFAPattern {
        var out: [UInt8] = []
        out.reserveCapacity(colours.count)
        for r in 0..<height {
            for c in 0..<width { out.append(UInt8(colour(row: r + rows, column: c + columns))) }
        }
        return CFAPattern(width: width, height: height, colours: out)
    }
}
