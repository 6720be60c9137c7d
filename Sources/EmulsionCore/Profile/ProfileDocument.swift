/// Writes profile documents the way the shipped files are laid out, so files written by the tools
/// (`profile new`, `profile set`, `profile import`) diff cleanly against hand-written ones:
/// `schemaVersion`, `name`, `description`, `extends` first, then one line per stage in pipeline
/// order with its parameters in declaration order; numbers in Swift's shortest round-trip form
/// (0.18 stays 0.18).
public enum ProfileDocument {
    public static func format(_ document: JSONValue) -> String {
        guard case .object(let object) = document else { return value(document) + "\n" }
        var lines: [String] = []
        let meta = ["schemaVersion", "name", "description", "extends"]
        for key in meta { if let v = object[key] { lines.append("  \(quote(key)): \(value(v))") } }
        var seen = Set(meta)
        for stage in StageCatalogue.all {
            guard let v = object[stage.name] else { continue }
            seen.insert(stage.name)
            guard case .object(let params) = v else { lines.append("  \(quote(stage.name)): \(value(v))"); continue }
            let order = stage.parameters.map(\.name).filter { params[$0] != nil } + params.keys.filter { stage.parameter($0) == nil }.sorted()
            let parts = order.map { "\(quote($0)): \(value(params[$0]!))" }
            let single = "  \(quote(stage.name)): { " + parts.joined(separator: ", ") + " }"
            if single.count <= 110 || parts.count <= 1 {
                lines.append(parts.isEmpty ? "  \(quote(stage.name)): {}" : single)
            } else {
                lines.append("  \(quote(stage.name)): {\n" + parts.map { "    " + $0 }.joined(separator: ",\n") + "\n  }")
            }
        }
        for key in object.keys.sorted() where !seen.contains(key) { lines.append("  \(quote(key)): \(value(object[key]!))") }
        return "{\n" + lines.joined(separator: ",\n") + "\n}\n"
    }

    static func value(_ v: JSONValue) -> String {
        switch v {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int(n)) : String(n)
        case .string(let s): return quote(s)
        case .array(let items): return "[" + items.map(value).joined(separator: ", ") + "]"
        case .object(let o): return "{ " + o.keys.sorted().map { "\(quote($0)): \(value(o[$0]!))" }.joined(separator: ", ") + " }"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
