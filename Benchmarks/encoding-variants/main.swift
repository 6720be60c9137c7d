// Same-run comparison of output-encoding and sink variants (docs/PERFORMANCE.md, run v5).
// Built by Benchmarks/encoding-variants.sh with the engine's kernel files; prints CPU ns/px
// (thread CPU time, minimum over rounds) for a 6000 × 16 strip of random values.
import Glibc

func now() -> UInt64 { var t = timespec(); clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec) }
let w = 6000, rows = 16
let storage = StripStorage(width: w, rows: rows)
let strip = storage.strip(firstRow: 0, rows: rows)
var state: UInt64 = 1
var saved: [(Float, Float, Float)] = []
for _ in 0..<(w * rows) {
    state = state &* 6364136223846793005 &+ 1442695040888963407
    let r = Float(state >> 40) / Float(1 << 24), g = Float((state >> 20) & 0xFFFFF) / Float(1 << 20)
    saved.append((r, g, r * 0.5))
}
func restore() { for i in 0..<(w * rows) { (strip.r[i], strip.g[i], strip.b[i]) = saved[i] } }
let srgb: (Double) -> Double = { x in x <= 0.0031308 ? 12.92 * x : 1.055 * pow(x, 1 / 2.4) - 0.055 }
let m = Matrix3(rowMajor: [1.7, -0.5, -0.2, -0.3, 1.6, -0.3, 0.05, -0.6, 1.55])
let table = OutputEncodingKernel(toOutput: m, curve: srgb)
let power = PowerEncoding(toOutput: ColourMatrixKernel(m),
                          curve: PowerCurve(exponent: 1 / 2.4, scale: 1.055, offset: -0.055, threshold: 0.0031308, slope: 12.92))
let sink = OutputSink(sourceWidth: w, sourceHeight: rows, orientation: .normal, depth: .sixteen)
let rotated = OutputSink(sourceWidth: w, sourceHeight: rows, orientation: .rotate90Clockwise, depth: .sixteen)
var results: [String: UInt64] = [:]
func time(_ name: String, _ body: () -> Void) {
    var best = UInt64.max
    for _ in 0..<15 { restore(); let t0 = now(); for _ in 0..<4 { body() }; best = min(best, now() - t0) }
    results[name] = min(results[name] ?? .max, best)
}
for _ in 0..<3 {
    for e in [Engine.scalar, .simd] {
        time("encoding, table, \(e)") { table.run(over: strip, engine: e) }
        time("encoding, table, fused with the sink, \(e)") { table.run(over: strip, into: sink, engine: e) }
        time("sink alone, upright, \(e)") { sink.write(strip, engine: e) }
        time("sink alone, rotated, \(e)") { rotated.write(strip, engine: e) }
    }
    time("encoding, closed form, scalar") { power.run(over: strip, Float.self) }
    time("encoding, closed form, simd") { power.run(over: strip, SIMD4<Float>.self) }
}
let pixels = Double(4 * w * rows)
for name in results.keys.sorted() { print(name, (Double(results[name]!) / pixels * 100).rounded() / 100, "ns/px") }
