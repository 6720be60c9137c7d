import EmulsionCore
import EmulsionIO

/// How to render, beyond the profile: output space, depth and engine.
public struct RenderOptions: Sendable {
    public var profile: Profile
    public var space: OutputSpace
    public var depth: OutputSink.Depth
    public var engine: Engine
    public var threads: Int
    /// A DNG camera profile (`--dcp`) replacing the file's own calibrations; nil for none.
    public var cameraProfile: CameraProfile?
    /// Render each input through the camera profile it embeds (`--dcp embedded`; `DCPFile`):
    /// `Processor.render` reads it into `cameraProfile`, and fails an input that has none.
    public var embeddedCameraProfile = false
    /// Render through this phone ISP's precision (`--device`, `DevicePipeline`); nil for the normal engine.
    public var device: DeviceDescription?
    /// Leave the shot's GPS location out of the output's metadata (`--strip-location`): a render
    /// to share without where it was taken. The pixels do not change.
    public var stripsLocation = false
    /// The part of the picture to render (`--crop`, `--aspect`), in full-size upright output
    /// pixels; nil for all of it. Colours are those of the whole picture: the white balance is
    /// resolved on the whole raw (`CroppedSource`).
    public var crop: OutputCrop?

    public init(profile: Profile = .defaults, space: OutputSpace = .sRGB, depth: OutputSink.Depth = .sixteen,
                engine: Engine = .simd, threads: Int = Executor.defaultThreads, cameraProfile: CameraProfile? = nil) {
        self.cameraProfile = cameraProfile
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
        // The sink writes straight into the result's storage: no zero fill, no copy.
        let samples = [UInt16](unsafeUninitializedCapacity: 3 * w * h) { buffer, count in
            MemoryAdvice.preferHugePages(UnsafeMutableRawBufferPointer(buffer))
            let sink = OutputSink(sourceWidth: w, sourceHeight: h, orientation: plan.orientation, depth: options.depth, into: buffer)
            Executor(engine: options.engine, threads: options.threads).run(source: plan.source, kernels: plan.chain.fusedKernels(), sink: sink)
            count = 3 * w * h
        }
        let (width, height) = plan.orientation.orientedSize(width: w, height: h)
        return RenderedImage(width: width, height: height, depth: options.depth, samples: samples,
                             space: options.space, iccProfile: try options.space.iccProfile())
    }
}

/// The prepared stages of one render: derived constants only, computed once from the parameters.
public struct RenderPlan: Sendable {
    public let source: any StripSource
    /// How the sink turns the source's image upright. Never an axis swap: a raw stored on its side
    /// is transposed before its source is built (`RawImage.transposed`), so output rows are always
    /// source rows and every render streams (docs/ARCHITECTURE.md).
    public let orientation: Orientation
    public let chain: PointStageChain
    /// The white balance multipliers used (R, G, B; green = 1).
    public let whiteBalance: SIMD3<Float>
    /// The white's chromaticity, when the camera's matrices allow it to be known.
    public let white: Chromaticity?
    /// White-balanced camera RGB → working RGB.
    public let cameraToWorking: Matrix3
    /// Which camera matrix was used (`auto` resolved).
    public let matrixMethod: CameraMatrixMethod

