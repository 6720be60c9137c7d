/// A lookup table in memory that no one mutates or moves: kernels read it through a plain
/// pointer, with no array bounds checks, retain/release or copy-on-write checks in the hot loop.
///
/// Foundation-free (compiled for aarch64 in the NEON codegen check).
public final class FloatTable: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(_ values: [Float]) {
        count = values.count
        // One spare entry so a lane gather of `index + 1` at the last cell stays inside.
        pointer = .allocate(capacity: max(1, values.count + 1))
        pointer.initialize(repeating: values.last ?? 0, count: max(1, values.count + 1))
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    /// `values` as (value, step to the next value) pairs, for `Lanes.interpolated(inExponentPairs:)`:
    /// entry i is (vᵢ, vᵢ₊₁ − vᵢ), the last one's step 0. The step is the same float subtraction
    /// the interpolation would make, so results do not change with the layout.
    public convenience init(stepPairs values: [Float]) {
        var pairs: [Float] = []
        pairs.reserveCapacity(2 * values.count)
        for (i, v) in values.enumerated() {
            pairs.append(v)
            pairs.append(i + 1 < values.count ? values[i + 1] - v : 0)
        }
        self.init(pairs)
    }

    deinit { pointer.deallocate() }
}
