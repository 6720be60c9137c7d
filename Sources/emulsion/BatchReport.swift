import Emulsion
import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `emulsion process --report FILE`: what happened to each output of a batch, as JSON, for the
/// script or pipeline that runs thousands of files and must know which to retry without
/// parsing standard error.
///
/// One entry per planned output, in plan order, then the ones `--skip-existing` left alone:
/// `input`, `output`, `profile`, `status` (`written`, `failed`, `skipped`), and for a written one
/// its `width`, `height` and `seconds` per phase, for a failed one the `error` line the run printed;
/// last, each subfolder of a `--recursive` walk that could not be listed, as `input` (the folder),
/// `status` `unread` and its `error` (no `output` or `profile`: nothing of it was planned).
/// Written atomically when the batch ends, whatever the exit status (replacing an earlier report).
struct BatchReport: Encodable {
    struct Seconds: Encodable {
        let decode: Double
        let prepare: Double
        let renderAndEncode: Double
        let sync: Double
    }

    struct Entry: Encodable {
        let input: String
        var output: String?
        var profile: String?
        let status: String
        var width: Int?
        var height: Int?
        var seconds: Seconds?
        var error: String?
    }

    let entries: [Entry]

    init(items: [Batch.Item], outcomes: [Batch.Outcome], skipped: [Batch.Item], unlisted: [InputFolders.Unlisted], lookNames: [String]) {
        var entries: [Entry] = []
        for (item, outcome) in zip(items, outcomes) {
            let look = lookNames[item.look]
            switch outcome {
            case .written(let r):
                let p = r.phases
                entries.append(Entry(input: item.input, output: item.output, profile: look, status: "written", width: r.width, height: r.height,
                                     seconds: Seconds(decode: p.decode, prepare: p.prepare, renderAndEncode: p.renderAndEncode, sync: p.sync)))
            case .failed(_, let message):
                entries.append(Entry(input: item.input, output: item.output, profile: look, status: "failed", error: message))
            }
        }
        for item in skipped {
            entries.append(Entry(input: item.input, output: item.output, profile: lookNames[item.look], status: "skipped"))
        }
        for folder in unlisted {
            entries.append(Entry(input: folder.folder, status: "unread", error: folder.message))
        }
        self.entries = entries
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(entries)
    }

    /// The report's bytes: a JSON array, keys sorted, paths with their slashes as they are.
    func json() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self)) + [0x0A]
    }
}
