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

/// The noise tiles behind `FilmGrainKernel` (prepare-time code, kept out of the kernel file so
/// that stays Foundation-free): generation and a small process-wide cache.
extension FilmGrainKernel {
    /// One periodic tile, rows padded to `size + padding`, variance 1/2 (two tiles sum to 1).
    /// Tiles are kept for the process (a batch renders the same look many times).
    public static func tile(size n: Int, sigma: Double, seed: UInt64, salt: UInt64) -> [Float] {
        let key = TileKey(size: n, sigma: sigma, seed: seed, salt: salt)
        if let cached = TileCache.shared.get(key) { return cached }
        let made = makeTile(size: n, sigma: sigma, seed: seed, salt: salt)
        TileCache.shared.set(key, made)
        return made
    }

    static func makeTile(size n: Int, sigma: Double, seed: UInt64, salt: UInt64) -> [Float] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 ^ salt
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var field = [Double](repeating: 0, count: n * n)
        for i in 0..<field.count {
            var sum = 0.0
            for _ in 0..<4 { sum += Double(next() >> 11) / Double(1 << 53) }
            field[i] = (sum - 2) * 3.0.squareRoot()
        }
        let radius = max(1, Int((3 * sigma).rounded(.up)))
        var kernel = (-radius...radius).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        var temp = field
        for y in 0..<n {
            for x in 0..<n {
                var s = 0.0
                for (j, w) in kernel.enumerated() { s += w * field[y * n + ((x + j - radius) % n + n) % n] }
                temp[y * n + x] = s
            }
        }
        for y in 0..<n {
            for x in 0..<n {
                var s = 0.0
                for (j, w) in kernel.enumerated() { s += w * temp[((y + j - radius) % n + n) % n * n + x] }
                field[y * n + x] = s
            }
        }
        let mean = field.reduce(0, +) / Double(field.count)
        let variance = field.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(field.count)
        let scale = (0.5 / variance).squareRoot()
        let stride = n + padding
        var out = [Float](repeating: 0, count: n * stride)
        for y in 0..<n {
            for x in 0..<stride { out[y * stride + x] = Float((field[y * n + x % n] - mean) * scale) }
        }
        return out
    }
}

struct TileKey: Hashable { let size: Int; let sigma: Double; let seed: UInt64; let salt: UInt64 }

/// The process-wide grain tile cache (a few tiles of ~250 KB; bounded to 16 entries).
final class TileCache: @unchecked Sendable {
    static let shared = TileCache()
    private let lock = ThreadLock()
    private var tiles: [TileKey: [Float]] = [:]
    func get(_ key: TileKey) -> [Float]? { lock.lock(); defer { lock.unlock() }; return tiles[key] }
    func set(_ key: TileKey, _ value: [Float]) {
        lock.lock(); defer { lock.unlock() }
        if tiles.count >= 16 { tiles.removeAll() }
        tiles[key] = value
    }
}
