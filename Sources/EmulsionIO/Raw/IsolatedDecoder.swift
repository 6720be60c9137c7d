import CLibRaw
import CProcessShim
import EmulsionCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How raw files are decoded: in this process, or in a child process with a time limit.
///
/// Why a child: LibRaw is a large C parser and some damaged files make it loop for ever (a
/// flipped byte in a lossy DNG's opcode list sends LibRaw 0.20 — and dcraw_emu — into a loop of
/// four billion seeks; see docs/RELIABILITY.md). A hang or crash inside a library cannot be
/// stopped from the same process, so the CLI decodes each file in a child (`emulsion
/// decode-worker --serve`, `DecodeWorkerPool`), which hands the decoded `RawImage` back over a
/// pipe: one child for one file (`.isolated`), or children that serve a run's files one after
/// another (`.serving`). A child that crashes or outlives the limit becomes that file's
/// one-line error; the batch goes on. Cost: one process start per child, and one copy of the
/// samples where LibRaw decoded them (≈ 20 ms per 24 MP). The samples of an uncompressed DNG, a tiled LJ92 DNG or a compressed NEF do not
/// travel: the worker says where they lie (`DeferredSamples`) and the parent reads or decodes
/// them from the file itself with Emulsion's own readers, not LibRaw, so nothing that can hang
/// runs outside the child.
public enum RawDecoder: Sendable {
    case inProcess
    case isolated(executable: String, timeout: Double)
    /// Isolated, by workers that serve one file after another (`DecodeWorkerPool`).
    case serving(DecodeWorkerPool)

    public func decode(path: String, pixelLimit: Int) throws -> RawImage {
        try run(inProcess: { try RawFile.read(path: path, pixelLimit: pixelLimit) }) { try $0.decode(path: path, pixelLimit: pixelLimit) }
    }

    /// The shot's metadata from the file's header alone (`RawFile.readShotMetadata`), isolated
    /// and time-limited as `decode` is.
    public func shotMetadata(path: String, pixelLimit: Int) throws -> ShotMetadata {
        try run(inProcess: { try RawFile.readShotMetadata(path: path, pixelLimit: pixelLimit) }) {
            try $0.shotMetadata(path: path, pixelLimit: pixelLimit)
        }
    }

    /// `inProcess`, or `pooled` by this decoder's workers: a serving decoder's pool, or, isolated,
    /// one worker for this file only, stopped as soon as it has answered.
    private func run<T>(inProcess: () throws -> T, pooled: (DecodeWorkerPool) throws -> T) throws -> T {
        switch self {
        case .inProcess: return try inProcess()
        case .isolated(let executable, let timeout): return try pooled(DecodeWorkerPool(executable: executable, timeout: timeout, files: 1))
        case .serving(let pool): return try pooled(pool)
        }
    }

    /// The decoder for a run of `files` files: an isolated decoder's workers then serve file
    /// after file (call `finish` when the run is over); the others are returned as they are.
    public func serving(files: Int) -> RawDecoder {
        guard case .isolated(let executable, let timeout) = self else { return self }
        return .serving(DecodeWorkerPool(executable: executable, timeout: timeout, files: files))
    }

    /// Starts a serving decoder's first worker now, asking it for `first` at once
    /// (`DecodeWorkerPool.startWorkerAhead`); the other decoders have nothing to start, and stop
    /// the worker `DecodeWorkerPool.forkEarlyWorker` may have started.
    public func startWorkerAhead(prefetching first: (path: String, pixelLimit: Int)? = nil) {
        if case .serving(let pool) = self {
            pool.startWorkerAhead(prefetching: first)
        } else {
            DecodeWorkerPool.stopEarlyWorker()
        }
    }

    /// Stops a serving decoder's idle workers.
    public func finish() {
        if case .serving(let pool) = self { pool.finish() }
    }
}

