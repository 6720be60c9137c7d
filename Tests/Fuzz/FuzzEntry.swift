import EmulsionCore
import EmulsionIO
import Foundation

/// libFuzzer harness over the parsers that take untrusted bytes: raw decoding (LibRaw through
/// `RawFile.read(bytes:)`), profile parsing (`ProfileLoader.profile(fromJSON:label:)`) and
/// `.cube` LUTs (`LUT3D.parseCube(bytes:file:)`), Hald CLUT PNGs (`HaldCLUT.read(bytes:path:)`) and DNG
/// camera profiles (`DCPFile.read(bytes:path:)`), XMP packets (`XMPRating.rating(inPacket:)`, `XMPLabels.labels(inPacket:)`) and
/// the TIFF and JPEG images `emulsion compare` reads (`TIFFReader.decode(_:)`, `JPEGReader.decode(_:)`).
/// Built with `-sanitize=fuzzer,address -DFUZZING` by `.ci/fuzz.sh`; the target is chosen with
/// `EMULSION_FUZZ_TARGET=raw|profile|cube|hald|dcp|xmp|tiff|jpeg`. Without FUZZING this builds a replayer: give it files (a
/// crash or hang found by the fuzzer) and it runs them through the same entry point.
enum FuzzTargets {
    static let target = ProcessInfo.processInfo.environment["EMULSION_FUZZ_TARGET"] ?? "raw"

    /// One input; errors are the expected outcome for garbage, crashes and hangs are findings.
    static func run(_ bytes: [UInt8]) {
        switch target {
        case "profile":
            _ = try? ProfileLoader(searchDirectories: []).profile(fromJSON: Data(bytes), label: "fuzz.json")
        case "dcp":
            // A camera profile's TIFF structure and tables (DCPFile; the tables' sizes are
            // checked before use), then its kernels over edge values in both engines.
            if let profile = try? DCPFile.read(bytes: bytes, path: "fuzz.dcp") {
                var chain = PointStageChain()
                for table in profile.hueSatMaps + [profile.lookTable].compactMap({ $0 }) {
                    if let kernel = HueSatMapKernel(table) { chain.append(.kernel(kernel)) }
                }
                if let curve = ProfileToneCurveKernel(points: profile.toneCurve) { chain.append(.kernel(curve)) }
                let edges: [Float] = [0, 1, -1, 0.5, 1e-40, 1e30, -1e30, .nan, .infinity, -.infinity, 0.18, 0.999]
                let storage = StripStorage(width: edges.count, rows: 1)
                let strip = storage.strip(firstRow: 0, rows: 1)
                for engine in [Engine.simd, .scalar] {
                    for i in edges.indices { strip.r[i] = edges[i]; strip.g[i] = edges[(i + 3) % edges.count]; strip.b[i] = edges[(i + 7) % edges.count] }
                    for kernel in chain.fusedKernels() { kernel.run(over: strip, engine: engine) }
                }
                withExtendedLifetime(storage) {}
            }
        case "xmp":
            // XMPRating's byte scanner (prefix bindings, attributes, elements, quotes) on any
            // bytes: a rating, if one, is a meaningful one.
            if let rating = XMPRating.rating(inPacket: bytes), !XMPRating.range.contains(rating) {
                fatalError("a rating outside -1…5: \(rating)")
            }
            // The colour labels' scanner too: each label once, in darktable's order.
            let labels = XMPLabels.labels(inPacket: bytes)
            if labels != Array(Set(labels)).sorted() { fatalError("labels not unique and ordered: \(labels)") }
        case "tiff":
            // Directory parsing, strip bounds, LZW, PackBits, zlib's inflate and the predictor on
            // any bytes: an image it returns has the samples its size says.
            if let image = try? TIFFReader.decode(bytes), image.samples.count != 3 * image.width * image.height {
                fatalError("a \(image.width)×\(image.height) TIFF came back with \(image.samples.count) samples")
            }
        case "jpeg":
            // The shim's libjpeg decode (its setjmp error path, the warning that fails a damaged
            // file, the ICC profile's reassembly) on any bytes.
            if let image = try? JPEGReader.decode(bytes), image.samples.count != 3 * image.width * image.height {
                fatalError("a \(image.width)×\(image.height) JPEG came back with \(image.samples.count) samples")
            }
        case "hald":
            // A Hald CLUT .png as `HaldCLUT.read` takes it apart: its header, libpng's decode and
            // the text chunks read by hand (`PNGChunk.texts`) on any bytes, decodable or not.
            _ = PNGChunk.texts(in: bytes)
            _ = try? HaldCLUT.read(bytes: bytes, path: "fuzz.png")
        case "cube":
            // The byte-level .cube reader (pointer arithmetic, strtof on the buffer) and, for a
            // LUT it accepts, the writer and a second read of what it wrote.
            if let lut = try? LUT3D.parseCube(bytes: bytes, file: "fuzz.cube") {
                guard let again = try? LUT3D.parseCube(lut.cubeText(), file: "again.cube"), again.size == lut.size else {
                    fatalError("a LUT read from fuzz.cube did not read back from its own .cube text")
                }
            }
        default:
            // A small pixel limit keeps absurd-but-valid headers from allocating gigabytes.
            _ = try? RawFile.read(bytes: bytes, label: "fuzz.raw", pixelLimit: 64_000_000)
        }
    }
}

#if FUZZING
/// libFuzzer's driver (LLVM ≥ 11); SwiftPM links executables through their own `main`, so the
/// harness starts the fuzzer itself instead of relying on libFuzzer's `main`.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@main
struct Fuzz {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            FuzzTargets.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
            return 0
        })
    }
}
#else
@main
struct Replay {
    static func main() {
        let files = CommandLine.arguments.dropFirst()
        if files.isEmpty { print("usage: EMULSION_FUZZ_TARGET=raw|profile|cube|dcp EmulsionFuzz FILE..."); return }
        for f in files {
            guard let data = FileManager.default.contents(atPath: f) else { print("\(f): unreadable"); continue }
            FuzzTargets.run([UInt8](data))
            print("\(f): ok")
        }
    }
}
#endif
