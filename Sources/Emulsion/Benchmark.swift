import Dispatch
import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The speed and memory benchmark behind `emulsion bench`: prints figures, asserts nothing.
///
/// For each input (a raw file; a synthetic scene of a given size written as an uncompressed DNG so
/// the same LibRaw path is exercised; or the scene captured as a phone stores it, in lossless JPEG
/// tiles with GainMap lens shading, `SyntheticPhoneCapture`):
/// - decode time (LibRaw unpack and copy into a `RawImage`);
/// - per-stage thread time per pixel of the core pipeline (after decode, before PNG encoding)
///   for the scalar and SIMD engines at 1 and 2 threads, stage by stage unfused, and the fused
///   schedule the renderer runs, as ns/pixel and MP/s;
/// - the SIMD lane width (4, 8, 16) through the whole fused core pipeline;
/// - PNG encoding at 1 and 2 threads;
/// - end to end RAW → 16-bit PNG as a separate process (`emulsion process`), wall time, CPU time
///   from `wait4` and peak resident memory from GNU time, and the same for each installed peer
///   (dcraw_emu, darktable-cli, rawtherapee-cli) measured the same way in the same run.
/// Times are the minimum of `repeats` runs (the least disturbed by other work on a shared machine);
/// what a line compares (engines, thread counts, lane widths) is measured in turns, round by round.
public final class Benchmark {
    public struct Options: Sendable {
        public var inputs: [String] = []
        /// Synthetic scenes to make, in megapixels (e.g. 24 → 6000×4000).
        public var syntheticMegapixels: [Int] = [24, 50]
        /// Synthetic phone captures to make, in megapixels (12 → 4000×3000, LJ92 tiles, gain maps).
        public var syntheticPhoneMegapixels: [Int] = [12]
        public var repeats: Int = 3
        public var threadCounts: [Int] = [1, 2]
        public var peers: Bool = true
        public var endToEndRepeats: Int = 3
        /// The emulsion executable to time end to end (default: this process's own).
        public var executable: String = Benchmark.ownExecutable
        public var workDirectory: String = Benchmark.temporaryDirectory
        /// Where synthetic raws are written and kept (reused when already there); nil: a temporary folder.
        public var syntheticDirectory: String?
        /// Only the end-to-end runs (ours and the peers'), not the per-stage figures.
        public var endToEndOnly: Bool = false
        /// Profiles whose look stages are measured stage by stage (on a crop of each input).
        public var looks: [Profile] = []
        public init() {}
    }

    public let options: Options
    let print: (String) -> Void

    public init(options: Options, print: @escaping (String) -> Void = { Swift.print($0); fflush(stdout) }) {
        self.options = options
        self.print = print
    }

    public static var ownExecutable: String {
        PlainFile.executablePath() ?? CommandLine.arguments[0]
    }

    /// The size of a synthetic scene of about `megapixels` MP with a 3:2 aspect and even sides.
    public static func syntheticSize(megapixels: Int) -> (width: Int, height: Int) {
        let h = Int((Double(megapixels) * 1e6 / 1.5).squareRoot()) / 2 * 2
        let w = Int(Double(h) * 1.5) / 2 * 2
        return (w, h)
    }

