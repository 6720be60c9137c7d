/// What a raw file holds once decoded: sensor samples of the visible area, how to read them, and
/// what the camera recorded about the shot. Produced by EmulsionIO's reader (LibRaw) or by the
/// synthetic scene generator; consumed by the pipeline. Values are in sensor units (DN).
public struct RawImage: Sendable, Codable {
    public enum Layout: Sendable, Equatable, Codable {
        /// One sample per photosite through a colour filter array.
        case mosaic(CFAPattern)
        /// Three samples per pixel (linear DNG, already demosaiced): interleaved R, G, B.
        case rgb
    }

    public var width: Int
    public var height: Int
    public var layout: Layout
    /// Row-major samples of the visible area: `width * height` (mosaic) or `3 * width * height` (rgb).
    public var samples: [UInt16]
    public var levels: SensorLevels
    public var colour: CameraColour
    public var metadata: ShotMetadata
    /// Lens shading gain maps to apply with the normalisation (DNG OpcodeList2 GainMap); nil for none.
    public var lensShading: LensShading?
    /// Lens distortion to correct after the demosaic (DNG OpcodeList3 WarpRectilinear or
    /// WarpRectilinear2); nil for none.
    public var lensWarp: LensWarp?
    /// Vignetting to correct after the demosaic (DNG OpcodeList3 FixVignetteRadial); nil for none.
    public var lensVignette: LensVignette?

    public init(width: Int, height: Int, layout: Layout, samples: [UInt16], levels: SensorLevels,
                colour: CameraColour, metadata: ShotMetadata) {
        self.width = width
        self.height = height
        self.layout = layout
        self.samples = samples
        self.levels = levels
        self.colour = colour
        self.metadata = metadata
    }

    public var cfa: CFAPattern? {
        if case .mosaic(let p) = layout { return p }
        return nil
    }
}

/// Black and white levels. Black may vary by CFA colour and by position in a small repeating tile
/// (DNG BlackLevelRepeatDim); both are folded into one tile of per-position blacks.
public struct SensorLevels: Sendable, Equatable, Codable {
    public var blackTileWidth: Int
    public var blackTileHeight: Int
    /// Row-major black level per tile position, in DN (fractional DNG blacks kept).
    public var blackTile: [Float]
    /// Per colour (R, G, B) white (saturation) level in DN.
    public var white: Float

    public init(blackTileWidth: Int, blackTileHeight: Int, blackTile: [Float], white: Float) {
        precondition(blackTile.count == blackTileWidth * blackTileHeight)
        self.blackTileWidth = blackTileWidth
        self.blackTileHeight = blackTileHeight
        self.blackTile = blackTile
        self.white = white
    }

    public init(black: Float, white: Float) {
        self.init(blackTileWidth: 1, blackTileHeight: 1, blackTile: [black], white: white)
    }

    @inlinable public func black(row: Int, column: Int) -> Float {
        blackTile[(row % blackTileHeight) * blackTileWidth + column % blackTileWidth]
    }

    /// The mean black, for reports.
    public var meanBlack: Float { blackTile.reduce(0, +) / Float(blackTile.count) }
}

/// One DNG colour calibration: the matrices recorded for one CalibrationIlluminant.
public struct DNGCalibration: Sendable, Equatable, Codable {
    /// EXIF LightSource code (17 StdA, 21 D65, 23 D50, …).
    public var illuminant: Int
    /// ColorMatrix: XYZ → camera (row-major 3×3), or nil when absent.
    public var colorMatrix: Matrix3?
    /// ForwardMatrix: white-balanced camera → XYZ D50, or nil when absent.
    public var forwardMatrix: Matrix3?
    /// CameraCalibration, identity when absent.
    public var cameraCalibration: Matrix3

    public init(illuminant: Int, colorMatrix: Matrix3?, forwardMatrix: Matrix3?, cameraCalibration: Matrix3 = .identity) {
        self.illuminant = illuminant
        self.colorMatrix = colorMatrix
        self.forwardMatrix = forwardMatrix
        self.cameraCalibration = cameraCalibration
    }
}

/// Everything the file says about the camera's colour response.
public struct CameraColour: Sendable, Equatable, Codable {
    /// As-shot white balance multipliers (R, G, B), normalised so green is 1; nil when unknown.
    public var asShotMultipliers: SIMD3<Float>?
    /// Daylight multipliers (LibRaw `pre_mul`), the fallback when no as-shot balance is recorded.
    public var daylightMultipliers: SIMD3<Float>?
    /// White-balanced camera RGB → linear sRGB (D65), rows summing to 1 (LibRaw `rgb_cam`); nil if unknown.
    public var cameraToSRGB: Matrix3?
    /// XYZ (D65) → camera RGB for non-DNG files (LibRaw's `cam_xyz`, Adobe's D65 ColorMatrix
    /// from its table); nil when unknown. DNGs carry theirs in `dngCalibrations`.
    public var xyzToCamera: Matrix3?
    /// DNG calibrations (one or two); empty for non-DNG files.
    public var dngCalibrations: [DNGCalibration]
    /// DNG AnalogBalance (R, G, B), ones when absent.
    public var analogBalance: SIMD3<Float>
    /// DNG AsShotNeutral (camera RGB of a neutral), if recorded.
    public var asShotNeutral: SIMD3<Float>?
    /// DNG AsShotWhiteXY (the white as a chromaticity), if recorded instead of AsShotNeutral.
    public var asShotWhiteXY: Chromaticity?
    /// DNG BaselineExposure in EV (0 when absent).
    public var baselineExposure: Float

