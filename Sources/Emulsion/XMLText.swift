/// Escaping for the XML Emulsion writes (JUnit reports, darktable styles): text and attribute
/// values. XML 1.0 cannot hold most control characters, not even as references, so they are dropped.
enum XMLText {
    /// Character data: `&`, `<`, `>` escaped; tabs and line breaks kept.
    static func text(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\t", "\n", "\r": out.unicodeScalars.append(u)
            default:
                if u.value >= 0x20 && !(0xFFFE...0xFFFF).contains(u.value) { out.unicodeScalars.append(u) }
            }
        }
        return out
    }

    /// An attribute value in double quotes; line breaks as references, which attribute-value
    /// normalisation would otherwise turn into spaces.
    static func attribute(_ s: String) -> String {
        text(s).replacing("\"", with: "&quot;").replacing("\n", with: "&#10;")
    }
}
