/// A colour label an editor put on a photo: darktable's five, Lightroom's and Bridge's five
/// (read from XMP by `XMPLabels`).
public enum ColourLabel: Int, CaseIterable, Sendable, Comparable, Codable {
    // darktable's indices (`Xmp.darktable.colorlabels`), in its order.
    case red = 0, yellow, green, blue, purple

    public var name: String { String(describing: self) }

    /// "red", "Red", "RED"…: the label of that name.
    public init?(name: String) {
        guard let label = Self.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = label
    }

    public static func < (a: ColourLabel, b: ColourLabel) -> Bool { a.rawValue < b.rawValue }

    // By name in JSON ("green", not darktable's 2).
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let label = ColourLabel(name: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "no colour label \"\(text)\""))
        }
        self = label
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}