    public func run() throws {
        let directory = URL(fileURLWithPath: options.workDirectory).appendingPathComponent("emulsion-bench-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        print("emulsion bench — \(machineDescription())")
        print("times: minimum of \(options.repeats) runs (end to end: \(options.endToEndRepeats)); ns/px = thread time per pixel; MP/s = pixels / wall time of that stage at that thread count")
        var files: [(label: String, path: String, endToEndOnly: Bool)] = options.inputs.map {
            (URL(fileURLWithPath: $0).lastPathComponent, $0, false)
        }
        for mp in options.syntheticMegapixels {
            let (w, h) = Self.syntheticSize(megapixels: mp)
            let file = try synthetic(file: "synthetic-\(mp)mp.dng", kind: "synthetic \(mp) MP", label: "synthetic \(mp) MP (\(w)×\(h))",
                                     made: "\(w)×\(h) uncompressed DNG with shot and read noise", in: directory) { url in
                try DNGWriter.write(SyntheticScene(width: w, height: h, camera: SyntheticCamera(noise: .init())).render(), to: url)
            }
            files.append((file.label, file.path, false))
        }
        for mp in options.syntheticPhoneMegapixels {
            let (w, h) = SyntheticPhoneCapture.size(megapixels: mp)
            let (tw, th) = (SyntheticPhoneCapture.tileWidth, SyntheticPhoneCapture.tileHeight)
            var capture: RawImage?
            func write(_ orientation: Orientation, to url: URL) throws {
                capture = capture ?? SyntheticPhoneCapture.render(width: w, height: h)
                var raw = capture!
                raw.metadata.orientation = orientation
                try DNGWriter.write(raw, to: url, storage: .losslessJPEGTiles(width: tw, height: th))
            }
            let upright = try synthetic(file: "synthetic-phone-\(mp)mp.dng", kind: "synthetic phone \(mp) MP",
                                        label: "synthetic phone \(mp) MP (\(w)×\(h), LJ92 tiles, gain maps)",
                                        made: "\(w)×\(h) DNG in \(tw)×\(th) lossless JPEG tiles, four GainMaps, shot and read noise",
                                        in: directory) { try write(.normal, to: $0) }
            // A phone's portrait shots are stored on their side; their render goes through the
            // transposed raw (`RawImage.transposed`), so its per-stage figures are the upright
            // capture's and only the end-to-end ones are measured.
            let portrait = try synthetic(file: "synthetic-phone-\(mp)mp-portrait.dng", kind: "synthetic phone \(mp) MP portrait",
                                         label: "synthetic phone \(mp) MP portrait (stored \(w)×\(h), orientation 6), end to end only",
                                         made: "the same capture with Orientation 6 (90° clockwise)", in: directory) {
                try write(.rotate90Clockwise, to: $0)
            }
            files += [(upright.label, upright.path, false), (portrait.label, portrait.path, true)]
        }
        for file in files {
            try bench(label: file.label, path: file.path, endToEndOnly: options.endToEndOnly || file.endToEndOnly, directory: directory)
        }
    }

    /// A synthetic raw named `file`: reused from the keep folder when it is there, else made by
    /// `write` (in the keep folder, or the run's own `directory`), with a line saying which.
    func synthetic(file: String, kind: String, label: String, made description: String, in directory: URL,
                   write: (URL) throws -> Void) throws -> (label: String, path: String) {
        let folder = options.syntheticDirectory.map { URL(fileURLWithPath: $0) } ?? directory
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent(file)
        if options.syntheticDirectory != nil, FileManager.default.fileExists(atPath: url.path) {
            print("reusing \(kind) raw: \(url.path)")
            return (label, url.path)
        }
        let started = DispatchTime.now()
        try write(url)
        print("made \(kind) raw: \(description) (\(seconds(since: started)) s)")
        return (label, url.path)
    }

    // MARK: One input

    func bench(label: String, path: String, endToEndOnly: Bool, directory: URL) throws {
        print("")
        print("== \(label)")
        if endToEndOnly {
            let raw = try RawFile.read(path: path)
            try endToEnd(path: path, pixels: raw.width * raw.height, directory: directory)
            return
        }
        var raw: RawImage!
        let decode = minimumSeconds(options.repeats) { raw = try? RawFile.read(path: path) }
        guard let raw else { throw RenderError("\(path): cannot be read for benchmarking") }
        let pixels = raw.width * raw.height
        print(CFormat.string("decode in process (LibRaw identifies; LibRaw or our own decoder reads the samples): %.3f s, %d×%d = %.1f MP", decode, raw.width, raw.height, Double(pixels) / 1e6))

        let renderOptions = RenderOptions()
        let plan = try RenderPlan(raw: raw, options: renderOptions)
        let outPixels = plan.source.width * plan.source.height
        output = .allocate(capacity: 3 * outPixels)
        MemoryAdvice.preferHugePages(UnsafeMutableRawBufferPointer(output!))
        output!.initialize(repeating: 0)
        defer { output!.deallocate(); output = nil }
        // What a one-shot render pays on top: the first touch of a fresh output buffer.
        let outputs = interleavedMinima([true, false], rounds: options.repeats) { freshBuffer -> [Double] in
            [timesOnce {
                if freshBuffer {
                    _ = try? Renderer.render(raw, options: RenderOptions(threads: 1))
                } else {
                    render(plan, raw: raw, engine: .simd, threads: 1, kernels: plan.chain.fusedKernels(), fuseSink: true, timings: nil)
                }
            }.cpu]
        }
        let fresh = outputs[true]![0] * 1e9 / Double(outPixels), warm = outputs[false]![0] * 1e9 / Double(outPixels)
        print(CFormat.string("fresh output memory (page faults, huge pages advised): +%.2f ns/px CPU over a reused buffer (Renderer.render %.2f vs core %.2f ns/px, SIMD, 1 thread)",
                     fresh - warm, fresh, warm))

        // Per stage, unfused: each chain element on its own, the sink on its own.
        let unfused = plan.chain.unfusedKernels()
        var stageNames = ["source: normalise + " + demosaicName(plan.source)]
        stageNames += unfused.map { stageName($0) }
        stageNames.append("sink: quantise + orient")
        var table: [String: [Double]] = [:]  // "engine/threads" → CPU ns/px per stage
        var fusedCPU: [String: Double] = [:], fusedWall: [String: Double] = [:]
        var normaliseTable: [String: Double] = [:]
        let configurations = [Engine.scalar, .simd].flatMap { e in options.threadCounts.map { (engine: e, threads: $0) } }
        let mosaic = innerMosaic(plan.source)
        // One vector per configuration: the stages, then the fused core's CPU and wall, then normalisation.
        let measured = interleavedMinima(configurations.indices, rounds: options.repeats) { index -> [Double] in
            let (engine, threads) = configurations[index]
            var values = stageTimesOnce(plan, raw: raw, kernels: unfused, engine: engine, threads: threads)
            let fused = timesOnce {
                _ = render(plan, raw: raw, engine: engine, threads: threads, kernels: plan.chain.fusedKernels(), fuseSink: true, timings: nil)
            }
            values += [fused.cpu * 1e9 / Double(outPixels), fused.wall * 1e9 / Double(outPixels)]
            if let mosaic { values.append(timesOnce { normaliseAll(mosaic, engine: engine, threads: threads) }.cpu * 1e9 / Double(pixels)) }
            return values
        }
        for (index, configuration) in configurations.enumerated() {
            let key = "\(configuration.engine.rawValue)/\(configuration.threads)", values = measured[index]!
            let stages = unfused.count + 2
            table[key] = Array(values[0..<stages])
            fusedCPU[key] = values[stages]
            fusedWall[key] = values[stages + 1]
            if mosaic != nil { normaliseTable[key] = values[stages + 2] }
        }
        print("core pipeline (after decode, before PNG encoding), per stage unfused; ns/px = CPU time per output pixel summed over threads, each stage's interval less the \(StageTimings().clockReadingCost) ns one thread-clock reading adds; MP/s = pixels per second at that thread count if the threads ran undisturbed:")
        let columns = [Engine.scalar, .simd].flatMap { e in options.threadCounts.map { "\(e.rawValue)/\($0)" } }
        let nameWidth = max(40, (stageNames.map(\.count).max() ?? 0) + 1)
        print(pad("stage", nameWidth) + columns.map { pad($0, 22) }.joined() + "  scalar÷SIMD (1 thread)")
        func row(_ name: String, _ values: [String: Double]) {
            var line = pad(name, nameWidth)
            for c in columns {
                let ns = values[c] ?? 0
                let threads = Double(Int(c.split(separator: "/")[1])!)
                line += pad(CFormat.string("%6.2f ns %7.0f MP/s", ns, 1e3 / ns * threads), 22)
            }
            if let s = values["scalar/1"], let v = values["simd/1"], v > 0 { line += CFormat.string("  %.2f×", s / v) }
            print(line)
        }
        if !normaliseTable.isEmpty { row("  (raw normalisation alone, per photosite)", normaliseTable) }
        for (i, name) in stageNames.enumerated() { row(name, table.mapValues { $0[i] }) }
        row("sum of stages (unfused)", table.mapValues { $0.reduce(0, +) })
        row("core as rendered (fused), CPU", fusedCPU)
        var wallLine = pad("core as rendered (fused), wall", 40)
        for c in columns { wallLine += pad(CFormat.string("%6.2f ns %7.0f MP/s", fusedWall[c] ?? 0, 1e3 / (fusedWall[c] ?? 1)), 22) }
        print(wallLine)
        if let oneThread = fusedCPU["simd/1"] {
            print(CFormat.string("core pipeline, SIMD, 1 thread: %.2f ns/px CPU = %.2f× Halide camera_pipe's 2.6 ns/px (target ≤ 2×)", oneThread, oneThread / 2.6))
        }
        // The same fused core as `process` runs it: into one PNG segment's band buffer, reused.
        do {
            var line = "core as streamed (fused, into a reused PNG-segment band, as `process` renders), 1 thread, CPU:"
            var workers: [Engine: (BandRendering, BandWorker, Int)] = [:]
            for engine in [Engine.scalar, .simd] {
                var bandOptions = renderOptions
                bandOptions.engine = engine
                let rendering = BandRendering(plan: plan, options: bandOptions, depth: bandOptions.depth)
                let rows = PNGFile.segmentRows(width: rendering.width, channels: 3, bitDepth: 16)
                workers[engine] = (rendering, rendering.makeWorker(rows: rows), rows)
            }
            let banded = interleavedMinima([Engine.scalar, .simd], rounds: options.repeats) { engine -> [Double] in
                let (rendering, worker, rows) = workers[engine]!
                return [timesOnce {
                    for first in stride(from: 0, to: rendering.height, by: rows) {
                        _ = worker.rows(first..<min(rendering.height, first + rows))
                    }
                }.cpu * 1e9 / Double(outPixels)]
            }.mapValues { $0[0] }
            for engine in [Engine.scalar, .simd] { line += "  \(engine.rawValue)" + CFormat.string(" %.2f ns/px", banded[engine]!) }
            print(line + CFormat.string("  (%.2f×; %.2f× Halide's 2.6 ns/px)", banded[.scalar]! / banded[.simd]!, banded[.simd]! / 2.6))
        }

        // Lane width through the fused pipeline, one thread.
        var widthLine = "SIMD lane width, core fused, 1 thread, CPU:"
        let saved = SIMDWidth.selected
        let widths = interleavedMinima(SIMDWidth.allCases, rounds: options.repeats) { width -> [Double] in
            SIMDWidth.selected = width
            return [timesOnce {
                _ = render(plan, raw: raw, engine: .simd, threads: 1, kernels: plan.chain.fusedKernels(), fuseSink: true, timings: nil)
            }.cpu * 1e9 / Double(outPixels)]
        }
        SIMDWidth.selected = saved
        for width in SIMDWidth.allCases { widthLine += CFormat.string("  %d lanes %.2f ns/px", width.rawValue, widths[width]![0]) }
        print(widthLine + "  (default \(saved.rawValue))")

        // Strip height, fused, SIMD, all threads.
        let most = options.threadCounts.max() ?? 1
        var stripLine = "strip rows, core fused, SIMD, \(most) threads, CPU (wall):"
        let stripRows = [4, 8, 16, 32, 64]
        let stripTimes = interleavedMinima(stripRows, rounds: options.repeats) { rows -> [Double] in
            let t = timesOnce {
                _ = render(plan, raw: raw, engine: .simd, threads: most, kernels: plan.chain.fusedKernels(),
                           fuseSink: true, timings: nil, stripRows: rows)
            }
            return [t.cpu * 1e9 / Double(outPixels), t.wall * 1e9 / Double(outPixels)]
        }
        for rows in stripRows {
            stripLine += CFormat.string("  %d: %.2f (%.2f) ns/px", rows, stripTimes[rows]![0], stripTimes[rows]![1])
        }
        print(stripLine + "  (default \(Executor.defaultStripRows))")

        if !options.looks.isEmpty { try lookStages(raw) }

        // PNG encoding of the rendered image.
        let image = try Renderer.render(raw, options: renderOptions)
        let rawBytes = Double(image.samples.count * 2)
        print("PNG encoding of the rendered 16-bit image (\(CFormat.string("%.0f", rawBytes / 1e6)) MB of samples), segmented encoder:")
        for (level, strategy) in [(1, PNGStrategy.fastHuffman), (0, .automatic), (1, .rle), (1, .huffmanOnly), (1, .automatic), (6, .automatic)] {
            for threads in options.threadCounts {
                var size = 0
                let t = minimumTimes(strategy == .fastHuffman || level == 0 ? options.repeats : 1) {
                    // Bytes are counted, not kept: what writing them costs is in the end-to-end figures.
                    size = 0
                    try? PNGFile.encode(image.pngImage, options: PNGEncodingOptions(compressionLevel: level, strategy: strategy, threads: threads)) {
                        size += $0.count
                    }
                }
                print("  zlib \(level) \(pad(strategy.rawValue, 11)), up filter, \(threads) thread\(threads == 1 ? " " : "s")"
                      + CFormat.string(": wall %.3f s (%.0f MB/s), CPU %.3f s, %.1f MB = %.0f%% of the samples",
                                       t.wall, rawBytes / t.wall / 1e6, t.cpu, Double(size) / 1e6, Double(size) / rawBytes * 100))
            }
        }

        // End to end, separate processes.
        try endToEnd(path: path, pixels: pixels, directory: directory)
    }

    /// Each look's point stages, unfused, scalar against SIMD on one thread, on a centred crop of
    /// at most 2 MP (a stage's cost per pixel does not depend on the image's size; the crop keeps
    /// eight looks' scalar passes to seconds). The neutral chain's stages are in the table above.
    func lookStages(_ raw: RawImage) throws {
        let w = min(raw.width, 1732) & ~1, h = min(raw.height, 1156) & ~1
        let crop = raw.cropped(x: (raw.width - w) / 4 * 2, y: (raw.height - h) / 4 * 2, width: w, height: h)
        print("look stages, per stage unfused, 1 thread, CPU ns/px on a centred \(w)×\(h) crop (scalar → SIMD, scalar÷SIMD); then the whole core fused with that look:")
        var worst: (ratio: Double, stage: String) = (.infinity, "")
        for profile in options.looks {
            let plan = try RenderPlan(raw: crop, options: RenderOptions(profile: profile))
            let unfused = plan.chain.unfusedKernels()
            let measured = interleavedMinima([Engine.scalar, .simd], rounds: options.repeats) { engine -> [Double] in
                // Per output pixel, as everywhere here (a NEF with 2:1 photosites renders two per raw pixel).
                stageTimesOnce(plan, raw: crop, kernels: unfused, engine: engine, threads: 1) + [timesOnce {
                    _ = render(plan, raw: crop, engine: engine, threads: 1, kernels: plan.chain.fusedKernels(), fuseSink: true, timings: nil)
                }.cpu * 1e9 / Double(plan.source.width * plan.source.height)]
            }
            let perEngine = measured.mapValues { Array($0.dropLast()) }, fused = measured.mapValues { $0.last! }
            var line = "  \(pad(profile.name, 20))"
            for (i, kernel) in unfused.enumerated() {
                let scalar = perEngine[.scalar]![i + 1], simd = perEngine[.simd]![i + 1]
                let name = stageName(kernel)
                line += " \(name)" + CFormat.string(" %.2f → %.2f (%.1f×);", scalar, simd, scalar / simd)
                if scalar / simd < worst.ratio { worst = (scalar / simd, "\(name) in \(profile.name)") }
            }
            print(line + CFormat.string(" core fused %.2f → %.2f (%.2f×)", fused[.scalar]!, fused[.simd]!, fused[.scalar]! / fused[.simd]!))
        }
        if worst.ratio.isFinite { print(CFormat.string("  smallest scalar÷SIMD among look and colour stages: %.2f×", worst.ratio) + " (\(worst.stage))") }
    }

    /// CPU ns per output pixel of each stage run unfused, one run: the source, each of `kernels`,
    /// the sink (in that order).
    func stageTimesOnce(_ plan: RenderPlan, raw: RawImage, kernels: [any PointKernel], engine: Engine, threads: Int) -> [Double] {
        let timings = StageTimings()
        _ = render(plan, raw: raw, engine: engine, threads: threads, kernels: kernels, fuseSink: false, timings: timings)
        return (0..<(kernels.count + 2)).map { timings.nanosecondsPerPixel($0) }
    }

    /// One core run into `output` (a buffer allocated and touched once per input, as a benchmark
    /// loop or a batch reusing its buffer would: fresh memory costs page faults, measured apart).
    @discardableResult
    func render(_ plan: RenderPlan, raw: RawImage, engine: Engine, threads: Int, kernels: [any PointKernel], fuseSink: Bool,
                timings: StageTimings?, stripRows: Int = Executor.defaultStripRows) -> Int {
        let (w, h) = (plan.source.width, plan.source.height)
        let sink = OutputSink(sourceWidth: w, sourceHeight: h, orientation: plan.orientation, depth: .sixteen, into: output!)
        Executor(engine: engine, threads: threads, stripRows: stripRows, fuseSink: fuseSink)
            .run(source: plan.source, kernels: kernels, sink: sink, timings: timings)
        return w * h
    }

    /// The reused output buffer of the input being measured.
    var output: UnsafeMutableBufferPointer<UInt16>?

    /// The sources `source` wraps, outermost first (the crops, the pixel-aspect stretch, the lens warp).
    func sourceChain(_ source: any StripSource) -> [any StripSource] {
        if let c = source as? CroppedSource { return [c] + sourceChain(c.inner) }
        if let a = source as? PixelAspectSource { return [a] + sourceChain(a.inner) }
        if let w = source as? LensWarpSource { return [w] + sourceChain(w.inner) }
        if let v = source as? LensVignetteSource { return [v] + sourceChain(v.inner) }
        return [source]
    }

    func innerMosaic(_ source: any StripSource) -> MosaicSource? { sourceChain(source).last as? MosaicSource }

    /// What the source stage's time covers: the demosaic, and the lens warp when one is applied
    /// (on a phone file it is most of the stage; docs/PERFORMANCE.md, sessions 32–33).
    func demosaicName(_ source: any StripSource) -> String {
        let name = innerMosaic(source).map { String(describing: type(of: $0.demosaic)) } ?? "RGB (no demosaic)"
        let chain = sourceChain(source)
        return name + (chain.contains { $0 is LensWarpSource } ? " + lens warp" : "") + (chain.contains { $0 is LensVignetteSource } ? " + vignette" : "")
    }

    func stageName(_ kernel: any PointKernel) -> String {
        if let m = kernel as? ColourMatrixKernel { return m.matrix == .identity ? "matrix (identity)" : "ColourMatrixKernel" }
        return String(describing: type(of: kernel))
    }

    /// Raw normalisation alone over the whole mosaic, in strips of 16 rows per worker.
    func normaliseAll(_ source: MosaicSource, engine: Engine, threads: Int) {
        let rows = 16
        let strips = (source.height + rows - 1) / rows
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: rows * source.width + 16)
            defer { buffer.deallocate() }
            var s = worker
            while s < strips {
                let first = s * rows
                source.normalise(rows: first..<min(source.height, first + rows), into: buffer, engine: engine)
                s += threads
            }
        }
    }

    // MARK: End to end

    struct ProcessRun { var seconds: Double; var cpuSeconds: Double; var peakBytes: Int; var status: Int32 }

    /// One program the end-to-end comparison runs: ours in one configuration, or a peer.
    struct TimedProgram {
        var label: String
        var executable: String
        var arguments: [String]
        var environment: [String: String]? = nil
        var output: String
    }

    func endToEnd(path: String, pixels: Int, directory: URL) throws {
        let out = directory.appendingPathComponent("out.png").path
        let memory = FileManager.default.isExecutableFile(atPath: "/usr/bin/time")
            ? "peak resident memory from GNU time's %M" : "peak memory unavailable (/usr/bin/time missing)"
        print("end to end RAW → 16-bit PNG file (and the same render to TIFF, deflated TIFF and JPEG), separate processes (wall time of the fastest run, every program once per round in shuffled order; CPU = user + system; \(memory)):")
        let maxThreads = options.threadCounts.max() ?? 1
        let configurations: [(Engine, Int, Int)] = [(.simd, maxThreads, 1), (.simd, maxThreads, 0), (.simd, 1, 1), (.scalar, maxThreads, 1), (.scalar, 1, 1)]
        var programs = configurations.map { engine, threads, level in
            TimedProgram(label: "emulsion --engine \(engine.rawValue) --threads \(threads) --png-level \(level)", executable: options.executable,
                         arguments: ["process", path, "-o", out, "--overwrite", "--engine", engine.rawValue, "--threads", String(threads),
                                     "--png-level", String(level)], output: out)
        }
        // The same render into the peers' own format (an uncompressed 16-bit TIFF), and to a JPEG.
        let tiffOut = directory.appendingPathComponent("out.tif").path, jpegOut = directory.appendingPathComponent("out.jpg").path
        programs.append(TimedProgram(label: "emulsion --threads \(maxThreads) --format tiff (16-bit)", executable: options.executable,
                                     arguments: ["process", path, "-o", tiffOut, "--overwrite", "--threads", String(maxThreads)], output: tiffOut))
        let tiffIndex = programs.count - 1
        let deflatedOut = directory.appendingPathComponent("out-deflate.tif").path
        programs.append(TimedProgram(label: "emulsion --threads \(maxThreads) --tiff-compression deflate",
                                     executable: options.executable,
                                     arguments: ["process", path, "-o", deflatedOut, "--overwrite", "--threads", String(maxThreads),
                                                 "--tiff-compression", "deflate"], output: deflatedOut))
        programs.append(TimedProgram(label: "emulsion --threads \(maxThreads) --format jpeg (q92)", executable: options.executable,
                                     arguments: ["process", path, "-o", jpegOut, "--overwrite", "--threads", String(maxThreads)], output: jpegOut))
        let ourCount = programs.count
        if options.peers {
            let tmp = directory.appendingPathComponent("peers")
            try? FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
            let tif = tmp.appendingPathComponent("peer.tif").path
            if let dcraw = which("dcraw_emu") {
                programs.append(TimedProgram(label: "dcraw_emu -q 3 (AHD, 16-bit TIFF)", executable: dcraw,
                                             arguments: ["-w", "-o", "1", "-q", "3", "-4", "-T", "-Z", tif, path], output: tif))
                programs.append(TimedProgram(label: "dcraw_emu -q 0 (bilinear, 16-bit TIFF)", executable: dcraw,
                                             arguments: ["-w", "-o", "1", "-q", "0", "-4", "-T", "-Z", tif, path], output: tif))
            }
            if let dt = which("darktable-cli") {
                let config = tmp.appendingPathComponent("dt-config").path, cache = tmp.appendingPathComponent("dt-cache").path
                programs.append(TimedProgram(label: "darktable-cli (16-bit TIFF)", executable: dt,
                                             arguments: [path, tif, "--width", "0", "--height", "0", "--hq", "true", "--upscale", "false",
                                                         "--icc-type", "SRGB", "--core", "--configdir", config, "--cachedir", cache,
                                                         "--library", config + "/library.db", "--disable-opencl",
                                                         "--conf", "plugins/imageio/format/tiff/bpp=16",
                                                         "--conf", "plugins/imageio/format/tiff/compress=0"], output: tif))
            }
            if let rt = which("rawtherapee-cli") {
                let env = ["RT_SETTINGS": tmp.appendingPathComponent("rt-s").path, "RT_CACHE": tmp.appendingPathComponent("rt-c").path]
                programs.append(TimedProgram(label: "rawtherapee-cli (16-bit TIFF)", executable: rt,
                                             arguments: ["-q", "-Y", "-a", "-t", "-b16", "-o", tif, "-c", path], environment: env, output: tif))
            }
        }
        let runs = timePrograms(programs)
        for i in 0..<ourCount {
            guard let r = runs[i] else { print("  \(programs[i].label): failed"); continue }
            print("  \(pad(programs[i].label, 58))" + CFormat.string(" wall %6.3f s  CPU %6.3f s  peak %5.0f MB = %4.1f B per sensor pixel",
                                                                   r.seconds, r.cpuSeconds, Double(r.peakBytes) / 1e6, Double(r.peakBytes) / Double(pixels)))
        }
        print("  where emulsion's time goes (one more run, --threads \(maxThreads) --png-level 1 --timings): \(phases(path: path, output: out, threads: maxThreads))")
        guard options.peers else { return }
        if programs.count == ourCount { print("  no peers installed (dcraw_emu, darktable-cli, rawtherapee-cli)") }
        // The ratios are against SIMD on every thread: PNG level 1 and 0, and the TIFF the peers write too.
        let compressed = runs[0], stored = runs[1], tiff = runs[tiffIndex]
        for i in ourCount..<programs.count {
            guard let r = runs[i] else { print("  \(pad(programs[i].label, 58)) failed or wrote no output"); continue }
            var line = "  \(pad(programs[i].label, 58))" + CFormat.string(" wall %6.3f s  CPU %6.3f s  peak %5.0f MB", r.seconds, r.cpuSeconds, Double(r.peakBytes) / 1e6)
            if let c = compressed { line += CFormat.string(" | emulsion (png 1) %.1f× faster wall, %.1f× CPU", r.seconds / c.seconds, r.cpuSeconds / c.cpuSeconds) }
            if let s = stored { line += CFormat.string("; (png 0) %.1f× wall, %.1f× CPU", r.seconds / s.seconds, r.cpuSeconds / s.cpuSeconds) }
            if let t = tiff { line += CFormat.string("; (tiff) %.1f× wall, %.1f× CPU", r.seconds / t.seconds, r.cpuSeconds / t.cpuSeconds) }
            print(line)
        }
    }

    /// The phase line `emulsion process --timings` prints for one run (decode, prepare, render +
    /// encode + write, sync), or why there is none.
    func phases(path: String, output: String, threads: Int) -> String {
        unlink(output)
        sync()
        let log = Self.temporaryDirectory + "emulsion-bench-timings-\(getpid()).txt"
        defer { unlink(log) }
        let arguments = ["process", path, "-o", output, "--overwrite", "--threads", String(threads), "--timings"]
        guard spawn([options.executable] + arguments, environment: ProcessInfo.processInfo.environment, errorLog: log) != nil else {
            return "could not start"
        }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        guard let line = text.split(separator: "\n").last(where: { $0.contains("render+encode") }),
              let range = line.firstRange(of: "decode ") else { return "no timings printed" }
        return String(line[range.lowerBound...])
    }

    /// Runs every program `endToEndRepeats` times, each round in a new random order, and then once
    /// more under GNU time for its peak RSS; per program the fastest run's wall time and its CPU
    /// time, or nil where a run failed or wrote no output.
    /// Rounds rather than one program's runs after another's: the machine's speed drifts (other
    /// work on a shared machine, the disk's mood), and a fixed order put each program in its own
    /// stretch of it; on the 0.2 MP crop the order alone moved a figure by ~0.7 ms
    /// (docs/PERFORMANCE.md, session 18).
    /// Each run starts after a `sync`, untimed: the tens of MB the previous run (ours or a
    /// peer's) left for the disk to write would otherwise compete with this run's writes (the
    /// disk here writes ~250–390 MB/s), and which program ran before would change the figure.
    /// The timed runs are spawned directly: under GNU time each wall time also held time's own
    /// start and exit (~1 ms here), which is neither program's and shrank the ratios of small files.
    func timePrograms(_ programs: [TimedProgram]) -> [ProcessRun?] {
        var best = [ProcessRun?](repeating: nil, count: programs.count)
        var failed = [Bool](repeating: false, count: programs.count)
        for _ in 0..<max(1, options.endToEndRepeats) {
            for i in programs.indices.shuffled() where !failed[i] {
                let p = programs[i]
                unlink(p.output)
                sync()
                guard let r = spawnAndWait(p.executable, p.arguments, environment: p.environment, measuringPeak: false), r.status == 0,
                      FileManager.default.fileExists(atPath: p.output) else {
                    failed[i] = true
                    best[i] = nil
                    continue
                }
                if best[i] == nil || r.seconds < best[i]!.seconds { best[i] = r }
            }
        }
        for (i, p) in programs.enumerated() where !failed[i] {
            unlink(p.output)
            sync()
            if let measured = spawnAndWait(p.executable, p.arguments, environment: p.environment, measuringPeak: true), measured.status == 0 {
                best[i]?.peakBytes = measured.peakBytes
            }
        }
        return best
    }

    /// Runs the program, under GNU time when `measuringPeak` and it is present: a child's peak
    /// RSS from wait4 would include this (large) benchmark process's own, which a spawned child
    /// inherits as its starting peak. The CPU time is wait4's either way (the child's and its
    /// reaped children's).
    func spawnAndWait(_ executable: String, _ arguments: [String], environment: [String: String]?, measuringPeak: Bool) -> ProcessRun? {
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment ?? [:] { env[k] = v }
        let report = Self.temporaryDirectory + "emulsion-bench-time-\(getpid()).txt"
        defer { unlink(report) }
        let timed = measuringPeak && FileManager.default.isExecutableFile(atPath: "/usr/bin/time")
        let command = timed ? ["/usr/bin/time", "-f", "%M", "-o", report, executable] + arguments : [executable] + arguments
        guard let (status, usage, elapsed) = spawn(command, environment: env) else { return nil }
        let exited = (status & 0x7f) == 0
        var peak = usage.ru_maxrss * 1024
        let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        if timed, let text = try? String(contentsOfFile: report, encoding: .utf8),
           let kilobytes = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap({ Int($0) }).last {
            peak = kilobytes * 1024
        }
        return ProcessRun(seconds: elapsed, cpuSeconds: cpu, peakBytes: peak, status: exited ? (status >> 8) & 0xff : -1)
    }

    /// The system's folder for temporary files, with a trailing slash.
    static var temporaryDirectory: String {
        let path = FileManager.default.temporaryDirectory.path
        return path.hasSuffix("/") ? path : path + "/"
    }

    /// Runs `command` (its first element the program's path) with standard output discarded and
    /// standard error into `errorLog` (discarded without one); its wait status, resource usage
    /// and wall time, or nil when it could not be started.
    func spawn(_ command: [String], environment env: [String: String], errorLog: String? = nil) -> (Int32, rusage, Double)? {
        let argv = command.map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errorLog ?? "/dev/null", errorLog == nil ? O_WRONLY : O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var pid: pid_t = 0
        let started = DispatchTime.now()
        guard posix_spawn(&pid, command[0], &actions, nil, argv, envp) == 0 else { return nil }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 { if errno != EINTR { return nil } }
        return (status, usage, seconds(since: started))
    }

    func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    // MARK: Helpers

    func minimumSeconds(_ repeats: Int, _ body: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<max(1, repeats) {
            let t = DispatchTime.now()
            body()
            best = min(best, seconds(since: t))
        }
        return best
    }

    func seconds(since t: DispatchTime) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t.uptimeNanoseconds) / 1e9 }

    /// CPU time of this process (all threads), seconds.
    static func processCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// Each key's measurement run once per round, and each value's minimum over the rounds. What
    /// is compared (the engines, lane widths, strip heights) takes turns, forward in even rounds
    /// and backward in odd ones, so a slow spell of the machine (a neighbour's load, a clock
    /// change: on the shared host of run v29 the same loop's thread CPU time doubled for seconds
    /// at a time) falls on every key alike instead of on whichever ran through it; measured one
    /// key after another, ColourMatrix's scalar ÷ SIMD ratio read 2.3× to 6.8× over the inputs and
    /// looks of one run on unchanged code (docs/PERFORMANCE.md, run v29).
    func interleavedMinima<Key: Hashable>(_ keys: some Collection<Key>, rounds: Int, _ measure: (Key) -> [Double]) -> [Key: [Double]] {
        var best: [Key: [Double]] = [:]
        let order = Array(keys)
        for round in 0..<max(1, rounds) {
            for key in round % 2 == 0 ? order : order.reversed() {
                let values = measure(key)
                best[key] = best[key].map { zip($0, values).map { min($0, $1) } } ?? values
            }
        }
        return best
    }

    /// One run's (wall seconds, CPU seconds of all threads).
    func timesOnce(_ body: () -> Void) -> (wall: Double, cpu: Double) {
        let t = DispatchTime.now(), c = Self.processCPUSeconds()
        body()
        return (seconds(since: t), Self.processCPUSeconds() - c)
    }

    /// Minimum over runs of (wall seconds, CPU seconds of all threads).
    func minimumTimes(_ repeats: Int, _ body: () -> Void) -> (wall: Double, cpu: Double) {
        var wall = Double.infinity, cpu = Double.infinity
        for _ in 0..<max(1, repeats) {
            let t = timesOnce(body)
            wall = min(wall, t.wall)
            cpu = min(cpu, t.cpu)
        }
        return (wall, cpu)
    }

    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }

    func machineDescription() -> String {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingWhitespace() ?? "unknown CPU"
        #if arch(x86_64)
        let arch = "x86_64"
        #elseif arch(arm64)
        let arch = "arm64"
        #else
        let arch = "other"
        #endif
        return "\(cpu), \(ProcessInfo.processInfo.activeProcessorCount) cores, \(arch), SIMD width \(SIMDWidth.selected.rawValue)"
    }
}
