import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `--name TEMPLATE`: each output's path below the output folder, from the input's name and the
/// shot's metadata, e.g. `{year}/{date}/{name}-{look}` → `2024/2024-07-04/PXL_0001-leica-vibrant.png`.
///
/// Why: a library developed from thousands of raws is filed by date, camera or look, not in one
/// flat folder named after the inputs. darktable-cli takes its export module's variables in the
/// output name (`$(FILE_NAME)`, `$(EXIF.YEAR)`, `$(MAKER)`, `$(SEQUENCE)`…, darktable-cli(1));
/// rawtherapee-cli and dcraw_emu have no such thing.
///
/// A template is parsed once, before anything runs: a variable it does not know, an unbalanced
/// brace, an absolute path, a `..`, or an image extension at its end (the format adds that) is a
/// usage error naming the template. `{{` and `}}` are literal braces. Values never add folders:
/// a `/` in a camera's model becomes `_`, as do control characters, and a value that is `.` or
/// `..` is `_`, as is a level that text and values make `.` or `..` together; only `{subfolder}`
/// (the input's folders below a folder walked with `-r`) holds slashes. Empty folder levels (an
/// empty `{subfolder}`) are dropped.
///
/// Shot variables (`needsShot`) come from the raw's header (`RawFile.readShotMetadata`, read
/// for every input before the batch is planned, so that two outputs meeting at one name are
/// found before any is written and `--skip-existing` needs no decode). The capture time is the
/// camera's clock (`CaptureTime`); a raw that records none gives zeros (`0000-00-00`, `000000`),
/// which sort first; a raw without a make, model or lens gives `unknown` for it. `{rating}` is
/// the photographer's (−1 rejected, 0 unrated, 1…5; an XMP sidecar's before the raw's own,
/// `XMPRating`). `{label}` is the sidecar's colour labels (`XMPLabels`): `green`, `red+green`
/// for several, `unlabelled` for none; it is read from the sidecar without opening the raw.
public struct OutputNaming: Sendable, Equatable {
    public enum Variable: String, CaseIterable, Sendable {
        case name, ext, folder, subfolder, look, seq
        case date, time, year, month, day, hour, minute, second
        case make, model, lens, iso, rating
        case label

        /// Whether the value comes from the raw's header rather than its path (or, for
        /// `{label}`, its XMP sidecar alone).
        public var isShot: Bool {
            switch self {
            case .name, .ext, .folder, .subfolder, .look, .seq, .label: return false
            default: return true
            }
        }
    }

    enum Part: Sendable, Equatable {
        case text(String)
        case variable(Variable)
    }

    public let template: String
    let parts: [Part]

    /// What one input gives the template.
    public struct Values: Sendable {
        public var input: InputFolders.Found
        public var look: String
        /// 1-based position of the input among all the run's inputs sorted by path (before
        /// `--shard`, so that shards never number two files alike), and how many there are.
        public var sequence: Int
        public var count: Int
        public var shot: ShotMetadata?

        public init(input: InputFolders.Found, look: String, sequence: Int, count: Int, shot: ShotMetadata?) {
            self.input = input
            self.look = look
            self.sequence = sequence
            self.count = count
            self.shot = shot
        }
    }