/// The wire format between the decode worker and its parent: magic, status, the header
/// (`HeaderCoding`), then 16-bit values: the samples, or, when the
/// header says where they lie in the file, the LibRaw curve their reader needs (none for an
/// uncompressed DNG's, and none where the curve is the identity: a DNG without a
/// LinearizationTable, every phone DNG, whose 128 KB of curve were most of the answer).
public enum IsolatedDecoding {
    static let magic: [UInt8] = Array("EMULSRAW".utf8)

    /// Worker side: decode and write the result (or the error line) to `output`. With
    /// `libRawUnpack`, LibRaw decodes the samples and sends them (the parent asks for that when
    /// its own NEF decoder gave a deferred file back).
    public static func serve(path: String, pixelLimit: Int, libRawUnpack: Bool = false, to output: Int32) -> Int32 {
        stallIfAskedTo(path)
        do {
            var (raw, deferred) = libRawUnpack
                ? (try RawFile.readWithLibRawUnpack(path: path, pixelLimit: pixelLimit), nil)
                : try RawFile.readDeferringSamples(path: path, pixelLimit: pixelLimit, mapping: true)
            // The samples, or the deferred reader's curve unless it is the identity: either way
            // 16-bit values after the header.
            let curve = deferred?.curve.flatMap { RawFile.isIdentity($0) ? [] : $0 }
            let samples = curve ?? raw.samples
            raw.samples = []
            var out = answerStart(status: 0, HeaderCoding.encode(image: raw, deferred: deferred))
            appendLength(UInt64(samples.count), to: &out)
            // The samples from the array's own memory (no copy into one buffer with the header).
            guard PlainFile.write(out, to: output), samples.withUnsafeBytes({ PlainFile.write($0, to: output) }) else { return 1 }
            return 0
        } catch {
            return serveError(error, to: output)
        }
    }

    /// Worker side of a header-only request: the shot's metadata (`RawFile.readShotMetadata`) in
    /// `serve`'s format, its header `HeaderCoding.encode(shot:)` and no values; an error as `serve`'s.
    static func serveShotMetadata(path: String, pixelLimit: Int, to output: Int32) -> Int32 {
        stallIfAskedTo(path)
        do {
            var out = answerStart(status: 0, HeaderCoding.encode(shot: try RawFile.readShotMetadata(path: path, pixelLimit: pixelLimit)))
            appendLength(0, to: &out)
            return PlainFile.write(out, to: output) ? 0 : 1
        } catch {
            return serveError(error, to: output)
        }
    }

    /// An error answer: status 1 and the problem's line.
    private static func serveError(_ error: any Error, to output: Int32) -> Int32 {
        PlainFile.write(answerStart(status: 1, Array(((error as? RawFileError)?.problem ?? "\(error)").utf8)), to: output)
        return 1
    }

    /// An answer's first part: the magic, `status`, then `payload` (the header, or the error's
    /// line) after its length.
    private static func answerStart(status: UInt8, _ payload: [UInt8]) -> [UInt8] {
        var out = magic
        out.append(status)
        appendLength(UInt64(payload.count), to: &out)
        return out + payload
    }

