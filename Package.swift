// swift-tools-version:6.0
import PackageDescription

// C enters only through the shim targets (CLibRaw, CLCMS2, CPNGShim, and CVulkanCompute for tests); they expose no Swift API.
// EmulsionCore is pure Swift (no C imports) so its kernels build anywhere, aarch64 included.
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
        .target(name: "EmulsionCore"),
        .target(name: "EmulsionIO", dependencies: ["EmulsionCore", "CLibRaw", "CLCMS2", "CPNGShim"]),
        .target(name: "Emulsion", dependencies: ["EmulsionCore", "EmulsionIO"]),
        .executableTarget(name: "emulsion", dependencies: [
            "Emulsion", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // libFuzzer harness (`.ci/fuzz.sh`); a plain build makes a replayer for its findings.
        .executableTarget(name: "EmulsionFuzz", dependencies: ["EmulsionCore", "EmulsionIO"], path: "Tests/Fuzz"),
        .target(name: "EmulsionTestSupport", dependencies: ["Emulsion"], path: "Tests/EmulsionTestSupport"),
        // Vulkan compute runner for the shader tests only (static inline C in its shim.h, libvulkan opened at
        // run time): compiled only where imported, so building the product never compiles it.
        .systemLibrary(name: "CVulkanCompute"),
        .testTarget(name: "EmulsionCoreTests", dependencies: ["EmulsionCore", "EmulsionTestSupport"]),
        .testTarget(name: "EmulsionIOTests", dependencies: ["EmulsionIO", "EmulsionTestSupport"]),
        .testTarget(name: "EmulsionTests", dependencies: ["Emulsion", "EmulsionTestSupport"]),
        .testTarget(name: "EmulsionShaderTests", dependencies: ["Emulsion", "EmulsionTestSupport", "CVulkanCompute"]),
    ],
    swiftLanguageModes: [.v5]
)
