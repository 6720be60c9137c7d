import EmulsionCore
import EmulsionIO

/// Device mode: the render's own stages, scheduled as a phone ISP runs them and held at the
/// precision a `DeviceDescription` declares (issue 9; docs/DEVICES.md).
///
/// The ISP model, in order (each "word" is a `QuantiseKernel`, present when the block declares bits):
/// 1. the source (demosaic output) → linear word;
/// 2. linear blocks: the render's front (camera matrix, camera-profile tables, exposure) and the
///    look's exposure bias, local contrast and vignette. Adjacent matrices are one colour-correction
///    matrix (CCM) whose coefficients are rounded to the device's Q format; a linear word follows
///    every block;
/// 3. with a 3-D LUT: the look's grain (a phone ISP has no grain block after its LUT, so grain
///    moves here, before the colour stages — the one change of order), then the tone/gamma table
///    (the shaper: sRGB's transfer function of x / headroom, as `entries` M-bit points interpolated
///    linearly, or the exact curve when the table is float) → encoded word → the 3-D LUT, into
///    which the look's colour stages (roll-off, per-hue table, saturation, monochrome, tone curve,
///    split toning, the look's own LUT) and the output encoding are baked: `size`³ nodes, M-bit
///    entries, applied by the project's tetrahedral interpolation → encoded word → the sink;
/// 4. without a 3-D LUT: the colour stages and grain as kernels, each followed by a linear word,
///    then the output encoding and the encoded word.
/// The same prepared stage objects run as in a normal render; with every block float (`ideal`)
/// nothing is inserted or rounded and the chain fuses exactly as a normal render's, so the output
/// is bit for bit the same (DeviceTests). Local contrast's surround is measured on the float source.
public enum DevicePipeline {
    /// The tone table's curve, on x / headroom (IEC 61966-2-1).
    public static let shaperCurve = TransferCurve.sRGB

    /// The point chain of a device render. `front` holds what `RenderPlan` puts before the look.
    public static func chain(front: PointStageChain, look: [(role: LookPlan.Role, element: LookElement)],
                             space: OutputSpace, device: DeviceDescription) throws -> PointStageChain {
        var chain = PointStageChain()
        let linearWord = device.linearBits.map { QuantiseKernel(bits: $0, range: Float(device.headroom), rounding: device.rounding) }
        let encodedWord = device.encodedBits.map { QuantiseKernel(bits: $0, range: 1, rounding: device.rounding) }
        func appendLinearWord() { if let linearWord { chain.append(.kernel(linearWord)) } }
        var pending: Matrix3?
        func flush() {
            guard let m = pending else { return }
            pending = nil
            chain.append(.matrix(device.ccm.map { ccm(m, format: $0, rounding: device.rounding) } ?? m))
            appendLinearWord()
        }
        func linear(_ element: PointStageChain.Element) {
            if case .matrix(let m) = element {
                pending = pending.map { m * $0 } ?? m  // the order PointStageChain fuses in
            } else {
                flush()
                chain.append(element)
                appendLinearWord()
            }
        }
        func linear(_ roles: [LookPlan.Role]) {
            for (role, element) in look where roles.contains(role) {
                switch element {
                case .matrix(let m): linear(.matrix(m))
                case .kernel(let k): linear(.kernel(k))
                }
            }
        }
        appendLinearWord()
        for element in front.elements { linear(element) }
        linear([.exposureBias, .localContrast, .vignette])
        guard let lut = device.lut else {
            linear([.colour, .grain])
            flush()
            chain.append(.output(try space.outputEncoding()))
            if let encodedWord { chain.append(.kernel(encodedWord)) }
            return chain
        }
        linear([.grain])
        flush()
        chain.append(.kernel(try shaper(device)))
        if let encodedWord { chain.append(.kernel(encodedWord)) }
        let baked = try bakedLUT(colour: look.filter { $0.role == .colour }.map(\.element), space: space, device: device, lut: lut)
        chain.append(.kernel(DeviceLUTKernel(lut: try lutKernel(baked))))
        if let encodedWord { chain.append(.kernel(encodedWord)) }
        return chain
    }

    /// `m` with every coefficient rounded to `format` (saturating).
    public static func ccm(_ m: Matrix3, format: QFormat, rounding: DeviceRounding) -> Matrix3 {
        Matrix3(rowMajor: m.m.map { format.quantised($0, rounding: rounding) })
    }

    /// The tone table's entries as codes (`entries` points over [0, headroom], `bits` bits).
    public static func toneTableCodes(_ device: DeviceDescription, table: DeviceDescription.Table) -> [Int] {
        let format = UNormFormat(bits: table.bits)
        return (0..<table.entries).map { i in
            format.code(shaperCurve.encode(Double(i) / Double(table.entries - 1)), rounding: device.rounding)
        }
    }

    /// The shaper kernel: the device's table, or the exact curve when the table is float.
    static func shaper(_ device: DeviceDescription) throws -> any PointKernel {
        guard let table = device.toneTable else {
            return OutputEncodingKernel(toOutput: .diagonal(SIMD3(repeating: 1 / device.headroom))) { shaperCurve.encode($0) }
        }
        let format = UNormFormat(bits: table.bits)
        return DeviceToneTableKernel(values: toneTableCodes(device, table: table).map { Float(format.value(code: $0)) },
                                     range: Float(device.headroom))
    }

    /// The look's colour stages and the output encoding baked into the device's 3-D LUT: node
    /// (r, g, b) is the shaper-encoded working RGB (i, j, k) / (size − 1), decoded exactly
    /// (headroom · curve⁻¹), sent through `colour` and the output encoding, and rounded to `bits`.
    public static func bakedLUT(colour: [LookElement], space: OutputSpace, device: DeviceDescription,
                                lut: DeviceDescription.LUT) throws -> LUT3D {
        let n = lut.size
        let axis = (0..<n).map { Float(device.headroom * shaperCurve.decode(Double($0) / Double(n - 1))) }
        var chain = PointStageChain()
        for element in colour {
            switch element {
            case .matrix(let m): chain.append(.matrix(m))
            case .kernel(let k): chain.append(.kernel(k))
            }
        }
        chain.append(.output(try space.outputEncoding()))
        let format = UNormFormat(bits: lut.bits)
        let values = LookExport.lattice(axis: axis, through: chain).map { Float(format.quantised(Double($0), rounding: device.rounding)) }
        return LUT3D(size: n, values: values)
    }

    /// `lut` as the kernel that interpolates it (tetrahedral; no encode or decode around it).
    static func lutKernel(_ lut: LUT3D) throws -> LookLUTKernel {
        LookLUTKernel(lut: lut, encode: OutputEncodingKernel(toOutput: .identity) { $0 }, decode: { $0 },
                      outputToWorking: .identity, strength: 1)
    }
}
