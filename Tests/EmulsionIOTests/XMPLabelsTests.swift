import EmulsionCore
import EmulsionTestSupport
import Foundation
import XCTest

@testable import EmulsionIO

/// Colour labels from XMP (`XMPLabels`). References: darktable 4.2's src/common/exif.cc, which
/// reads `Xmp.xmp.Label` ("Red", "Yellow", "Green", "Blue", "Purple") before its own
/// `Xmp.darktable.colorlabels` (an rdf:Seq of indices, colorlabels.c: 0 red … 4 purple) and
/// writes only the latter, in the shape below (an element holding rdf:Seq/rdf:li); the XMP
/// Specification Part 2 §8.4 (xmp:Label, text, as Lightroom and Bridge write it).
final class XMPLabelsTests: XCTestCase {
    func packet(_ body: String) -> [UInt8] {
        Array("""
        <x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
        \(body)
        </rdf:RDF></x:xmpmeta>
        """.utf8)
    }

    func testPacketsGiveTheLabelsTheySay() {
        // darktable's sidecar: several labels, in any order, each once, in darktable's order.
        XCTAssertEqual(XMPLabels.labels(inPacket: packet("""
            <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:darktable="http://darktable.sf.net/"
              xmp:Rating="2" darktable:xmp_version="5">
             <darktable:colorlabels>
              <rdf:Seq>
               <rdf:li>4</rdf:li>
               <rdf:li>0</rdf:li>
               <rdf:li>4</rdf:li>
              </rdf:Seq>
             </darktable:colorlabels>
            </rdf:Description>
            """)), [.red, .purple])
        // Another prefix for darktable's namespace; an index outside 0…4 is no label.
        XCTAssertEqual(XMPLabels.labels(inPacket: packet("""
            <d xmlns:dt="http://darktable.sf.net/"><dt:colorlabels><rdf:Seq><rdf:li> 2 </rdf:li><rdf:li>7</rdf:li></rdf:Seq></dt:colorlabels></d>
            """)), [.green])
        // Lightroom's xmp:Label, attribute or element, any case; it wins over darktable's list, as in darktable.
        XCTAssertEqual(XMPLabels.labels(inPacket: packet(#"<d xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Label="Blue"/>"#)), [.blue])
        XCTAssertEqual(XMPLabels.labels(inPacket: packet("<d xmlns:xap='http://ns.adobe.com/xap/1.0/'><xap:Label>yellow</xap:Label></d>")), [.yellow])
        XCTAssertEqual(XMPLabels.labels(inPacket: packet("""
            <d xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:darktable="http://darktable.sf.net/" xmp:Label="Purple">
            <darktable:colorlabels><rdf:Seq><rdf:li>0</rdf:li></rdf:Seq></darktable:colorlabels></d>
            """)), [.purple])
        // A Label that names no colour (Lightroom's "To Do", Bridge's "Approved") falls through to darktable's.
        XCTAssertEqual(XMPLabels.labels(inPacket: packet("""
            <d xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:darktable="http://darktable.sf.net/" xmp:Label="To Do">
            <darktable:colorlabels><rdf:Seq><rdf:li>1</rdf:li></rdf:Seq></darktable:colorlabels></d>
            """)), [.yellow])
        // None: no labels, a look-alike namespace, no packet.
        XCTAssertEqual(XMPLabels.labels(inPacket: packet(#"<d xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="5"/>"#)), [])
        XCTAssertEqual(XMPLabels.labels(inPacket: packet(#"<d xmlns:xmp="http://ns.adobe.com/xap/1.0/mm/" xmp:Label="Red"/>"#)), [])
        XCTAssertEqual(XMPLabels.labels(inPacket: []), [])
        XCTAssertEqual(ColourLabel(name: "GREEN"), .green)
        XCTAssertNil(ColourLabel(name: "orange"))
    }

    /// The rating and the labels may come from different sidecars: each from the first that holds it.
    func testSidecarTagsTakeEachFactFromTheFirstSidecarThatHoldsIt() throws {
        let dir = TestSupport.temporaryDirectory("xmp-labels")
        defer { try? FileManager.default.removeItem(at: dir) }
        let raw = dir.appendingPathComponent("IMG_0001.NEF").path
        let none = try XMPRating.sidecarTags(of: raw)
        XCTAssertTrue(none.rating == nil && none.labels == nil)
        try Data(packet(#"<d xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="4" xmp:Label="Green"/>"#)).write(to: dir.appendingPathComponent("IMG_0001.xmp"))
        try Data(packet(#"<d xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="1"/>"#)).write(to: dir.appendingPathComponent("IMG_0001.NEF.xmp"))
        let tags = try XMPRating.sidecarTags(of: raw)
        XCTAssertEqual(tags.rating?.value, 1)
        XCTAssertEqual(tags.rating?.path, raw + ".xmp")
        XCTAssertEqual(tags.labels?.value, [.green])
        XCTAssertEqual(tags.labels?.path, dir.appendingPathComponent("IMG_0001.xmp").path)
    }
}
