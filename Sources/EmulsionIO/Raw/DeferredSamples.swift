#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Samples the decode worker leaves in the file for its parent to read: where they lie and how
/// they are stored, instead of the samples themselves.
///
/// Why: piping a decoded raw from the worker costs a write, a read and a copy of every sample
/// (a 5.3 MP NEF: 10.6 MB, ~10 ms of the 0.06 s decode; the 9 MP Blackmagic DNG's tiles: 18 MB,
/// 30–45 ms with the worker's own start). The readers below are Emulsion's own code over plain
/// reads, bounded by the image's size and checked against the bytes they are given, not LibRaw,
/// so nothing that can hang leaves the worker (see `RawDecoder`): LibRaw still identifies the
/// file and supplies every piece of metadata.
enum DeferredSamples: Sendable, Equatable {
    /// An uncompressed DNG's rows, read in place (`UncompressedSamples`).
    case uncompressed(UncompressedSamples)
    /// An LJ92 (or DCT) DNG's tiles (`LosslessDNGTiles`), decoded in parallel by the parent.
    case losslessTiles(LosslessDNGTiles)
    /// A compressed NEF's Huffman stream (`NikonCompressedSamples`), whose variant the worker
    /// has checked is one Emulsion decodes.
    case nikon(NikonCompressedSamples)

    /// The visible area's samples, or nil where Emulsion's decoder gives the file back to LibRaw
    /// (a NEF stream that ends early or leaves LibRaw's range: LibRaw decodes it and reports its
    /// own error). Throws `RawFileError` for a file cut inside an uncompressed DNG's samples, or
    /// one that cannot be opened again.
    func read(path: String) throws -> [UInt16]? {
        switch self {
        case .uncompressed(let samples):
            return try samples.read(path: path)
        case .losslessTiles(let tiles):
            let decoded = tiles.decode(file: try Self.reopen(path))
            RawFile.losslessTilesProbe?.record(decoded)
            return decoded
        case .nikon(let samples):
            let decoded = samples.decode(file: try Self.reopen(path))
            RawFile.nikonProbe?.record(decoded)
            return decoded
        }
    }

    private static func reopen(_ path: String) throws -> FileBytes {
        guard let file = FileBytes(path: path) else {
            throw RawFileError(path: path, problem: "cannot open the file again to read its samples")
        }
        return file
    }

    /// The LibRaw curve the reader needs (nil: none); it travels after the worker's header.
    var curve: [UInt16]? {
        switch self {
        case .uncompressed: return nil
        case .losslessTiles(let tiles): return tiles.curve
        case .nikon(let samples): return samples.curve
        }
    }

    /// The same, with `curve` restored (after the header was decoded without it); an empty
    /// `curve` is the identity, which the tile reader takes as it is (no 128 KB table built
    /// for a phone DNG) and the NEF reader as a table.
    func with(curve: [UInt16]) -> DeferredSamples {
        switch self {
        case .uncompressed: return self
        case .losslessTiles(var tiles): tiles.curve = curve; return .losslessTiles(tiles)
        case .nikon(var samples): samples.curve = curve.isEmpty ? RawFile.identityCurve : curve; return .nikon(samples)
        }
    }

    /// The uncompressed DNG's descriptor, if this is one (tests).
    var uncompressed: UncompressedSamples? {
        if case .uncompressed(let samples) = self { return samples }
        return nil
    }
}
