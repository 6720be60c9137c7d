import EmulsionCore
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The photographer's rating from XMP: a raw's embedded packet (tag 700), or the sidecar an
/// editor wrote beside it — darktable's `IMG_0001.CR2.xmp`, Lightroom's and digiKam's
/// `IMG_0001.xmp` — so a batch can render the picks (`--min-rating`) or file by stars
/// (`{rating}`).
///
/// What is read: `xmp:Rating` of the XMP basic schema (namespace `http://ns.adobe.com/xap/1.0/`,
/// under whatever prefix the packet binds it to), as an attribute (`xmp:Rating="3"`: darktable,
/// Lightroom) or as an element (`<xmp:Rating>3</xmp:Rating>`: ExifTool). XMP Specification
/// Part 2 §8.4: a real number, −1 for rejected, 0 unrated, 1…5; a fraction is rounded, a value
/// outside −1…5 is no rating. Only the packet's text is scanned (no XML parser: a sidecar with
/// an editor's whole history is read once, in under a millisecond); a packet that names the
/// rating twice gives the first.
public enum XMPRating {
    /// Ratings that mean something: rejected, unrated, one to five stars.
    public static let range = -1...5
    /// Bytes of a sidecar read at most (darktable's, with a long history, are ~100 KB).
    static let sidecarLimit = 16 << 20
    static let namespace = "http://ns.adobe.com/xap/1.0/"

    /// The rating an XMP packet gives, or nil.
    public static func rating(inPacket bytes: [UInt8]) -> Int? {
        for prefix in prefixes(boundTo: Array(namespace.utf8), in: bytes) {
            let name = prefix + Array(":Rating".utf8)
            if let value = attribute(name, in: bytes) ?? element(name, in: bytes) {
                guard let number = Double(String(decoding: value, as: UTF8.self).trimmingWhitespace()), number.isFinite,
                      let rating = Int(exactly: number.rounded()), range.contains(rating) else { return nil }
                return rating
            }
        }
        return nil
    }

    /// An XMP packet that says the shot's rating and colour labels and nothing else (XMP
    /// Specification Part 1 §7.3, the packet wrapper; Part 2 §8.4, xmp:Rating and xmp:Label), for
    /// an output to carry: a PNG's iTXt "XML:com.adobe.xmp", a JPEG's APP1
    /// "http://ns.adobe.com/xap/1.0/", a TIFF's tag 700, where darktable, Lightroom and digiKam
    /// read a file's stars and labels. xmp:Label holds the first label's name as Lightroom writes
    /// it ("Green"); darktable's own `darktable:colorlabels` holds them all. Nil when the shot has
    /// neither a rating nor a label.
    public static func packet(rating: Int?, labels: [ColourLabel] = []) -> [UInt8]? {
        guard rating != nil || !labels.isEmpty else { return nil }
        var attributes = rating.map { " xmp:Rating=\"\($0)\"" } ?? ""
        var body = ""
        if let first = labels.first {
            attributes += " xmp:Label=\"\(first.name.prefix(1).uppercased() + first.name.dropFirst())\""
            body = "<darktable:colorlabels><rdf:Seq>" + labels.map { "<rdf:li>\($0.rawValue)</rdf:li>" }.joined()
                + "</rdf:Seq></darktable:colorlabels>"
        }
        let namespaces = " xmlns:xmp=\"\(namespace)\"" + (labels.isEmpty ? "" : " xmlns:darktable=\"\(XMPLabels.darktableNamespace)\"")
        let description = "<rdf:Description rdf:about=\"\"" + namespaces + attributes + (body.isEmpty ? "/>" : ">" + body + "</rdf:Description>")
        return Array(("<?xpacket begin=\"\u{FEFF}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
            + "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
            + description + "</rdf:RDF></x:xmpmeta>\n<?xpacket end=\"r\"?>").utf8)
    }

    /// What a raw's XMP sidecars say, each fact with the sidecar it came from.
    public struct SidecarTags: Sendable {
        /// The rating of the first sidecar that holds one.
        public var rating: (path: String, value: Int)?
        /// The colour labels of the first sidecar that holds any (`XMPLabels`).
        public var labels: (path: String, value: [ColourLabel])?
    }

