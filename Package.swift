// swift-tools-version:6.2
import PackageDescription

// C enters only through the shim targets (CLibRaw, CLCMS2, CPNGShim, and CVulkanCompute for tests); they expose no Swift API.
// EmulsionCore is pure Swift (no C imports) so its kernels build anywhere, aarch64 included.
// LLVM's SLP vectorizer limited to trees of depth 6 (its default is 12). Swift's SIMD4 arithmetic reaches LLVM as
// per-lane scalar operations that SLP re-vectorizes; from deep trees it built vectors mixing lanes of two channels
// (r0, g1, r2, g3), then shuffled them apart, in most look kernels. Depth 6 was the best of 3–12 over every kernel
// (docs/PERFORMANCE.md, run v13); it changes which instructions run, never a value. After changing it, delete the
// .o files: swift-frontend keeps an object whose IR is unchanged, whatever the LLVM options. The flag goes through
// `unsafeFlags`, which SwiftPM refuses in a versioned dependency whose manifest is older than tools version 6.2
// (swiftlang/swift-package-manager#8951): hence 6.2 above, so that other packages can depend on the library by
// version (PackageConsumerTests).
let kernelCodegen: [SwiftSetting] = [.unsafeFlags(["-Xllvm", "-slp-recursion-max-depth=6"])]

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
        .systemLibrary(name: "CLibRaw", pkgConfig: "libraw_r", providers: [.apt(["libraw-dev"])]),
        .systemLibrary(name: "CLCMS2", pkgConfig: "lcms2", providers: [.apt(["liblcms2-dev"])]),
        .target(name: "CPNGShim", linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("z")]),
        .target(name: "EmulsionCore", swiftSettings: kernelCodegen),
        .target(name: "EmulsionIO", dependencies: ["EmulsionCore", "CLibRaw", "CLCMS2", "CPNGShim"], swiftSettings: kernelCodegen),
        .target(name: "Emulsion", dependencies: ["EmulsionCore", "EmulsionIO"], swiftSettings: kernelCodegen),
        .executableTarget(name: "emulsion", dependencies: [
            "Emulsion", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: kernelCodegen),
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