    public init(raw original: RawImage, options: RenderOptions) throws {
        let profile = options.profile
        var raw = original
        if let dcp = options.cameraProfile {
            // DNG 1.6 §6: a camera profile brings its own matrices; the file's CameraCalibration
            // belongs to the file's profile and is not applied to another one.
            raw.colour.dngCalibrations = dcp.calibrations.map {
                DNGCalibration(illuminant: $0.illuminant, colorMatrix: $0.colorMatrix, forwardMatrix: $0.forwardMatrix)
            }
        }
        let balance = try Self.whiteBalance(raw, profile: profile)
        whiteBalance = balance.multipliers
        white = balance.white
        // Highlights: `clip` limits every channel to 1 (the smallest clip level) before anything
        // else; `blend` and `reconstruct` keep each channel up to its own clip level (its
        // multiplier over the smallest) and treat what lies above 1 themselves.
        let highlights = profile.option("highlights", "mode", as: HighlightMode.self)
        let clipLevels = whiteBalance / max(whiteBalance.min(), .leastNormalMagnitude)
        let ceiling: Float = highlights == .clip ? 1 : clipLevels.max()
        var blend = highlights == .blend
        // From here on the raw is only geometry for the source: the white balance above was
        // resolved on it as stored (its spot rectangle is mapped through the stored orientation).
        if raw.metadata.orientation.swapsAxes { raw = raw.transposed(threads: options.threads) }
        orientation = raw.metadata.orientation
        var source: any StripSource
        switch raw.layout {
        case .mosaic(let cfa):
            let normalisation = RawNormalisation(levels: raw.levels, multipliers: whiteBalance, cfa: cfa, ceiling: ceiling)
            var stage: (any MosaicStage)?
            if highlights == .reconstruct {
                stage = HighlightReconstruction.prepare(samples: raw.samples, width: raw.width, height: raw.height, cfa: cfa,
                                                        normalisation: normalisation, clipLevels: clipLevels)
            }
            source = MosaicSource(raw: raw.samples, width: raw.width, height: raw.height, cfa: cfa,
                                  normalisation: normalisation,
                                  demosaic: profile.option("demosaic", "algorithm", as: DemosaicMethod.self).algorithm(for: cfa),
                                  mosaicStage: stage,
                                  lensShading: profile.flag("opcodes", "gainMap") ? raw.lensShading : nil)
        case .rgb:
            // Already demosaiced: no mosaic to reconstruct from, so `reconstruct` blends.
            if highlights == .reconstruct { blend = true }
            source = RGBSource(raw: raw.samples, width: raw.width, height: raw.height,
                               channels: RawNormalisation.forRGB(levels: raw.levels, multipliers: whiteBalance, ceiling: ceiling))
        }
        // DNG OpcodeList3 applies to the demosaiced image before anything that moves or stretches it.
        // In the list's order: a vignette recorded before the warp sees the uncorrected geometry.
        let vignette = profile.flag("opcodes", "vignette") ? raw.lensVignette : nil
        if let vignette, vignette.precedesWarp {
            source = LensVignetteSource(inner: source, mapping: vignette.mapping(pixelAspect: raw.metadata.pixelAspect))
        }
        if let warp = Self.appliedWarp(raw, profile: profile) {
            source = LensWarpSource(inner: source, mapping: warp.mapping(pixelAspect: raw.metadata.pixelAspect))
        }
        if let vignette, !vignette.precedesWarp {
            source = LensVignetteSource(inner: source, mapping: vignette.mapping(pixelAspect: raw.metadata.pixelAspect))
        }
        if raw.stretchesPixels { source = PixelAspectSource(inner: source, aspect: raw.metadata.pixelAspect) }
        // The picture the file marks (DNG DefaultCrop) is in stored coordinates: no mirroring.
        let picture = Self.pictureArea(raw, profile: profile)
        if picture.width != source.width || picture.height != source.height {
            source = CroppedSource(inner: source, x: picture.x, y: picture.y, width: picture.width, height: picture.height)
        }
        if let crop = options.crop {
            // Asked in upright pixels; the source is the stored frame, which the sink mirrors or
            // turns (an axis swap was made a transposition above).
            let r = try crop.rectangle(inWidth: source.width, height: source.height)
            let mirrorsX = [.mirrorHorizontal, .rotate180].contains(orientation), mirrorsY = [.mirrorVertical, .rotate180].contains(orientation)
            source = CroppedSource(inner: source, x: mirrorsX ? source.width - r.x - r.width : r.x,
                                   y: mirrorsY ? source.height - r.y - r.height : r.y, width: r.width, height: r.height)
        }
        self.source = source

        let dcp = options.cameraProfile
        (cameraToWorking, matrixMethod) = try Self.cameraMatrix(raw, white: balance.white,
                                                                 method: dcp != nil ? .auto : profile.option("camera", "matrix", as: CameraMatrixMethod.self))
        var chain = PointStageChain()
        if blend { chain.append(.kernel(HighlightBlendKernel())) }
        chain.append(.matrix(cameraToWorking))
        // Camera profile tables work in linear ProPhoto RGB (DNG 1.6 §6).
        let proPhotoToWorking = WorkingSpace.fromXYZD65
            * ChromaticAdaptation.bradford(from: RGBPrimaries.proPhoto.white.xyz, to: Chromaticity.d65.xyz) * RGBPrimaries.proPhoto.toXYZ
        let workingToProPhoto = proPhotoToWorking.inverse!
        if let dcp, let white = balance.white, let model = DNGColourModel(raw.colour) {
            let g = Float(model.weight(kelvin: ColourTemperature.temperature(of: white).kelvin))
            var tables: [CameraProfile.HSVTable] = []
            if let first = dcp.hueSatMaps.first {
                let second = dcp.hueSatMaps.count > 1 && dcp.calibrations.count > 1 ? dcp.hueSatMaps[1] : first
                // The maps follow the calibrations (illuminant 1, 2); the model sorts by temperature.
                let lowFirst = (ColourTemperature.kelvin(lightSource: dcp.calibrations[0].illuminant) ?? 0)
                    <= (ColourTemperature.kelvin(lightSource: dcp.calibrations.last!.illuminant) ?? 0)
                tables.append(first.data.count == second.data.count
                              ? CameraProfile.HSVTable.mix(lowFirst ? first : second, lowFirst ? second : first, g) : first)
            }
            if profile.flag("camera", "lookTable"), let look = dcp.lookTable { tables.append(look) }
            let kernels = tables.compactMap { HueSatMapKernel($0) }
            if !kernels.isEmpty {
                chain.append(.matrix(workingToProPhoto))
                for k in kernels { chain.append(.kernel(k)) }
                chain.append(.matrix(proPhotoToWorking))
            }
        }
        var ev = profile.number("exposure", "ev")
        if profile.flag("exposure", "baseline") { ev += Double(raw.colour.baselineExposure) + Double(dcp?.baselineExposureOffset ?? 0) }
        if ev != 0 { chain.append(.matrix(Exposure.matrix(ev: ev))) }
        // The camera profile's tone curve belongs to the camera rendering, before any look.
        if let dcp, profile.flag("camera", "profileToneCurve"), let curve = ProfileToneCurveKernel(points: dcp.toneCurve) {
            chain.append(.matrix(workingToProPhoto))
            chain.append(.kernel(curve))
            chain.append(.matrix(proPhotoToWorking))
        }
        let look = try LookPlan.stages(profile: profile, context: LookContext(width: source.width, height: source.height),
                                       source: source, sourceToWorking: Exposure.matrix(ev: ev) * cameraToWorking,
                                       engine: options.engine, threads: options.threads)
        if let device = options.device {
            self.chain = try DevicePipeline.chain(front: chain, look: look, space: options.space, device: device)
            return
        }
        for (_, element) in look {
            switch element {
            case .matrix(let m): chain.append(.matrix(m))
            case .kernel(let k): chain.append(.kernel(k))
            }
        }
        chain.append(.output(try options.space.outputEncoding()))
        self.chain = chain
    }

