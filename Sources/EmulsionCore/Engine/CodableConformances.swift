// Codable is unavailable in Embedded Swift, so the types that kernel files use declare it here,
// outside the Foundation-free set compiled for aarch64 (Tests/EmulsionCoreTests/NEONCodegenTests.swift).
extension OutputSink.Depth: Codable {}
extension Orientation: Codable {}

/// Same encoding as the synthesised one had: `{"m": [9 row-major values]}`.
extension Matrix3: Codable {
    enum CodingKeys: String, CodingKey { case m }
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        m = try container.decode([Double].self, forKey: .m)
    }
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(m, forKey: .m)
    }
}

/// Same encoding as the synthesised one had: `{"width": w, "height": h, "colours": [...]}`.
extension CFAPattern: Codable {
    enum CodingKeys: String, CodingKey { case width, height, colours }
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let width = try container.decode(Int.self, forKey: .width), height = try container.decode(Int.self, forKey: .height)
        let colours = try container.decode([UInt8].self, forKey: .colours)
        // The initialiser's preconditions, as a decoding error (the data may come from a decode worker).
        guard width > 0, height > 0, width <= 64, height <= 64, colours.count == width * height, colours.allSatisfy({ $0 < 3 }) else {
            throw DecodingError.dataCorrupted(.init(codingPath: container.codingPath, debugDescription: "invalid CFA pattern"))
        }
        self.init(width: width, height: height, colours: colours)
    }
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(width, forKey: .width)
        try container.encode(height, forKey: .height)
        try container.encode(colours, forKey: .colours)
    }
}
