// swift-tools-version:6.2
import PackageDescription

// C enters only through the shim targets (CLibRaw, CLibRawPeek, CLCMS2, CPNGShim, CJPEGShim, CProcessShim, and CVulkanCompute for tests); they expose no Swift API.
// CLibRawPeek is C++ behind a C header: it reads a decision LibRaw keeps in its C++ object (RawFile.checkLossyLoaderOpcodes).
// EmulsionCore is pure Swift (no C imports) so its kernels build anywhere, aarch64 included.
// Three code-generation options for the product's Swift targets, through `unsafeFlags`, which SwiftPM refuses in a
// versioned dependency whose manifest is older than tools version 6.2 (swiftlang/swift-package-manager#8951): hence
// 6.2 above, so that other packages can depend on the library by version (PackageConsumerTests).
// 1. LLVM's SLP vectorizer limited to trees of depth 6 (its default is 12). Swift's SIMD4 arithmetic reaches LLVM as
//    per-lane scalar operations that SLP re-vectorizes; from deep trees it built vectors mixing lanes of two channels
//    (r0, g1, r2, g3), then shuffled them apart, in most look kernels. Depth 6 was the best of 3–12 over every kernel
//    (docs/PERFORMANCE.md, run v13); it changes which instructions run, never a value. After changing it, delete the
//    .o files: swift-frontend keeps an object whose IR is unchanged, whatever the LLVM options.
// 2. Type metadata reached through accessor calls, not by mangled name. By mangled name, the runtime checks each
//    generic requirement (`KeyedEncodingContainer<CodingKeys>` needs `CodingKeys: CodingKey`) with a conformance
//    lookup, and each type's first lookup scans the static binary's conformance records (~6 000 when measured,
//    ~4 200 since the product stopped linking all of Foundation); the accessors pass the conformances the
//    compiler already knows. The decode worker's header (Codable) cost 5.8 M instructions to write and 6.5 M to
//    read on the 0.2 MP Pixel crop, 0.8 M and 2.1 M with this (callgrind, docs/PERFORMANCE.md run v19).
//    Slightly larger code; no value changes.
// 3. Debug builds optimise the product's targets too (`-O` after SwiftPM's `-Onone`; overflow checks, preconditions
//    and `#if DEBUG` code stay, as does `-enable-testing` for `@testable import`). The tests render every sample through
//    both engines and every look: unoptimised, the suite's tests took 743 s on the project's 2-core machine (session
//    23's CI run), optimised 167 s (session 24), for about 90 s more compiling. And they then test code the optimiser
//    has made, as it ships: the engines' bitwise agreement is checked under -O, file by file here where release
//    optimises whole modules. For stepping through unoptimised code in a debugger:
//    `EMULSION_UNOPTIMISED_DEBUG=1 swift build` (SwiftPM re-reads this manifest when the environment changes). The
//    test targets themselves stay unoptimised.
let optimiseDebugBuilds = Context.environment["EMULSION_UNOPTIMISED_DEBUG"] == nil
let productCodegen: [SwiftSetting] = [.unsafeFlags([
    "-Xllvm", "-slp-recursion-max-depth=6",
    "-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors",
])] + (optimiseDebugBuilds ? [.unsafeFlags(["-O"], .when(configuration: .debug))] : [])

// The executable's own symbols stay out of its dynamic symbol table. `-static-stdlib` links with `-export-dynamic`
// (the toolchain's static-stdlib-args.lnk), which put ~5 900 of the product's Swift symbols there: every process start
// then scanned them (the Swift runtime's backtracer start-up asks `dladdr` about one of its own functions, a linear
// search of that table) and looked each shared library's ~3 000 symbol relocations up past them. With the flag, which
// comes after the toolchain's, the table keeps only what the shared libraries need: a decode worker's empty run
// 4.18 M -> 3.97 M instructions (callgrind; docs/PERFORMANCE.md, session 20). Nothing looks our symbols up by name.
let executableLinking: [LinkerSetting] = [.unsafeFlags(["-Xlinker", "--no-export-dynamic"])]

let package = Package(
    name: "Emulsion",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "emulsion", targets: ["emulsion"]),
        .library(name: "Emulsion", targets: ["Emulsion"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // LibRaw, libjpeg, libpng and zlib link from their static archives (the module map, `linkedLibrary(":lib….a")`);
        // pkg-config would add the shared libraw_r. Only lcms2 (Debian ships no archive), libgomp and libstdc++ stay shared.
        .systemLibrary(name: "CLibRaw", providers: [.apt(["libraw-dev", "libjpeg-dev"])]),
        .systemLibrary(name: "CLCMS2", pkgConfig: "lcms2", providers: [.apt(["liblcms2-dev"])]),
        .target(name: "CPNGShim", linkerSettings: [.linkedLibrary(":libpng16.a"), .linkedLibrary(":libz.a")]),
        .target(name: "CJPEGShim", linkerSettings: [.linkedLibrary(":libjpeg.a")]),
        .target(name: "CProcessShim"),
        .target(name: "CLibRawPeek"),
        .target(name: "EmulsionCore", dependencies: ["CProcessShim"], swiftSettings: productCodegen),
        .target(name: "EmulsionIO", dependencies: ["EmulsionCore", "CLibRaw", "CLibRawPeek", "CLCMS2", "CPNGShim", "CJPEGShim", "CProcessShim"], swiftSettings: productCodegen),
        .target(name: "Emulsion", dependencies: ["EmulsionCore", "EmulsionIO"], swiftSettings: productCodegen),
        .executableTarget(name: "emulsion", dependencies: [
            "Emulsion", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: productCodegen, linkerSettings: executableLinking),
        // libFuzzer harness (`.ci/fuzz.sh`); a plain build makes a replayer for its findings.
        .executableTarget(name: "EmulsionFuzz", dependencies: ["EmulsionCore", "EmulsionIO"], path: "Tests/Fuzz"),
        .target(name: "EmulsionTestSupport", dependencies: ["Emulsion"], path: "Tests/EmulsionTestSupport"),
        // Vulkan compute runner for the shader tests only (static inline C in its shim.h, libvulkan opened at
        // run time): compiled only where imported, so building the product never compiles it.
        .systemLibrary(name: "CVulkanCompute"),
        .testTarget(name: "EmulsionCoreTests", dependencies: ["EmulsionCore", "EmulsionTestSupport"]),
        .testTarget(name: "EmulsionIOTests", dependencies: ["EmulsionIO", "EmulsionTestSupport"]),
        .testTarget(name: "EmulsionTests", dependencies: ["Emulsion", "EmulsionTestSupport"]),
        // The CLI's own types (`@testable import emulsion`: SwiftPM links an executable target's
        // code into tests with its entry point renamed).
        .testTarget(name: "EmulsionCLITests", dependencies: ["emulsion", "EmulsionTestSupport"]),
        .testTarget(name: "EmulsionShaderTests", dependencies: ["Emulsion", "EmulsionTestSupport", "CVulkanCompute"]),
    ],
    swiftLanguageModes: [.v5]
)
