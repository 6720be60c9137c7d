/// Mosaic raw → normalised window (mirrored past the border) → optional mosaic stage (highlight
/// reconstruction) → demosaic. Colour space: camera RGB, white-balanced, out.
///
/// Per strip: the strip's rows plus a halo are normalised from the 16-bit samples into the
/// worker's scratch (rows outside the image are the mirrored image rows, normalised with their
/// own black and gain), the columns are padded by mirroring, and the demosaic reads that window.
public struct MosaicSource: StripSource {
    public let raw: [UInt16]
    public let width: Int
    public let height: Int
    public let cfa: CFAPattern
    public let normalisation: RawNormalisation
    public let demosaic: any DemosaicAlgorithm
    /// Runs on the normalised mosaic before the demosaic (highlight reconstruction); nil for none.
    public let mosaicStage: (any MosaicStage)?
    /// Lens shading gains applied with the normalisation (DNG GainMap); nil for none.
    public let lensShading: LensShading?
    /// Its per-column grid positions for this width, worked out once.
    let shadingColumns: LensShading.Columns?
    /// How the window holds its rows: split by column parity where the demosaic reads them so
    /// (`DemosaicAlgorithm.readsColumnPlanes`) from a Bayer mosaic with no mosaic stage, whose
    /// algorithms read sensor order; else interleaved. Set by `init`; tests set it to compare.
    var layout: MosaicWindow.Layout

    public init(raw: [UInt16], width: Int, height: Int, cfa: CFAPattern, normalisation: RawNormalisation,
                demosaic: any DemosaicAlgorithm, mosaicStage: (any MosaicStage)? = nil, lensShading: LensShading? = nil) {
        precondition(raw.count >= width * height)
        self.raw = raw
        self.width = width
        self.height = height
        self.cfa = cfa
        self.normalisation = normalisation
        self.demosaic = demosaic
        self.mosaicStage = mosaicStage
        self.lensShading = lensShading
        shadingColumns = lensShading?.columns(width: width)
        layout = demosaic.readsColumnPlanes && cfa.isBayer && mosaicStage == nil && !normalisation.pairBlacks.isEmpty
            ? .columnPlanes : .interleaved
    }

    var stageHalo: Int { mosaicStage?.halo ?? 0 }
    /// Column padding: enough for the demosaic and the mosaic stage together.
    var pad: Int { max(demosaic.halo + stageHalo, 1) }
    var stride: Int { MosaicWindow.stride(width: width, pad: pad, layout: layout) }

    public func makeScratch(stripRows: Int) -> SourceScratch {
        let demosaicRows = stripRows + 2 * demosaic.halo
        let inputRows = demosaicRows + 2 * stageHalo
        let windows = mosaicStage == nil ? inputRows * stride : (inputRows + demosaicRows) * stride
        let planes = MosaicWindow.scratchCapacity(planes: demosaic.scratchPlanes, rows: demosaicRows, stride: stride)
        return SourceScratch(capacity: windows + planes + (lensShading == nil ? 0 : width + 16) + 32)
    }

