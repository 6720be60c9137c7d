/// A darktable style (`.dtstyle`) that applies a look's Hald CLUT through darktable's `lut 3D`
/// module, for colour authors who finish in darktable (import it in the lighttable's styles
/// module, or `darktable-cli --style NAME` once imported).
///
/// Why a style and not a sidecar: an XMP sidecar's history replaces the image's own and darktable
/// then leaves out its default scene-referred modules, so the look would sit on a flat rendering;
/// a style is appended to whatever the image's history is.
///
/// The file is darktable's style XML (darktable 4.2's `src/common/styles.c` import: `<info>` with
/// name and description, one `<plugin>` per module with its parameters hex-encoded), holding one
/// `lut3d` item at parameter version 3 (what darktable 4.2 writes and reads), whose parameters
/// are the C struct `dt_iop_lut3d_params_t` laid out as x86-64 and ARM64 compilers lay it out:
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 512 | `filepath`: the LUT, relative to darktable's 3D LUT root folder, NUL-terminated |
/// | 512 | 4 | `colorspace`: 0 = sRGB (the space the LUT is applied in, converted to and back) |
/// | 516 | 4 | `interpolation`: 0 = tetrahedral |
/// | 520 | 4 | `nb_keypoints`: 0 (no G'MIC-compressed LUT) |
/// | 524 | 12288 | `c_clut`: zeros |
/// | 12812 | 128 | `lutname`: empty |
///
/// Blending is left out, so darktable gives the module its default (normal, full opacity):
/// blend parameters change layout between darktable versions, module parameters have not.
/// darktable places `lut 3D` after filmic/sigmoid in its default module order, where the image is
/// display-referred: the LUT then does to darktable's rendering what it does to Emulsion's
/// neutral sRGB one. darktable finds the LUT file only below the root folder set in its
/// preferences (processing › 3D lut root folder), so the export names the CLUT relative to it.
public enum DarktableStyle {
    /// The most bytes of a relative LUT path (`filepath` is 512 bytes with its terminating NUL).
    public static let maximumPathBytes = 511

    /// The `lut3d` parameter block for a LUT at `relativePath` below the root folder.
    public static func lutParameters(relativePath: String) -> [UInt8] {
        let path = Array(relativePath.utf8)
        precondition(path.count <= maximumPathBytes && !path.contains(0))
        var bytes = path + [UInt8](repeating: 0, count: 512 - path.count)
        // colorspace sRGB, interpolation tetrahedral, nb_keypoints 0 (little-endian int32s), then
        // the empty compressed LUT and LUT name.
        bytes += [UInt8](repeating: 0, count: 12 + 2048 * 2 * 3 + 128)
        return bytes
    }

    /// The style document: `name` is the style's name in darktable (`|` groups styles into folders).
    public static func document(name: String, description: String, lutRelativePath: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var ascii: [UInt8] = []
        for byte in lutParameters(relativePath: lutRelativePath) {
            ascii.append(digits[Int(byte >> 4)]); ascii.append(digits[Int(byte & 15)])
        }
        let hex = String(decoding: ascii, as: UTF8.self)
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <darktable_style version="1.0">
            <info>
            <name>\(XMLText.text(name))</name>
            <description>\(XMLText.text(description))</description>
            </info>
            <style>
            <plugin>
            <num>0</num>
            <module>3</module>
            <operation>lut3d</operation>
            <op_params>\(hex)</op_params>
            <enabled>1</enabled>
            <multi_priority>0</multi_priority>
            <multi_name></multi_name>
            </plugin>
            </style>
            </darktable_style>

            """
    }
}
