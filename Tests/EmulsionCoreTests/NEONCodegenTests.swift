import EmulsionTestSupport
import XCTest

/// The kernels compile for aarch64 and the compiler turns the `Lanes` code into NEON vector
/// instructions (`fmul v….4s`, `fsqrt v….4s`…), not lane-by-lane scalar code.
///
/// How: the Foundation-free kernel files (lanes, strips, point loop, sink, colour matrix, output
/// encoding, CFA, bilinear demosaic) are compiled with
/// `swiftc -target aarch64-none-none-elf -enable-experimental-feature Embedded -wmo
/// -parse-as-library -O -S` together with a small driver that instantiates them at the SIMD width
/// the engine uses on aarch64 (`SIMDLanes`) and at 4 lanes (one NEON register). Embedded Swift
/// needs no aarch64 SDK, so this runs on the x86_64 build machine. The assembly of each driver
/// function must contain 4-lane single-precision vector arithmetic.
/// Skips with a message where the toolchain lacks the aarch64 target; fails in CI.
final class NEONCodegenTests: XCTestCase {
    static let kernelFiles = [
        "Engine/Lanes.swift", "Engine/Pixel.swift", "Engine/FloatTable.swift", "Engine/ExponentCurveTable.swift", "Engine/Strip.swift",
        "Engine/PointKernel.swift", "Engine/OutputSink.swift", "Image/Orientation.swift", "Colour/Matrix3.swift",
        "Stages/ColourMatrix.swift", "Stages/OutputEncoding.swift", "Image/CFAPattern.swift",
        "Stages/Demosaic/MosaicWindow.swift", "Stages/Demosaic/BilinearDemosaic.swift", "Engine/ChannelCurve.swift",
        "Engine/LanesDispatch.swift",
    ]

    static let driver = """
        public func neonOutputEncoding(_ strip: Strip, _ sink: OutputSink) {
            let kernel = OutputEncodingKernel(toOutput: Matrix3(rowMajor: [1.7, -0.5, -0.2, -0.3, 1.6, -0.3, 0.05, -0.6, 1.55])) { $0 }
            PointLoop.run(kernel, over: strip, into: sink, lanes: SIMDLanes.self)
        }
        public func neonColourMatrix4(_ strip: Strip) {
            PointLoop.run(ColourMatrixKernel(Matrix3(rowMajor: [1, 0.5, 0, 0, 1, 0, 0.25, 0, 1])), over: strip, lanes: SIMD4<Float>.self)
        }
        public func neonDemosaic(_ window: MosaicWindow, _ strip: Strip) {
            BilinearDemosaic().interpolate(window, into: strip, engine: .simd)
        }
        public func neonSamplePairs(_ samples: UnsafePointer<UInt16>, _ even: UnsafeMutablePointer<Float>, _ odd: UnsafeMutablePointer<Float>) {
            let pairs = SIMDLanes.loadingSamplePairs(samples)
            pairs.even.store(to: even)
            pairs.odd.store(to: odd)
        }
        """

    func testKernelsCompileToNEONVectorInstructions() throws {
        guard let swiftc = TestSupport.which("swiftc") else {
            if TestSupport.inCI { XCTFail("swiftc not on PATH") }
            throw XCTSkip("swiftc not on PATH")
        }
        let sources = TestSupport.repositoryRoot.appendingPathComponent("Sources/EmulsionCore")
        let directory = TestSupport.temporaryDirectory("emulsion-neon")
        defer { try? FileManager.default.removeItem(at: directory) }
        let driver = directory.appendingPathComponent("Driver.swift")
        try Self.driver.write(to: driver, atomically: true, encoding: .utf8)
        let assembly = directory.appendingPathComponent("kernels.s")
        let arguments = ["-target", "aarch64-none-none-elf", "-enable-experimental-feature", "Embedded", "-wmo",
                         "-parse-as-library", "-O", "-S", "-module-name", "EmulsionKernels", "-o", assembly.path]
            + Self.kernelFiles.map { sources.appendingPathComponent($0).path } + [driver.path]
        let result = try TestSupport.run(swiftc, arguments, timeout: 300)
        if result.status != 0 {
            let unavailable = result.stderr.contains("unable to load standard library") || result.stderr.contains("no such module")
                || result.stderr.contains("could not find module") || result.stderr.contains("unknown target")
            if unavailable && !TestSupport.inCI {
                throw XCTSkip("this toolchain cannot compile for aarch64-none-none-elf (Embedded Swift): \(result.stderr.prefix(300))")
            }
            XCTFail("aarch64 compile failed (status \(result.status)):\n\(result.stderr.prefix(4000))")
            return
        }
        let text = try String(contentsOf: assembly, encoding: .utf8)
        for function in ["neonOutputEncoding", "neonColourMatrix4", "neonDemosaic", "neonSamplePairs"] {
            XCTAssertTrue(text.contains(function), "\(function) missing from the assembly")
        }
        // The kernels may be inlined into the drivers or kept as specialised functions: count over
        // the whole file, and require each kind of operation the kernels use.
        let lines = text.split(separator: "\n")
        func count(_ pattern: String) -> Int {
            lines.filter { $0.range(of: pattern, options: .regularExpression) != nil }.count
        }
        let arithmetic = count(#"^\s+f(mul|add|sub|sqrt|max|min|cmgt|cmge|cmeq|div)\s+v\d+\.4s"#)
        let scalar = count(#"^\s+f(mul|add|sub)\s+s\d+,"#)
        print("aarch64: \(arithmetic) NEON 4S float instructions, \(scalar) scalar float arithmetic instructions (remainders, set-up)")
        XCTAssertGreaterThan(arithmetic, 50, "too little NEON vector arithmetic")
        for (name, pattern) in [("fmul", #"fmul\s+v\d+\.4s"#), ("fadd", #"fadd\s+v\d+\.4s"#), ("fsub", #"fsub\s+v\d+\.4s"#),
                                ("compare or min/max", #"(fcm(gt|ge|eq)|fmax|fmin)\s+v\d+\.4s"#)] {
            XCTAssertGreaterThan(count(pattern), 0, "no \(name) on v….4s")
        }
        // The square root is the vector instruction, not a call per lane.
        XCTAssertTrue(text.range(of: #"fsqrt\s+v\d+\.4s"#, options: .regularExpression) != nil, "no fsqrt v.4s")
        // The column-plane window's sample split (`Lanes.loadingSamplePairs`), in its own driver
        // function: one 16-byte load, the even samples by a mask and the odd by one vector shift,
        // both converted as vectors (read in the assembly: ldr q, and, ushr, two ucvtf v.4s).
        // (Its label is the one line naming it that does not start with whitespace.)
        let body = lines.drop { $0.first?.isWhitespace != false || !$0.contains("neonSamplePairs") }
            .prefix { !$0.contains("ret") }.joined(separator: "\n")
        XCTAssertTrue(body.range(of: #"ushr\s+v\d+\.4s, v\d+\.4s, #16"#, options: .regularExpression) != nil,
                      "no ushr v.4s, #16 in neonSamplePairs:\n\(body.prefix(2000))")
        XCTAssertTrue(body.range(of: #"[su]cvtf\s+v\d+\.4s"#, options: .regularExpression) != nil, "no ucvtf v.4s in neonSamplePairs")
    }
}