    public init(asShotMultipliers: SIMD3<Float>? = nil, daylightMultipliers: SIMD3<Float>? = nil,
                cameraToSRGB: Matrix3? = nil, dngCalibrations: [DNGCalibration] = [],
                analogBalance: SIMD3<Float> = .one, asShotNeutral: SIMD3<Float>? = nil, baselineExposure: Float = 0) {
        self.asShotMultipliers = asShotMultipliers
        self.daylightMultipliers = daylightMultipliers
        self.cameraToSRGB = cameraToSRGB
        self.dngCalibrations = dngCalibrations
        self.analogBalance = analogBalance
        self.asShotNeutral = asShotNeutral
        self.baselineExposure = baselineExposure
    }
}

/// Descriptive facts of the shot, for `info` and for naming; none of it changes pixels except
/// orientation and pixel aspect.
public struct ShotMetadata: Sendable, Equatable, Codable {
    public var make: String = ""
    public var model: String = ""
    public var software: String = ""
    public var iso: Float = 0
    public var shutterSeconds: Float = 0
    public var aperture: Float = 0
    public var focalLength: Float = 0
    public var lens: String = ""
    /// Who took it, as the camera's owner set it (Exif Artist), empty when not recorded.
    public var artist: String = ""
    /// The copyright notice the camera's owner set (Exif Copyright, its photographer part), empty
    /// when not recorded.
    public var copyright: String = ""
    /// The photographer's rating: −1 rejected, 0 unrated, 1…5 stars, as the raw records it
    /// (Exif Rating, or xmp:Rating in its XMP packet) or, where one is read, its XMP sidecar
    /// says (`XMPRating`); nil when neither records one.
    public var rating: Int?
    /// The colour labels its XMP sidecar gives (`XMPLabels`), in darktable's order; empty when
    /// none (raws do not record labels themselves: editors put them in sidecars).
    public var labels: [ColourLabel] = []
    /// Where it was taken (the GPS IFD), nil when the file records no position or time of fix.
    public var location: GPSLocation?
    /// Seconds since 1970 (UTC as recorded; cameras rarely record a zone), 0 when unknown.
    public var timestamp: Int = 0
    public var orientation: Orientation = .normal
    /// Width / height of one photosite; 1 for square pixels (0.5 on the Nikon D1X).
    public var pixelAspect: Double = 1
    /// DNG version as "1.4.0.0", empty for non-DNG files.
    public var dngVersion: String = ""
    /// Full sensor size before cropping to the visible area.
    public var sensorWidth: Int = 0
    public var sensorHeight: Int = 0
    /// Top-left of the visible area inside the sensor.
    public var cropLeft: Int = 0
    public var cropTop: Int = 0
    /// Bits per sample as stored by the camera, when the decoder knows it.
    public var bitsPerSample: Int = 0
    /// Tone curve applied by the decoder to reach linear data (e.g. LinearizationTable), as a note.
    public var linearisation: String = "none"
    /// DNG opcodes the file carries, one line each with what Emulsion does with it.
    public var opcodes: [String] = []
    /// The image area the file marks as the picture (DNG DefaultCropOrigin and DefaultCropSize),
    /// in stored pixels of the visible area (before orientation and pixel aspect); nil when the
    /// file marks none or the whole visible area.
    public var defaultCrop: ImageRectangle?
    /// The crop a DNG records as the user's or the camera's choice within that area (DNG 1.6
    /// DefaultUserCrop: the aspect ratio a phone was set to, a crop an editor saved), in the same
    /// stored pixels; nil when none or the whole area.
    public var userCrop: ImageRectangle?

    public init() {}
}

/// A half-open rectangle of pixels: columns `x ..< x + width`, rows `y ..< y + height`.
public struct ImageRectangle: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var area: Int { width * height }

    public func contains(x px: Int, y py: Int) -> Bool { px >= x && px < maxX && py >= y && py < maxY }

    /// Shrunk by `fraction` of its width (height) on the left and right (top and bottom).
    public func inset(by fraction: Double) -> ImageRectangle {
        let dx = Int((Double(width) * fraction).rounded(.down))
        let dy = Int((Double(height) * fraction).rounded(.down))
        return ImageRectangle(x: x + dx, y: y + dy, width: width - 2 * dx, height: height - 2 * dy)
    }

    public var description: String { "\(width)×\(height) at (\(x), \(y))" }

    /// Rows and columns exchanged (a raw transposed with `RawImage.transposed`).
    public var transposed: ImageRectangle { ImageRectangle(x: y, y: x, width: height, height: width) }

    /// This rectangle in an image binned by `block` (`Preview.downscaled`): edges rounded to the
    /// nearest binned pixel; nil when nothing is left.
    public func binned(by block: Int) -> ImageRectangle? {
        let b = Double(block)
        let left = Int((Double(x) / b).rounded()), top = Int((Double(y) / b).rounded())
        let right = Int((Double(maxX) / b).rounded()), bottom = Int((Double(maxY) / b).rounded())
        guard right > left, bottom > top else { return nil }
        return ImageRectangle(x: left, y: top, width: right - left, height: bottom - top)
    }

    /// The part of this rectangle inside `piece`, counted from `piece`'s corner; nil when they do
    /// not meet or this covers all of `piece` (a crop that crops nothing).
    public func within(_ piece: ImageRectangle) -> ImageRectangle? {
        let left = max(x, piece.x), top = max(y, piece.y), right = min(maxX, piece.maxX), bottom = min(maxY, piece.maxY)
        guard right > left, bottom > top, (left, top, right, bottom) != (piece.x, piece.y, piece.maxX, piece.maxY) else { return nil }
        return ImageRectangle(x: left - piece.x, y: top - piece.y, width: right - left, height: bottom - top)
    }
}
