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