    public func fill(_ strip: Strip, scratch: SourceScratch, engine: Engine) {
        let halo = demosaic.halo, h = stageHalo, pad = self.pad, stride = self.stride
        let demosaicTop = strip.firstRow - halo, demosaicRows = strip.rows + 2 * halo
        let inputTop = demosaicTop - h, inputRows = demosaicRows + 2 * h
        let input = scratch.buffer + pad
        let planeFloats = MosaicWindow.scratchCapacity(planes: demosaic.scratchPlanes, rows: demosaicRows, stride: stride)
        let shadeRow: UnsafeMutablePointer<Float>? = lensShading == nil ? nil
            : scratch.buffer + (mosaicStage == nil ? inputRows : inputRows + demosaicRows) * stride + planeFloats + 16
        // Window rows depend only on their (virtual, possibly mirrored) image row, so rows the
        // previous strip of this worker already normalised and padded (strips run top to bottom
        // inside a band) move to the front of the window and only the new rows are normalised.
        // The mosaic stage's output and the demosaic's scratch planes lie after the input window
        // and are rebuilt for every strip.
        var ready = 0
        let cacheEnd = scratch.cachedFirstRow + scratch.cachedRows
        if scratch.cachedRows > 0, scratch.cachedFirstRow <= inputTop, cacheEnd > inputTop {
            let keep = min(cacheEnd, inputTop + inputRows) - inputTop
            // Overlapping regions: copyMemory is memmove.
            UnsafeMutableRawPointer(scratch.buffer).copyMemory(from: scratch.buffer + (inputTop - scratch.cachedFirstRow) * stride,
                                                               byteCount: keep * stride * MemoryLayout<Float>.stride)
            ready = keep
        }
        raw.withUnsafeBufferPointer { samples in
            for i in ready..<inputRows {
                let y = MosaicWindow.reflect(inputTop + i, height)
                let destination = input + i * stride
                let source = samples.baseAddress! + y * width
                if let shading = lensShading, let columns = shadingColumns, let shadeRow {
                    shading.rowGains(y: y, columns: columns, into: shadeRow)
                }
                if layout == .columnPlanes {
                    engine.dispatch(NormaliseRowPlanes(source: self, samples: source, even: destination,
                                                       odd: destination + stride / 2, y: y, shade: shadeRow))
                    MosaicWindow.padColumnPlanes(destination, width: width, pad: pad)
                    continue
                }
                normaliseRow(source, destination, y, shadeRow, engine: engine)
                MosaicWindow.padInterleaved(destination, width: width, pad: pad)
            }
        }
        scratch.cachedFirstRow = inputTop
        scratch.cachedRows = inputRows
        var values = input
        var after = input + inputRows * stride
        if let stage = mosaicStage {
            let source = MosaicWindow(values: input, width: width, imageHeight: height, firstRow: inputTop,
                                      rows: inputRows, pad: pad, cfa: cfa)
            values = input + inputRows * stride
            let target = MosaicWindow(values: values, width: width, imageHeight: height, firstRow: demosaicTop,
                                      rows: demosaicRows, pad: pad, cfa: cfa)
            stage.process(source, into: target, engine: engine)
            for i in 0..<demosaicRows {
                MosaicWindow.padInterleaved(values + i * stride, width: width, pad: pad)
            }
            after = values + demosaicRows * stride
        }
        let window = MosaicWindow(values: values, width: width, imageHeight: height, firstRow: demosaicTop,
                                  rows: demosaicRows, pad: pad, cfa: cfa, layout: layout,
                                  scratch: demosaic.scratchPlanes > 0 ? after : nil, scratchPlaneCount: demosaic.scratchPlanes)
        demosaic.interpolate(window, into: strip, engine: engine)
    }

    /// Normalises mosaic rows `rows` (no lens shading, no mirroring) into consecutive rows of
    /// `destination` (the raw normalisation stage on its own; the benchmark times it through this).
    public func normalise(rows: Range<Int>, into destination: UnsafeMutablePointer<Float>, engine: Engine) {
        raw.withUnsafeBufferPointer { samples in
            for y in rows {
                normaliseRow(samples.baseAddress! + y * width, destination + (y - rows.lowerBound) * width, y, nil, engine: engine)
            }
        }
    }

    @inline(__always)
    private func normaliseRow(_ source: UnsafePointer<UInt16>, _ destination: UnsafeMutablePointer<Float>,
                              _ y: Int, _ shade: UnsafeMutablePointer<Float>?, engine: Engine) {
        engine.dispatch(NormaliseRow(source: self, samples: source, destination: destination, y: y, shade: shade))
    }

    private struct NormaliseRow: LanesBody {
        let source: MosaicSource
        let samples: UnsafePointer<UInt16>
        let destination: UnsafeMutablePointer<Float>
        let y: Int
        let shade: UnsafeMutablePointer<Float>?
        @inline(__always) func run<L: Lanes>(_ lanes: L.Type) { source.normaliseRow(samples, destination, y, shade, lanes) }
    }

    @inline(__always)
    private func normaliseRow<L: Lanes>(_ source: UnsafePointer<UInt16>, _ destination: UnsafeMutablePointer<Float>,
                                        _ y: Int, _ shade: UnsafeMutablePointer<Float>?, _: L.Type) {
        let n = normalisation
        n.blacks.withUnsafeBufferPointer { blacks in
            n.gains.withUnsafeBufferPointer { gains in
                let base = (y % n.periodHeight) * n.rowStride
                let blackRow = blacks.baseAddress! + base, gainRow = gains.baseAddress! + base
                let ceiling = n.ceiling
                let period = n.periodWidth
                // The column phase advances by laneCount mod period per group (no division in the loop).
                let step = L.laneCount % period
                var phase = 0
                var x = 0
                if let shade {
                    // Lens shading: the gain map multiplies the white balance gain (one lane op more).
                    while x + L.laneCount <= width {
                        let gain = L(loading: gainRow + phase) * L(loading: shade + x)
                        RawNormalisation.normalise(L(loadingSamples: source + x), black: L(loading: blackRow + phase),
                                                   gain: gain, ceiling: ceiling).store(to: destination + x)
                        x += L.laneCount
                        phase += step
                        if phase >= period { phase -= period }
                    }
                    while x < width {
                        destination[x] = RawNormalisation.normalise(Float(source[x]), black: blackRow[phase], gain: gainRow[phase] * shade[x], ceiling: ceiling)
                        x += 1
                        phase += 1
                        if phase >= period { phase -= period }
                    }
                    return
                }
                while x + L.laneCount <= width {
                    let v = RawNormalisation.normalise(L(loadingSamples: source + x), black: L(loading: blackRow + phase),
                                                       gain: L(loading: gainRow + phase), ceiling: ceiling)
                    v.store(to: destination + x)
                    x += L.laneCount
                    phase += step
                    if phase >= period { phase -= period }
                }
                while x < width {
                    destination[x] = RawNormalisation.normalise(Float(source[x]), black: blackRow[phase], gain: gainRow[phase], ceiling: ceiling)
                    x += 1
                    phase += 1
                    if phase >= period { phase -= period }
                }
            }
        }
    }
}

