/// The one place that turns an `Engine` (and, for `.simd`, the benchmark's `SIMDWidth`) into a
/// lane type: every dispatch site (point loops, raw normalisation, demosaics, sink) states only
/// its body, as a `LanesBody`, and `Engine.dispatch` picks the instantiation.
///
/// Why a protocol with a generic method rather than a closure: Swift closures cannot be generic,
/// and a body passed as a concrete struct lets the optimiser specialise `run` for each lane type
/// at the call site (`Engine.dispatch` is inlinable and always inlined), so the kernels behind it
/// are instantiated for `Float`, `SIMD4`, `SIMD8` and `SIMD16` exactly as with a hand-written
/// `switch` (checked with `emulsion bench`: docs/PERFORMANCE.md).
///
/// Foundation-free (compiled for aarch64 in the NEON codegen check).
public protocol LanesBody {
    /// The work, instantiated for the lane type `L`.
    func run<L: Lanes>(_ lanes: L.Type)
}

extension Engine {
    /// Runs `body` with `Float` for `.scalar`, and with the `SIMDWidth.selected` vector for `.simd`;
    /// `doubled` asks for twice that width (two registers per value, at most 16 lanes), for the
    /// kernels measured faster so (`PointKernel.runsDoubleWidth`).
    @inlinable @inline(__always)
    public func dispatch<B: LanesBody>(_ body: B, doubled: Bool = false) {
        switch self {
        case .scalar: body.run(Float.self)
        case .simd:
            switch SIMDWidth.selected {
            case .four: doubled ? body.run(SIMD8<Float>.self) : body.run(SIMD4<Float>.self)
            case .eight: doubled ? body.run(SIMD16<Float>.self) : body.run(SIMD8<Float>.self)
            case .sixteen: body.run(SIMD16<Float>.self)
            }
        }
    }
}
