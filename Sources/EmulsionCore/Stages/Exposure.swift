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

/// Exposure: scales scene-linear light by 2^EV.
///
/// A pure gain, so the pipeline builder folds it into the neighbouring colour matrix rather than
/// running it as its own pass. Colour space: working RGB in and out (linear, so a gain is exact).
public enum Exposure {
    /// The gain for `ev` stops, as a matrix the builder can fuse.
    public static func matrix(ev: Double) -> Matrix3 {
        Matrix3.diagonal(SIMD3(repeating: pow(2, ev)))
    }
}
