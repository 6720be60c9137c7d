/// The point stages of a render, in order, before the executor runs them.
///
/// Stages are declared one by one (camera matrix, exposure, look stages, output encoding); this
/// chain folds what can be folded before anything runs: adjacent linear maps multiply into one
/// matrix, and a matrix directly before the output encoding moves into the encoding's own
/// matrix. Fusion lives here, in the schedule, never in hand-merged kernel copies.
public struct PointStageChain: Sendable {
    public enum Element: Sendable {
        case matrix(Matrix3)
        case kernel(any PointKernel)
        case output(OutputEncodingKernel)
    }

    public private(set) var elements: [Element] = []

    public init() {}

    public mutating func append(_ element: Element) { elements.append(element) }

    /// The kernels to run, after fusion.
    public func fusedKernels() -> [any PointKernel] {
        var out: [any PointKernel] = []
        var pending: Matrix3?
        func flush() {
            if let m = pending { out.append(ColourMatrixKernel(m)) }
            pending = nil
        }
        for element in elements {
            switch element {
            case .matrix(let m):
                pending = pending.map { m * $0 } ?? m
            case .kernel(let k):
                flush()
                out.append(k)
            case .output(let encoding):
                if let m = pending {
                    out.append(encoding.prepending(ColourMatrixKernel(m)))
                    pending = nil
                } else {
                    out.append(encoding)
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
            }
        }
    }
}