    /// The white balance the profile asks for (the spot rectangle is given in output pixels).
    static func whiteBalance(_ raw: RawImage, profile: Profile) throws -> WhiteBalance.Resolved {
        let mode = profile.option("whiteBalance", "mode", as: WhiteBalanceMode.self)
        var spot: WhiteBalance.Rect?
        let width = Int(profile.number("whiteBalance", "spotWidth")), height = Int(profile.number("whiteBalance", "spotHeight"))
        // A width or height of 0 (the defaults) is no rectangle: resolve reports it. (It was read
        // as one pixel at the corner, which on a reduced preview balanced on that pixel.)
        if mode == .spot, width >= 1, height >= 1 {
            spot = storedRect(raw, x: Int(profile.number("whiteBalance", "spotX")), y: Int(profile.number("whiteBalance", "spotY")),
                              width: width, height: height, picture: pictureArea(raw, profile: profile))
            if let warp = appliedWarp(raw, profile: profile), let rect = spot {
                spot = sourceRect(rect, through: warp.mapping(pixelAspect: raw.metadata.pixelAspect), width: raw.width, height: raw.height)
            }
        }
        do {
            return try WhiteBalance.resolve(raw, mode: mode, kelvin: profile.number("whiteBalance", "temperature"),
                                            tint: profile.number("whiteBalance", "tint"), spot: spot)
        } catch let failure as WhiteBalance.Failure {
            switch failure {
            case .needsMatrix(let m), .emptyRegion(let m): throw RenderError(m)
            }
        }
    }