extension MosaicSource {
    private struct NormaliseRowPlanes: LanesBody {
        let source: MosaicSource
        let samples: UnsafePointer<UInt16>
        let even, odd: UnsafeMutablePointer<Float>
        let y: Int
        let shade: UnsafeMutablePointer<Float>?
        @inline(__always) func run<L: Lanes>(_ lanes: L.Type) {
            source.normaliseRowPlanes(samples, even: even, odd: odd, y, shade, lanes)
        }
    }

    /// One mosaic row normalised into its even- and odd-column planes
    /// (`MosaicWindow.Layout.columnPlanes`): the same operations on the same constants as
    /// `normaliseRow`, so the same bits, with the samples split as they load
    /// (`Lanes.loadingSamplePairs`) and the constants from the split tables
    /// (`RawNormalisation.pairBlacks`). The lens shading row stays in sensor order.
    @inline(__always)
    private func normaliseRowPlanes<L: Lanes>(_ source: UnsafePointer<UInt16>, even: UnsafeMutablePointer<Float>,
                                              odd: UnsafeMutablePointer<Float>, _ y: Int,
                                              _ shade: UnsafeMutablePointer<Float>?, _: L.Type) {
        let n = normalisation
        n.pairBlacks.withUnsafeBufferPointer { pairBlacks in
            n.pairGains.withUnsafeBufferPointer { pairGains in
                let evenBlack = pairBlacks.baseAddress! + (y % n.periodHeight) * 2 * n.pairStride, oddBlack = evenBlack + n.pairStride
                let evenGain = pairGains.baseAddress! + (y % n.periodHeight) * 2 * n.pairStride, oddGain = evenGain + n.pairStride
                let ceiling = n.ceiling
                // Pair i holds columns 2i and 2i + 1; its phase in the split tables is i mod period.
                let period = n.periodWidth / 2
                let step = L.laneCount % period
                var phase = 0
                var i = 0
                // Wrapping adds, as in the Bayer kernel's loop: i stays below the width.
                while 2 &* (i &+ L.laneCount) <= width {
                    let sample = L.loadingSamplePairs(source + 2 &* i)
                    var evenGains = L(loading: evenGain + phase), oddGains = L(loading: oddGain + phase)
                    if let shade {
                        let gains = L.loadingColumnPairs(shade + 2 &* i)
                        evenGains = evenGains * gains.even
                        oddGains = oddGains * gains.odd
                    }
                    RawNormalisation.normalise(sample.even, black: L(loading: evenBlack + phase), gain: evenGains, ceiling: ceiling)
                        .store(to: even + i)
                    RawNormalisation.normalise(sample.odd, black: L(loading: oddBlack + phase), gain: oddGains, ceiling: ceiling)
                        .store(to: odd + i)
                    i &+= L.laneCount
                    phase &+= step
                    if phase >= period { phase &-= period }
                }
                // The columns left, one at a time (their phase in the sensor-order tables).
                n.blacks.withUnsafeBufferPointer { blacks in
                    n.gains.withUnsafeBufferPointer { gains in
                        let base = (y % n.periodHeight) * n.rowStride
                        for x in (2 * i)..<width {
                            let p = base + (2 * phase + x - 2 * i) % n.periodWidth
                            let gain = shade.map { gains[p] * $0[x] } ?? gains[p]
                            (x & 1 == 0 ? even : odd)[x >> 1] = RawNormalisation.normalise(Float(source[x]), black: blacks[p],
                                                                                           gain: gain, ceiling: ceiling)
                        }
                    }
                }
            }
        }
    }
}

/// A neighbourhood stage on the normalised mosaic, before the demosaic (highlight reconstruction).
/// It reads `input` (its halo more rows than `output` on each side) and writes every row of
/// `output`, columns `0 ..< width` (the source mirrors the padding afterwards).
public protocol MosaicStage: Sendable {
    var halo: Int { get }
    func process(_ input: MosaicWindow, into output: MosaicWindow, engine: Engine)
}
