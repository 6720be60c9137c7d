import EmulsionCore

/// The colour labels of an XMP packet, as darktable reads them: `xmp:Label` when it names one
/// of the five colours (Lightroom and Bridge write "Red" … "Purple"), else darktable's own
/// `darktable:colorlabels`, an `rdf:Seq` of indices 0 red … 4 purple (darktable writes only
/// this; several labels may be set).
///
/// Why: a darktable user marks the frames to develop with colour labels as often as with stars;
/// `process --label green` renders those, `{label}` files by them.
/// Reference: XMP Specification Part 2 §8.4 (xmp:Label, free text); darktable 4.2's
/// `src/common/exif.cc` (reading xmp:Label first, then its colorlabels sequence) and
/// `src/common/colorlabels.c` (the indices). Scanned as text like `XMPRating`, under whatever
/// prefixes the packet binds the two namespaces to.
public enum XMPLabels {
    static let darktableNamespace = "http://darktable.sf.net/"

    /// The labels the packet gives, in darktable's order, each once; empty when none.
    public static func labels(inPacket bytes: [UInt8]) -> [ColourLabel] {
        for prefix in XMPRating.prefixes(boundTo: Array(XMPRating.namespace.utf8), in: bytes) {
            let name = prefix + Array(":Label".utf8)
            if let value = XMPRating.attribute(name, in: bytes) ?? XMPRating.element(name, in: bytes),
               let label = ColourLabel(name: String(decoding: value, as: UTF8.self).trimmingWhitespace()) {
                return [label]
            }
        }
        var found = Set<ColourLabel>()
        for prefix in XMPRating.prefixes(boundTo: Array(darktableNamespace.utf8), in: bytes) {
            guard let sequence = XMPRating.element(prefix + Array(":colorlabels".utf8), in: bytes) else { continue }
            // Each item's text: `<rdf:li>2</rdf:li>`, under any prefix.
            let text = Array(sequence)
            var i = 0
            while i < text.count {
                guard text[i] == UInt8(ascii: ">") else { i += 1; continue }
                var j = i + 1
                while j < text.count, text[j] != UInt8(ascii: "<") { j += 1 }
                if let index = Int(String(decoding: text[(i + 1)..<j], as: UTF8.self).trimmingWhitespace()), let label = ColourLabel(rawValue: index) {
                    found.insert(label)
                }
                i = j
            }
        }
        return found.sorted()
    }
}