    public init(parsing template: String) throws {
        func fail(_ problem: String) -> RenderError { RenderError("--name \(template): \(problem)") }
        guard !template.isEmpty else { throw fail("an empty template") }
        var parts: [Part] = [], literal = ""
        var i = template.startIndex
        while i < template.endIndex {
            let c = template[i]
            let next = template.index(after: i)
            if (c == "{" || c == "}"), next < template.endIndex, template[next] == c {
                literal.append(c)
                i = template.index(after: next)
                continue
            }
            if c == "}" { throw fail("a } without its { (write }} for a brace)") }
            guard c == "{" else {
                literal.append(c)
                i = next
                continue
            }
            guard let close = template[next...].firstIndex(of: "}") else { throw fail("a { without its } (write {{ for a brace)") }
            let name = String(template[next..<close])
            guard let variable = Variable(rawValue: name) else {
                throw fail("no variable {\(name)}; the variables are " + Variable.allCases.map { "{\($0.rawValue)}" }.joined(separator: " "))
            }
            if !literal.isEmpty { parts.append(.text(literal)); literal = "" }
            parts.append(.variable(variable))
            i = template.index(after: close)
        }
        if !literal.isEmpty { parts.append(.text(literal)) }
        if template.hasPrefix("/") { throw fail("an absolute path; it names the output below the output folder (--out-dir)") }
        if template.hasSuffix("/") { throw fail("ends in a folder; end it with the file's name") }
        let literalText = parts.map { if case .text(let t) = $0 { return t } else { return "x" } }.joined()
        if literalText.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) {
            throw fail("a . or .. folder; it names the output below the output folder (--out-dir)")
        }
        if case .text(let last) = parts.last, ImageFile.namesWrittenFormat(last) {
            throw fail("ends in .\(ImageFile.fileExtension(of: last)); leave the extension out (the output format adds it)")
        }
        self.template = template
        self.parts = parts
    }

    /// Whether the template uses `variable`.
    public func uses(_ variable: Variable) -> Bool { parts.contains(.variable(variable)) }

    /// Whether the template needs the raw's header (`Variable.isShot`).
    public var needsShot: Bool { parts.contains { if case .variable(let v) = $0 { return v.isShot } else { return false } } }

    /// The output's path below the output folder, without extension; nil when every level is empty.
    public func path(for values: Values) -> String? {
        let text = parts.map { part -> String in
            switch part {
            case .text(let t): return t
            case .variable(let v): return value(v, values)
            }
        }.joined()
        // A level that values and text make "." or ".." together ("{ext}.." for a file without
        // an extension) must not leave the output folder either.
        let levels = text.split(separator: "/", omittingEmptySubsequences: true).map { $0 == "." || $0 == ".." ? "_" : $0 }
        return levels.isEmpty ? nil : levels.joined(separator: "/")
    }

    private func value(_ variable: Variable, _ v: Values) -> String {
        let url = URL(fileURLWithPath: v.input.path)
        switch variable {
        case .name: return Self.safe(url.deletingPathExtension().lastPathComponent)
        case .ext: return Self.safe(url.pathExtension)
        case .folder: return Self.safe(url.deletingLastPathComponent().lastPathComponent)
        case .subfolder: return v.input.subfolder.split(separator: "/").map { Self.safe(String($0)) }.joined(separator: "/")
        case .look: return Self.safe(v.look)
        case .seq: return Self.padded(v.sequence, max(4, String(v.count).count))
        case .make: return Self.safe(known(v.shot?.make))
        case .model: return Self.safe(known(v.shot?.model))
        case .lens: return Self.safe(known(v.shot?.lens))
        case .rating: return String(v.shot?.rating ?? 0)
        case .label:
            let labels = v.shot?.labels ?? []
            return labels.isEmpty ? "unlabelled" : labels.map(\.name).joined(separator: "+")
        case .iso:
            let iso = v.shot?.iso ?? 0
            return iso.isFinite && iso >= 1 && iso < 1e9 ? String(Int(iso.rounded())) : "0"
        default:
            // Year, month, day, hour, minute, second of the camera's clock; zeros for none.
            let clock = CaptureTime.wallClock(v.shot?.timestamp ?? 0).flatMap { (0...9999).contains($0[0]) ? $0 : nil } ?? [0, 0, 0, 0, 0, 0]
            let p = [Self.padded(clock[0], 4)] + clock.dropFirst().map { Self.padded($0, 2) }
            switch variable {
            case .date: return p[0] + "-" + p[1] + "-" + p[2]
            case .time: return p[3] + p[4] + p[5]
            case .year: return p[0]
            case .month: return p[1]
            case .day: return p[2]
            case .hour: return p[3]
            case .minute: return p[4]
            default: return p[5]
            }
        }
    }

    private func known(_ text: String?) -> String {
        guard let text, !text.isEmpty else { return "unknown" }
        return text
    }

    /// A value as one file-name part: no folder separators, no control characters, not `.` or `..`.
    static func safe(_ value: String) -> String {
        let cleaned = String(String.UnicodeScalarView(value.unicodeScalars.map {
            $0 == "/" || $0.value < 0x20 || $0.value == 0x7F ? "_" : $0
        }))
        return cleaned == "." || cleaned == ".." ? "_" : cleaned
    }

    static func padded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
