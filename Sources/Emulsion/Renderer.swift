import EmulsionCore
import EmulsionIO

/// How to render, beyond the profile: output space, depth and engine.
public struct RenderOptions: Sendable {
    public var profile: Profile
    public var space: OutputSpace
    public var depth: OutputSink.Depth
    public var engine: Engine
    public var threads: Int

    public init(profile: Profile = .defaults, space: OutputSpace = .sRGB, depth: OutputSink.Depth = .sixteen,
                engine: Engine = .simd, threads: Int = Executor.defaultThreads) {
        self.profile = profile
        self.space = space
        self.depth = depth
        self.engine = engine
        self.threads = threads
    }
}

/// A finished, upright, encoded image with the ICC profile that describes it.
public struct RenderedImage: Sendable {
    public var width: Int
    public var height: Int
    public var depth: OutputSink.Depth
    /// Interleaved RGB; 0…65535 for 16-bit, 0…255 for 8-bit.
    public var samples: [UInt16]
    public var space: OutputSpace
    public var iccProfile: [UInt8]
}

public struct RenderError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Builds the stage graph for one raw and one profile, then lets the executor run it.
///
/// This is the only place that knows the order of stages (shared/docs/DESIGN.md's data flow):
/// raw stages (levels, white balance, highlights, demosaic) in the source, then the point stages
/// (camera matrix, exposure, output encoding) as a chain the executor fuses and runs per strip.
public enum Renderer {
    public static func render(_ raw: RawImage, options: RenderOptions) throws -> RenderedImage {
        let plan = try RenderPlan(raw: raw, options: options)
        let (w, h) = (plan.source.width, plan.source.height)
        let orientation = raw.metadata.orientation
        // The sink writes straight into the result's storage: no zero fill, no copy.
        let samples = [UInt16](unsafeUninitializedCapacity: 3 * w * h) { buffer, count in
            MemoryAdvice.preferHugePages(UnsafeMutableRawBufferPointer(buffer))
            let sink = OutputSink(sourceWidth: w, sourceHeight: h, orientation: orientation, depth: options.depth, into: buffer)
            Executor(engine: options.engine, threads: options.threads).run(source: plan.source, kernels: plan.chain.fusedKernels(), sink: sink)
            count = 3 * w * h
        }
        let (width, height) = orientation.orientedSize(width: w, height: h)
        return RenderedImage(width: width, height: height, depth: options.depth, samples: samples,
                             space: options.space, iccProfile: try options.space.iccProfile())
    }
}

/// The prepared stages of one render: derived constants only, computed once from the parameters.
public struct RenderPlan: Sendable {
    public let source: any StripSource
    public let chain: PointStageChain
    /// The white balance multipliers used (R, G, B; green = 1).
    public let whiteBalance: SIMD3<Float>
    /// White-balanced camera RGB → working RGB.
    public let cameraToWorking: Matrix3

    public init(raw: RawImage, options: RenderOptions) throws {
        let profile = options.profile
        whiteBalance = Self.whiteBalance(raw, mode: profile.option("whiteBalance", "mode", as: WhiteBalanceMode.self))
        let ceiling: Float
        switch profile.option("highlights", "mode", as: HighlightMode.self) {
        case .clip: ceiling = 1
        }
        var source: any StripSource
        switch raw.layout {
        case .mosaic(let cfa):
            let normalisation = RawNormalisation(levels: raw.levels, multipliers: whiteBalance, cfa: cfa, ceiling: ceiling)
            source = MosaicSource(raw: raw.samples, width: raw.width, height: raw.height, cfa: cfa,
                                  normalisation: normalisation, demosaic: Self.demosaic(profile.option("demosaic", "algorithm", as: DemosaicMethod.self)))
        case .rgb:
            source = RGBSource(raw: raw.samples, width: raw.width, height: raw.height,
                               channels: RawNormalisation.forRGB(levels: raw.levels, multipliers: whiteBalance, ceiling: ceiling))
        }
        let aspect = raw.metadata.pixelAspect
        if aspect.isFinite, aspect > 0, abs(aspect - 1) > 1e-3 {
            source = PixelAspectSource(inner: source, aspect: aspect)
        }
        self.source = source

        cameraToWorking = WorkingSpace.fromLinearSRGB * (raw.colour.cameraToSRGB ?? .identity)
        var chain = PointStageChain()
        chain.append(.matrix(cameraToWorking))
        var ev = profile.number("exposure", "ev")
        if profile.flag("exposure", "baseline") { ev += Double(raw.colour.baselineExposure) }
        if ev != 0 { chain.append(.matrix(Exposure.matrix(ev: ev))) }
        chain.append(.output(try options.space.outputEncoding()))
        self.chain = chain
    }

    static func whiteBalance(_ raw: RawImage, mode: WhiteBalanceMode) -> SIMD3<Float> {
        let c = raw.colour
        switch mode {
        case .daylight: return c.daylightMultipliers ?? c.asShotMultipliers ?? .one
        case .asShot: return c.asShotMultipliers ?? c.daylightMultipliers ?? .one
        }
    }

    static func demosaic(_ method: DemosaicMethod) -> any DemosaicAlgorithm {
        switch method {
        case .bilinear: return BilinearDemosaic()
        }
    }
}