    /// The lens warp (DNG OpcodeList3 WarpRectilinear) the render applies, if any.
    static func appliedWarp(_ raw: RawImage, profile: Profile) -> LensWarp? {
        guard let warp = raw.lensWarp, profile.flag("opcodes", "warp"), max(raw.width, raw.height) < LensWarpSource.maximumSide else { return nil }
        return warp
    }

    /// The stored pixels a rectangle of the warped frame reads: the bounding box of where its
    /// outline maps (each edge sampled; a radial warp bends straight edges, so corners alone can
    /// miss an edge's bulge), clamped to the frame. A phone's warp moves pixels by up to a few
    /// (the Pixel 7's by ~1 % of the distance from the centre), a wide-angle lens's by many:
    /// without this a spot balance would read photosites beside the ones the user picked.
    static func sourceRect(_ rect: WhiteBalance.Rect, through mapping: LensWarp.Mapping, width: Int, height: Int) -> WhiteBalance.Rect {
        // A rectangle off the frame stays as it is, for `WhiteBalance.resolve` to refuse.
        guard rect.x < width && rect.y < height && rect.x + rect.width > 0 && rect.y + rect.height > 0 else { return rect }
        var low = SIMD2<Double>(repeating: .infinity), high = SIMD2<Double>(repeating: -.infinity)
        let (x0, x1) = (Double(rect.x), Double(rect.x + rect.width - 1)), (y0, y1) = (Double(rect.y), Double(rect.y + rect.height - 1))
        let steps = 16
        for k in 0...steps {
            let t = Double(k) / Double(steps)
            let (x, y) = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t)
            for (px, py) in [(x, y0), (x, y1), (x0, y), (x1, y)] {
                // Green's position: the planes differ by lateral chromatic aberration, a fraction of a pixel.
                let p = mapping.source(x: px, y: py, plane: 1)
                guard p.x.isFinite && p.y.isFinite else { continue }
                low = pointwiseMin(low, p); high = pointwiseMax(high, p)
            }
        }
        guard low.x <= high.x && low.y <= high.y else { return rect }
        // A position reads the pixels around it: take every pixel it falls on or between.
        let left = min(max(Int(low.x.rounded(.down)), 0), width - 1), top = min(max(Int(low.y.rounded(.down)), 0), height - 1)
        let right = min(max(Int(high.x.rounded(.up)), left), width - 1), bottom = min(max(Int(high.y.rounded(.up)), top), height - 1)
        return WhiteBalance.Rect(x: left, y: top, width: right - left + 1, height: bottom - top + 1)
    }

    /// The part of the raw the profile renders (`crop.dngDefault`, `crop.dngUser`), in the stretched stored frame.
    static func pictureArea(_ raw: RawImage, profile: Profile) -> ImageRectangle {
        raw.pictureArea(honoursDefaultCrop: profile.flag("crop", "dngDefault"), honoursUserCrop: profile.flag("crop", "dngUser"))
    }

    /// A rectangle of the upright output image as stored raw pixels (orientation undone, the
    /// offset of the `picture` rendered added, pixel aspect divided out).
    static func storedRect(_ raw: RawImage, x: Int, y: Int, width: Int, height: Int, picture: ImageRectangle) -> WhiteBalance.Rect {
        let aspect = raw.metadata.pixelAspect
        let stretched = raw.stretchesPixels
        let sw = picture.width, sh = picture.height
        let o = raw.metadata.orientation
        let upright = o.orientedSize(width: sw, height: sh)
        let map = o.indexMap(width: sw, height: sh)
        // Upright (u, v) of stored (px, py) is affine; invert it through two corners.
        func uv(_ px: Int, _ py: Int) -> (Int, Int) {
            let i = map.start + px * map.strideX + py * map.strideY
            return (i % upright.width, i / upright.width)
        }
        func stored(_ u: Int, _ v: Int) -> (Int, Int) {
            for (px, py) in [(0, 0), (sw - 1, 0), (0, sh - 1), (sw - 1, sh - 1)] {
                let (cu, cv) = uv(px, py)
                if cu == 0 && cv == 0 {
                    // (0, 0) upright is this stored corner; steps along u and v map to stored axes.
                    let (ux, _) = uv(px == 0 ? 1 : px - 1, py)
                    let alongX = ux != 0  // moving in stored x moves u
                    let dx = px == 0 ? 1 : -1, dy = py == 0 ? 1 : -1
                    return alongX ? (px + dx * u, py + dy * v) : (px + dx * v, py + dy * u)
                }
            }
            return (u, v)
        }
        let (ax, ay) = stored(x, y), (bx, by) = stored(x + max(width, 1) - 1, y + max(height, 1) - 1)
        var x0 = Double(min(ax, bx) + picture.x), x1 = Double(max(ax, bx) + 1 + picture.x)
        var y0 = Double(min(ay, by) + picture.y), y1 = Double(max(ay, by) + 1 + picture.y)
        if stretched && aspect >= 1 { x0 /= aspect; x1 /= aspect }
        if stretched && aspect < 1 { y0 *= aspect; y1 *= aspect }
        return WhiteBalance.Rect(x: Int(x0), y: Int(y0), width: max(1, Int(x1.rounded(.up)) - Int(x0)),
                                 height: max(1, Int(y1.rounded(.up)) - Int(y0)))
    }

    /// White-balanced camera RGB → working RGB by the chosen path.
    static func cameraMatrix(_ raw: RawImage, white: Chromaticity?, method: CameraMatrixMethod) throws -> (Matrix3, CameraMatrixMethod) {
        let libraw = WorkingSpace.fromLinearSRGB * (raw.colour.cameraToSRGB ?? .identity)
        let model = WhiteBalance.model(raw.colour)
        func dng(_ path: DNGColourModel.Path) -> Matrix3? {
            guard let model, let white, let m = model.balancedCameraToXYZD50(white: white, path: path) else { return nil }
            return WorkingSpace.fromXYZD65 * ChromaticAdaptation.bradford(from: iccD50, to: Chromaticity.d65.xyz) * m
        }
        switch method {
        case .libraw: return (libraw, .libraw)
        case .dngColorMatrix:
            guard let m = dng(.colorMatrix) else { throw RenderError("no usable colour matrix for camera.matrix=dng-color-matrix") }
            return (m, .dngColorMatrix)
        case .dngForwardMatrix:
            guard let m = dng(.forwardMatrix) else { throw RenderError("no ForwardMatrix for camera.matrix=dng-forward-matrix") }
            return (m, .dngForwardMatrix)
        case .auto:
            if let m = dng(.forwardMatrix) { return (m, .dngForwardMatrix) }
            if !raw.colour.dngCalibrations.isEmpty, let m = dng(.colorMatrix) { return (m, .dngColorMatrix) }
            return (libraw, .libraw)
        }
    }
}
