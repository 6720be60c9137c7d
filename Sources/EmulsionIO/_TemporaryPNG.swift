// TEMPORARY stand-in until the PNG facade lands (branch png); deleted at merge.
public struct PNGImage { public var width, height, bitDepth, channels: Int; public var samples: [UInt16]; public var iccProfile: [UInt8]?
    public init(width: Int, height: Int, bitDepth: Int, channels: Int, samples: [UInt16], iccProfile: [UInt8]?) {
        self.width = width; self.height = height; self.bitDepth = bitDepth; self.channels = channels; self.samples = samples; self.iccProfile = iccProfile } }
public struct PNGEncodingOptions { public init() {} }
public enum PNGFile {
    public static func encode(_ image: PNGImage, options: PNGEncodingOptions) throws -> [UInt8] {
        // PPM-ish placeholder
        var out = Array("P6\n\(image.width) \(image.height)\n65535\n".utf8)
        for s in image.samples { out.append(UInt8(s >> 8)); out.append(UInt8(s & 0xff)) }
        return out
    }
}
