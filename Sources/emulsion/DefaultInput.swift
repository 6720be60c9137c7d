import Emulsion
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The input used when none is given: Emulsion's synthetic chart, written as a DNG.
enum DefaultInput {
    static func write(into directory: String) throws -> String {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("emulsion-synthetic-chart.dng").path
        try SyntheticInput.writeDefaultChart(to: path)
        return path
    }
}
