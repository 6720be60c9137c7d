/// A 3×3 linear colour transform, the kernel behind the camera matrix (white-balanced camera
/// RGB → linear working RGB) and any other change of primaries.
///
/// Why a separate point stage: consecutive matrix stages (camera → working, exposure gain,
/// working → output) are folded by the pipeline builder into one matrix (see `fused(with:)`),
/// so the kernel runs once however many linear steps the profile asks for.
/// Reference: DNG 1.6 §6 (camera to XYZ), colour space given by the caller's matrix.
public struct ColourMatrixKernel: PointKernel {
    public let m: (Float, Float, Float, Float, Float, Float, Float, Float, Float)
    public let matrix: Matrix3

    public init(_ matrix: Matrix3) {
        self.matrix = matrix
        let f = matrix.floats
        m = (f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8])
    }

    /// `other` applied after `self`.
    public func fused(with other: ColourMatrixKernel) -> ColourMatrixKernel {
        ColourMatrixKernel(other.matrix * matrix)
    }

    @inlinable @inline(__always)
    public func apply<L: Lanes>(_ p: RGB<L>, at location: PixelLocation) -> RGB<L> {
        RGB(p.r * L(repeating: m.0) + p.g * L(repeating: m.1) + p.b * L(repeating: m.2),
            p.r * L(repeating: m.3) + p.g * L(repeating: m.4) + p.b * L(repeating: m.5),
            p.r * L(repeating: m.6) + p.g * L(repeating: m.7) + p.b * L(repeating: m.8))
    }
}
