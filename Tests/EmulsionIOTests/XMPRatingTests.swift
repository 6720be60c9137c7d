import EmulsionCore
import EmulsionTestSupport
import Foundation
import XCTest

@testable import EmulsionIO

/// The photographer's rating (`XMPRating`, `RawFile`'s IFD0 reading). References: the XMP
/// Specification Part 2 §8.4 (xmp:Rating: a real, −1 rejected, 0…5), the forms the tools write
/// — darktable's sidecar (an attribute on rdf:Description, `xmp:Rating="1"`, darktable
/// src/common/exif.cc's XMP writer), ExifTool's (an element) — and ExifTool itself, which writes
/// the Exif Rating tag and the XMP packet into copies of a real DNG here and reads them back.
final class XMPRatingTests: XCTestCase {
    func packet(_ body: String) -> [UInt8] {
        Array("""
        <?xpacket begin="\u{FEFF}" id="W5M0MpCehiHzreSzNTczkc9d"?>
        <x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
        \(body)
        </rdf:RDF></x:xmpmeta><?xpacket end="w"?>
        """.utf8)
    }

    func testPacketsGiveTheRatingTheySay() {
        // darktable's sidecar: attributes on the description, the namespace bound to xmp.
        XCTAssertEqual(XMPRating.rating(inPacket: packet("""
            <rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
              xmlns:darktable="http://darktable.sf.net/" exif:DateTimeOriginal="2024:07:04 21:45:43" xmp:Rating="3"
              darktable:xmp_version="5" darktable:raw_params="0"/>
            """)), 3)
        // ExifTool's: an element; a rejected picture; a fraction rounds.
        XCTAssertEqual(XMPRating.rating(inPacket: packet("""
            <rdf:Description rdf:about='' xmlns:xmp='http://ns.adobe.com/xap/1.0/'> <xmp:Rating>-1</xmp:Rating> </rdf:Description>
            """)), -1)
        XCTAssertEqual(XMPRating.rating(inPacket: packet(#"<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating = ' 4.4 '/>"#)), 4)
        // Whatever prefix binds the namespace; a look-alike prefix or namespace is not it.
        XCTAssertEqual(XMPRating.rating(inPacket: packet(#"<rdf:Description xmlns:xap="http://ns.adobe.com/xap/1.0/" xap:Rating="5"/>"#)), 5)
        XCTAssertNil(XMPRating.rating(inPacket: packet(#"<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/mm/" xmp:Rating="5"/>"#)))
        XCTAssertNil(XMPRating.rating(inPacket: packet(#"<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" myxmp:Rating="5"/>"#)))
        XCTAssertEqual(XMPRating.rating(inPacket: packet(#"<d xmlns:xmp="http://ns.adobe.com/xap/1.0/" myxmp:Rating="5" xmp:Rating="2"/>"#)), 2)
        // Outside −1…5, not a number, no rating, no packet: none.
        for value in ["6", "-2", "three", "", "1e400", "nan"] {
            XCTAssertNil(XMPRating.rating(inPacket: packet(#"<d xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="\#(value)"/>"#)), value)
        }
        XCTAssertNil(XMPRating.rating(inPacket: packet(#"<d xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Label="Red"/>"#)))
        XCTAssertNil(XMPRating.rating(inPacket: []))
        XCTAssertNil(XMPRating.rating(inPacket: Array(#"xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="3"#.utf8)), "an unterminated value")
    }

    /// A sidecar named as darktable names it wins over Lightroom's; one without a rating is passed by.
    func testSidecarsAreFoundByEitherName() throws {
        let dir = TestSupport.temporaryDirectory("xmp-sidecar")
        defer { try? FileManager.default.removeItem(at: dir) }
        let raw = dir.appendingPathComponent("IMG_0001.CR2").path
        XCTAssertNil(try XMPRating.sidecar(of: raw))
        try Data(packet(#"<d xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="2"/>"#)).write(to: dir.appendingPathComponent("IMG_0001.xmp"))
        XCTAssertEqual(try XMPRating.sidecar(of: raw)?.rating, 2)
        XCTAssertEqual(try XMPRating.sidecar(of: raw)?.path, dir.appendingPathComponent("IMG_0001.xmp").path)
        try Data(packet(#"<d xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Label="Red"/>"#)).write(to: dir.appendingPathComponent("IMG_0001.CR2.XMP"))
        XCTAssertEqual(try XMPRating.sidecar(of: raw)?.rating, 2, "a sidecar without a rating is passed by")
        try Data(packet(#"<d xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="-1"/>"#)).write(to: dir.appendingPathComponent("IMG_0001.CR2.xmp"))
        XCTAssertEqual(try XMPRating.sidecar(of: raw)?.rating, -1, "darktable's name first")
        // A raw without an extension in a dotted folder: its folder's name is no stem.
        let dotted = dir.appendingPathComponent("2024.07")
        try FileManager.default.createDirectory(at: dotted, withIntermediateDirectories: true)
        try Data(packet(#"<d xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="5"/>"#)).write(to: dir.appendingPathComponent("2024.xmp"))
        XCTAssertNil(try XMPRating.sidecar(of: dotted.appendingPathComponent("RAW0001").path))
    }

    /// The rating a raw records itself, as ExifTool wrote it: the Exif Rating tag (IFD0 0x4746)
    /// and xmp:Rating in the DNG's XMP packet (tag 700); read alike by the decode and the header
    /// read; none in the untouched sample.
    func testTheRatingARawRecordsAsExifToolWroteIt() throws {
        guard let exiftool = TestSupport.which("exiftool") else {
            if TestSupport.inCI { XCTFail("exiftool missing") }
            throw XCTSkip("exiftool missing")
        }
        let source = TestSupport.samplesDirectory.appendingPathComponent("lg-g4_h815-lossy_linear.dng")
        guard FileManager.default.fileExists(atPath: source.path) else {
            if TestSupport.inCI { XCTFail("sample missing") }
            throw XCTSkip("sample missing")
        }
        let dir = TestSupport.temporaryDirectory("xmp-embedded")
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertNil(try RawFile.read(path: source.path).metadata.rating)
        for (tag, value, expected) in [("EXIF:Rating", "4", 4), ("EXIF:Rating", "0", 0), ("XMP-xmp:Rating", "2", 2), ("XMP-xmp:Rating", "-1", -1)] {
            let copy = dir.appendingPathComponent("\(tag.prefix(4))\(value).dng").path
            try FileManager.default.copyItem(atPath: source.path, toPath: copy)
            let written = try TestSupport.run(exiftool, ["-q", "-overwrite_original", "-\(tag)=\(value)", copy])
            XCTAssertEqual(written.status, 0, written.stderr)
            let back = try TestSupport.run(exiftool, ["-s3", "-\(tag)", copy]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertEqual(back, value, "ExifTool reads back what it wrote")
            XCTAssertEqual(try RawFile.read(path: copy).metadata.rating, expected, "\(tag)=\(value)")
            XCTAssertEqual(try RawFile.readShotMetadata(path: copy).rating, expected, "\(tag)=\(value), header only")
        }
    }
}
