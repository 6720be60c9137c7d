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
/// `input`, `output`, `profile` (the profile's name) and `profileArgument` (what `--profile` gave
/// for it, a name or a file: what a retry passes again; two files may hold profiles of one name),
/// `status` (`written`, `failed`, `skipped`), and for a written one
/// its `width`, `height` and `seconds` per phase, for a failed one the `error` line the run printed
/// (and no `output` where it failed before it was named: the header or XMP sidecar that `--name`
/// or `--min-rating` needed could not be read);
/// then each raw `--min-rating` left out, as `input`, `status` `below-rating` and its `rating`,
/// and each raw `--label` left out, as `input`, `status` `without-label` and its `labels`;
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
        var profileArgument: String?
        let status: String
        var width: Int?
        var height: Int?
        var seconds: Seconds?
        var error: String?
        var rating: Int?
        var labels: [ColourLabel]?
    }

    let entries: [Entry]

    /// `profiles`: for each look, the profile's name and the `--profile` argument that named it.
    init(items: [Batch.Item], outcomes: [Batch.Outcome], skipped: [Batch.Item], leftOut: LeftOut = LeftOut(),
         unlisted: [InputFolders.Unlisted],
         profiles: [(name: String, argument: String)]) {
        var entries: [Entry] = []
        func entry(_ item: Batch.Item, _ status: String) -> Entry {
            Entry(input: item.input, output: item.failure == nil ? item.output : nil, profile: profiles[item.look].name, profileArgument: profiles[item.look].argument,
                  status: status)
        }
        for (item, outcome) in zip(items, outcomes) {
            switch outcome {
            case .written(let r):
                let p = r.phases
                var e = entry(item, "written")
                (e.width, e.height) = (r.width, r.height)
                e.seconds = Seconds(decode: p.decode, prepare: p.prepare, renderAndEncode: p.renderAndEncode, sync: p.sync)
                entries.append(e)
            case .failed(_, let message):
                var e = entry(item, "failed")
                e.error = message
                entries.append(e)
            }
        }
        for item in skipped { entries.append(entry(item, "skipped")) }
        for (input, rating) in leftOut.belowRating { entries.append(Entry(input: input, status: "below-rating", rating: rating)) }
        for (input, labels) in leftOut.withoutLabel { entries.append(Entry(input: input, status: "without-label", labels: labels)) }
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