    static func appendLength(_ n: UInt64, to out: inout [UInt8]) {
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: n >> (8 * UInt64(i)))) }
    }

    /// A length as `appendLength` writes it: the 8 bytes at the start of `bytes`.
    static func length<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    /// A serving worker's request: the path's length and bytes, the pixel limit, and a byte of
    /// flags: 1, `libRawUnpack`; 2, `last`: the parent expects to ask nothing more, so the worker
    /// does no housekeeping for a next request after this answer (it would compete for a CPU
    /// with the parent's render until the parent stops it). A worker told `last` still serves
    /// whatever comes; 4, `shotMetadataOnly`: the header's metadata, not the image
    /// (`serveShotMetadata`).
    static func request(path: String, pixelLimit: Int, libRawUnpack: Bool, last: Bool = false, shotMetadataOnly: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        let bytes = Array(path.utf8)
        appendLength(UInt64(bytes.count), to: &out)
        out += bytes
        appendLength(UInt64(max(0, pixelLimit)), to: &out)
        out.append((libRawUnpack ? 1 : 0) | (last ? 2 : 0) | (shotMetadataOnly ? 4 : 0))
        return out
    }

    /// The time limit's test seam: a worker asked for exactly the path in
    /// `EMULSION_TEST_STALL_DECODE` stops there as a hung decoder would, until it is killed.
    /// The one hang the hostile inputs had found (LibRaw's lossy-DNG loader stepping through a
    /// damaged opcode count) is now refused at its cause (`RawFile.checkLossyLoaderOpcodes`), and
    /// the tests of the limit must not wait for the next one to be found. Unset, it costs a getenv.
    static func stallIfAskedTo(_ path: String) {
        guard let stall = getenv("EMULSION_TEST_STALL_DECODE"), String(cString: stall) == path else { return }
        while true { pause() }
    }

    /// Worker side of `DecodeWorkerPool`: answers requests on standard input, one after another,
    /// as `serve` answers one, until the parent closes the channel (or sends something that is
    /// not a request). After each answer but one its request marked `last`, freed memory goes
    /// back to the system, so an idle worker does not keep the last file's buffers, and the next
    /// request's LibRaw handle is made while the worker waits (`RawFile.prepareSpareHandle`).
    public static func serveRequests(to output: Int32) -> Int32 {
        func read(_ count: Int) -> [UInt8]? {
            var bytes = [UInt8](repeating: 0, count: count)
            var filled = 0
            while filled < count {
                let n = bytes.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress! + filled, count - filled) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return nil }
                filled += n
            }
            return bytes
        }
        func number() -> UInt64? { read(8).map(length) }
        // Each request's LibRaw handle is made before the request is awaited.
        RawFile.prepareSpareHandle()
        while let length = number(), length <= 1 << 16, let path = read(Int(length)), let limit = number(),
              limit <= 1 << 40, let flag = read(1) {
            let file = String(decoding: path, as: UTF8.self)
            if flag[0] & 4 != 0 {
                _ = serveShotMetadata(path: file, pixelLimit: Int(limit), to: output)
            } else {
                _ = serve(path: file, pixelLimit: Int(limit), libRawUnpack: flag[0] & 1 != 0, to: output)
            }
            guard flag[0] & 2 == 0 else { continue }
            emulsion_release_free_memory()
            RawFile.prepareSpareHandle()
        }
        return 0
    }

    /// Reads one answer of a serving worker (the format `serve` writes: it says its own length)
    /// by `deadline`. Lengths are checked before anything is allocated for them: the header at
    /// most 1 GiB, the values at most four per pixel of the limit plus a curve.
    static func readAnswer(from worker: WorkerProcess, path: String, pixelLimit: Int, deadline: UInt64) throws -> [UInt8] {
        var answer: [UInt8] = []
        func take(_ count: Int) throws {
            switch worker.read(exactly: count, into: &answer, deadline: deadline) {
            case .complete: return
            case .timedOut: throw WorkerEnd.timedOut
            case .endOfFile: throw WorkerEnd.endOfFile
            }
        }
        // Until the answer starts, this thread may run only on the CPU it waits on: woken by
        // the worker's write, Linux queued it on the worker's CPU behind the worker, whose CPU
        // this one left idle (0.2 MP crop: 0.19 ms from the worker's write to this read; 400
        // shuffled rounds −0.5 ms at p10 and the median, docs/PERFORMANCE.md, session 21). On a
        // busy machine the wake-up may wait for this CPU's current task instead.
        do {
            var saved = emu_cpu_mask()
            let stayed = emu_stay_on_this_cpu(&saved) == 1
            defer { if stayed { emu_restore_cpus(&saved) } }
            try take(magic.count + 1 + 8)
        }
        guard answer.prefix(magic.count).elementsEqual(magic) else { throw WorkerEnd.malformed }
        let headerLength = length(answer[(magic.count + 1)...])
        guard headerLength <= 1 << 30 else { throw WorkerEnd.malformed }
        try take(Int(headerLength))
        if answer[magic.count] != 0 { return answer }
        try take(8)
        let values = length(answer.suffix(8))
        guard values <= 4 * UInt64(max(0, pixelLimit)) + 0x10000 else { throw WorkerEnd.malformed }
        try take(2 * Int(values))
        return answer
    }

    /// How reading a serving worker's answer ended, when it did not end with the answer.
    enum WorkerEnd: Error { case timedOut, endOfFile, malformed }

    /// The shot metadata of a header-only answer (`serveShotMetadata`), or the error it carries.
    static func parseShotMetadata(_ data: UnsafeRawBufferPointer, path: String) throws -> ShotMetadata {
        let header = try answerHeader(data, path: path)
        guard header.upperBound + 8 == data.count, length(data[header.upperBound...]) == 0 else {
            throw RawFileError(path: path, problem: "decoder process returned malformed output")
        }
        do { return try HeaderCoding.decodeShot(UnsafeRawBufferPointer(rebasing: data[header])) } catch {
            throw RawFileError(path: path, problem: "decoder process returned malformed output")
        }
    }

    /// Where a successful answer's header lies in `data`; the worker's error as `RawFileError`.
    private static func answerHeader(_ data: UnsafeRawBufferPointer, path: String) throws -> Range<Int> {
        guard data.count > magic.count, data.prefix(magic.count).elementsEqual(magic) else {
            throw RawFileError(path: path, problem: "decoder process returned no result")
        }
        let start = magic.count + 9
        guard data.count >= start else { throw RawFileError(path: path, problem: "decoder process returned truncated output") }
        let n = length(data[(magic.count + 1)...])
        guard n <= UInt64(data.count - start) else { throw RawFileError(path: path, problem: "decoder process returned truncated output") }
        let header = start..<(start + Int(n))
        if data[magic.count] != 0 { throw RawFileError(path: path, problem: String(decoding: data[header], as: UTF8.self)) }
        return header
    }

    /// The image, or nil when its samples were deferred to a reader that declined them.
    static func parse(_ data: UnsafeRawBufferPointer, path: String) throws -> RawImage? {
        var i = 0
        func length() throws -> Int {
            guard i + 8 <= data.count else { throw RawFileError(path: path, problem: "decoder process returned truncated output") }
            let n = IsolatedDecoding.length(data[i...])
            i += 8
            guard n <= UInt64(data.count) else { throw RawFileError(path: path, problem: "decoder process returned malformed output") }
            return Int(n)
        }
        let header = try answerHeader(data, path: path)
        var raw: RawImage, deferredSamples: DeferredSamples?
        do {
            (raw, deferredSamples) = try HeaderCoding.decode(UnsafeRawBufferPointer(rebasing: data[header]))
        } catch {
            throw RawFileError(path: path, problem: "decoder process returned malformed output")
        }
        i = header.upperBound
        let count = try length()
        guard i + 2 * count == data.count else { throw RawFileError(path: path, problem: "decoder process returned truncated samples") }
        let start = i
        func values() -> [UInt16] {
            [UInt16](unsafeUninitializedCapacity: count) { buffer, initialised in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: data[start..<(start + 2 * count)]))
                initialised = count
            }
        }
        if var deferred = deferredSamples {
            // A reader with a curve gets the identity when none came.
            let hasCurve = deferred.curve != nil
            guard count == 0 || (hasCurve && count == 0x10000) else { throw RawFileError(path: path, problem: "decoder process returned malformed output") }
            if hasCurve { deferred = deferred.with(curve: count == 0 ? [] : values()) }
            guard let samples = try deferred.read(path: path) else { return nil }
            raw.samples = samples
            return raw
        }
        raw.samples = values()
        return raw
    }
}
