import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The input Emulsion provides when none is given: the synthetic colour chart (true colours
/// known), written as a real DNG so it travels the same LibRaw path as camera files.
public enum SyntheticInput {
    public static func writeDefaultChart(to path: String) throws {
        try DNGWriter.write(SyntheticScene().render(), to: URL(fileURLWithPath: path))
    }
}
