/// The point stages of a render, in order, before the executor runs them.
///
/// Stages are declared one by one (camera matrix, exposure, look stages, output encoding); this
/// chain folds what can be folded before anything runs: adjacent linear maps multiply into one
/// matrix, a matrix directly before the output encoding moves into the encoding's own matrix,
/// and per-channel curves on encoded values directly after the encoding compose with its
/// transfer curve into its one table (tone curve ∘ display encoding = one lookup). Fusion lives
/// here, in the schedule, never in hand-merged kernel copies.
public struct PointStageChain: Sendable {
    public enum Element: Sendable {
        case matrix(Matrix3)
        case kernel(any PointKernel)
        case output(OutputEncodingKernel)
        /// A curve applied to each encoded channel after the output encoding.
        case encodedCurve(ChannelCurveKernel)
    }

    public private(set) var elements: [Element] = []

    public init() {}

    public mutating func append(_ element: Element) { elements.append(element) }

    /// The kernels to run, after fusion.
    public func fusedKernels() -> [any PointKernel] {
        var out: [any PointKernel] = []
        var pending: Matrix3?
        var encoding: OutputEncodingKernel?
        func flush() {
            if let m = pending { out.append(ColourMatrixKernel(m)) }
            pending = nil
            if let e = encoding { out.append(e) }
            encoding = nil
        }
        for element in elements {
            switch element {
            case .matrix(let m):
                if encoding != nil { flush() }
                pending = pending.map { m * $0 } ?? m
            case .kernel(let k):
                flush()
                out.append(k)
            case .output(let e):
                if encoding != nil { flush() }  // (a pending matrix never coexists with an encoding)
                encoding = pending.map { e.prepending(ColourMatrixKernel($0)) } ?? e
                pending = nil
            case .encodedCurve(let c):
                if let e = encoding {
                    encoding = e.composing(c)
                } else {
                    flush()
                    out.append(c)
                }
            }
        }
        flush()
        return out
    }

    /// The kernels one by one, unfused (for tests that prove fusion changes nothing).
    public func unfusedKernels() -> [any PointKernel] {
        elements.map { element -> any PointKernel in
            switch element {
            case .matrix(let m): return ColourMatrixKernel(m)
            case .kernel(let k): return k
            case .output(let e): return e
            case .encodedCurve(let c): return c
            }
        }
    }
}