    /// The rating and the colour labels (those wanted) the sidecars of `rawPath` give:
    /// `NAME.EXT.xmp` (darktable) before `NAME.xmp` (Lightroom, digiKam), either case of "xmp";
    /// each read once, and only until what is wanted is found. Throws, naming the sidecar, when
    /// one that is reached exists but cannot be read (a picture's rating or label may be in it).
    public static func sidecarTags(of rawPath: String, rating wantsRating: Bool = true, labels wantsLabels: Bool = true) throws -> SidecarTags {
        // The extension is the file name's, not a dotted folder's ("/shoots/2024.07/IMG" has none).
        let nameStart = rawPath.lastIndex(of: "/").map { rawPath.index(after: $0) } ?? rawPath.startIndex
        let stem = rawPath[nameStart...].lastIndex(of: ".").map { String(rawPath[..<$0]) }
        let names = [rawPath + ".xmp", rawPath + ".XMP"] + (stem.map { [$0 + ".xmp", $0 + ".XMP"] } ?? [])
        var tags = SidecarTags()
        for name in names where (wantsRating && tags.rating == nil) || (wantsLabels && tags.labels == nil) {
            var info = stat()
            guard stat(name, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            let descriptor = open(name, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw RawFileError(path: rawPath, problem: "cannot read its XMP sidecar \(name): \(String(cString: strerror(errno)))")
            }
            close(descriptor)
            // As many bytes as the file holds (`prefix` allocates what it is asked for), up to the limit.
            let packet = PlainFile.prefix(of: name, count: min(Int(clamping: Int64(info.st_size)), sidecarLimit))
            if wantsRating, tags.rating == nil, let rating = rating(inPacket: packet) { tags.rating = (name, rating) }
            if wantsLabels, tags.labels == nil, case let labels = XMPLabels.labels(inPacket: packet), !labels.isEmpty { tags.labels = (name, labels) }
        }
        return tags
    }

    /// The sidecar of `rawPath` that holds a rating, and the rating (`sidecarTags(of:)` for the
    /// rating alone); nil when none holds one.
    public static func sidecar(of rawPath: String) throws -> (path: String, rating: Int)? {
        try sidecarTags(of: rawPath, labels: false).rating.map { ($0.path, $0.value) }
    }

    /// The prefixes `xmlns:PREFIX="uri"` binds to `uri`.
    static func prefixes(boundTo uri: [UInt8], in text: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var from = 0
        while let found = find(Array("xmlns:".utf8), in: text, from: from) {
            from = found + 6
            var end = from
            while end < text.count, isNameByte(text[end]) { end += 1 }
            if end > from, let value = quotedValue(in: text, after: end), text[value] == uri[...] { out.append(Array(text[from..<end])) }
        }
        return out
    }

    /// The value of the first attribute `name="…"` (or `'…'`), or nil.
    static func attribute(_ name: [UInt8], in text: [UInt8]) -> ArraySlice<UInt8>? {
        var from = 0
        while let found = find(name, in: text, from: from) {
            from = found + name.count
            // A whole name: not the tail of a longer one ("myxmp:Rating", "<xmp:Rating").
            if found > 0, isNameByte(text[found - 1]) || [UInt8(ascii: ":"), UInt8(ascii: "<"), UInt8(ascii: "/")].contains(text[found - 1]) {
                continue
            }
            if let value = quotedValue(in: text, after: from) { return text[value] }
        }
        return nil
    }

    /// The text of the first element `<name>…</name>`, or nil.
    static func element(_ name: [UInt8], in text: [UInt8]) -> ArraySlice<UInt8>? {
        let open = Array("<".utf8) + name + Array(">".utf8), close = Array("</".utf8) + name + Array(">".utf8)
        guard let start = find(open, in: text, from: 0), let end = find(close, in: text, from: start + open.count) else { return nil }
        return text[(start + open.count)..<end]
    }

    /// Where the quoted value of `= "…"` starting at `index` lies (spaces allowed around `=`).
    private static func quotedValue(in text: [UInt8], after index: Int) -> Range<Int>? {
        var i = index
        func skipSpaces() { while i < text.count, [0x20, 0x09, 0x0A, 0x0D].contains(text[i]) { i += 1 } }
        skipSpaces()
        guard i < text.count, text[i] == UInt8(ascii: "=") else { return nil }
        i += 1
        skipSpaces()
        guard i < text.count, text[i] == UInt8(ascii: "\"") || text[i] == UInt8(ascii: "'") else { return nil }
        let quote = text[i]
        guard let end = text[(i + 1)...].firstIndex(of: quote) else { return nil }
        return (i + 1)..<end
    }

    private static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "_")
            || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b >= 0x80
    }

    /// The first index at or after `from` where `needle` starts in `text`.
    private static func find(_ needle: [UInt8], in text: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, text.count >= needle.count, from <= text.count - needle.count else { return nil }
        var i = from
        while i <= text.count - needle.count {
            if text[i] == needle[0], text[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
