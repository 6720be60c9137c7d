import EmulsionCore
import EmulsionIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What `emulsion info` reports for one raw file, in a shape that encodes to stable JSON.
public struct RawInfo: Codable, Sendable {
    public struct Calibration: Codable, Sendable {
        public var illuminant: Int
        public var illuminantName: String
        public var colorMatrix: [Double]?
        public var forwardMatrix: [Double]?
        public var cameraCalibration: [Double]
    }

    public var file: String
    public var make: String
    public var model: String
    public var software: String
    public var dngVersion: String?
    public var width: Int
    public var height: Int
    public var sensorWidth: Int
    public var sensorHeight: Int
    public var cropLeft: Int
    public var cropTop: Int
    public var outputWidth: Int
    public var outputHeight: Int
    public var layout: String
    public var blackLevels: [Float]
    public var blackTile: [Int]
    public var whiteLevel: Float
    public var linearisation: String
    /// DNG opcodes, one line each with what Emulsion does with it.
    public var opcodes: [String] = []
    public var asShotMultipliers: [Float]?
    public var daylightMultipliers: [Float]?
    public var cameraToSRGB: [Double]?
    public var dngCalibrations: [Calibration]
    public var analogBalance: [Float]
    public var asShotNeutral: [Float]?
    /// The as-shot white as CIE xy, correlated temperature and tint, where the matrices allow it.
    public var asShotWhite: [Double]?
    public var baselineExposure: Float
    /// What the camera profile a DNG embeds holds beyond its matrices (`--dcp embedded` renders
    /// with it): its name and tables, "matrices only", or nil for a raw that embeds none.
    public var embeddedProfile: String?
    public var orientation: Int
    public var pixelAspect: Double
    /// The picture area the file marks (DNG DefaultCrop), in stored pixels of the visible area.
    public var defaultCrop: ImageRectangle?
    /// The user crop within it (DNG DefaultUserCrop), in the same pixels.
    public var userCrop: ImageRectangle?
    public var iso: Float
    public var shutterSeconds: Float
    public var aperture: Float
    public var focalLength: Float
    public var lens: String
    public var artist: String?
    public var copyright: String?
    /// The photographer's rating (−1 rejected, 0 unrated, 1…5), the XMP sidecar's where one
    /// gives it, else the raw's own; nil for none recorded.
    public var rating: Int?
    /// The sidecar the rating came from, nil when it is the raw's own.
    public var ratingSidecar: String?
    /// The colour labels of its XMP sidecar (`XMPLabels`), nil for none, and that sidecar.
    public var labels: [ColourLabel]?
    public var labelSidecar: String?
    /// Where the shot was taken, as recorded (`GPSLocation`); nil for no GPS data.
    public var location: GPSLocation?
    public var timestamp: String?

    public init(path: String, raw: RawImage) {
        let m = raw.metadata
        file = path
        make = m.make
        model = m.model
        software = m.software
        dngVersion = m.dngVersion.isEmpty ? nil : m.dngVersion
        width = raw.width
        height = raw.height
        sensorWidth = m.sensorWidth
        sensorHeight = m.sensorHeight
        cropLeft = m.cropLeft
        cropTop = m.cropTop
        defaultCrop = m.defaultCrop
        userCrop = m.userCrop
        // What `process` renders with the default profile.
        let picture = RenderPlan.pictureArea(raw, profile: .defaults)
        (outputWidth, outputHeight) = m.orientation.orientedSize(width: picture.width, height: picture.height)
        switch raw.layout {
        case .mosaic(let cfa): layout = cfa.isBayer ? "Bayer \(cfa.name)" : cfa.name
        case .rgb: layout = "linear RGB (not mosaiced)"
        }
        blackLevels = raw.levels.blackTile
        blackTile = [raw.levels.blackTileWidth, raw.levels.blackTileHeight]
        whiteLevel = raw.levels.white
        linearisation = m.linearisation
        opcodes = m.opcodes
        let c = raw.colour
        asShotMultipliers = c.asShotMultipliers.map { [$0.x, $0.y, $0.z] }
        daylightMultipliers = c.daylightMultipliers.map { [$0.x, $0.y, $0.z] }
        cameraToSRGB = c.cameraToSRGB?.m
        dngCalibrations = c.dngCalibrations.map {
            Calibration(illuminant: $0.illuminant, illuminantName: LightSource.name($0.illuminant), colorMatrix: $0.colorMatrix?.m,
                        forwardMatrix: $0.forwardMatrix?.m, cameraCalibration: $0.cameraCalibration.m)
        }
        analogBalance = [c.analogBalance.x, c.analogBalance.y, c.analogBalance.z]
        asShotNeutral = c.asShotNeutral.map { [$0.x, $0.y, $0.z] }
        if let white = (try? WhiteBalance.resolve(raw, mode: .asShot))?.white {
            let t = ColourTemperature.temperature(of: white)
            asShotWhite = [white.x, white.y, t.kelvin, t.tint]
        }
        baselineExposure = c.baselineExposure
        if let profile = try? DCPFile.readEmbedded(in: path) {
            var parts = profile.hueSatMaps.map { "HueSatMap \($0.hues)×\($0.saturations)×\($0.values)" }
            if let look = profile.lookTable { parts.append("LookTable \(look.hues)×\(look.saturations)×\(look.values)") }
            if !profile.toneCurve.isEmpty { parts.append("tone curve of \(profile.toneCurve.count) points") }
            embeddedProfile = parts.isEmpty ? "matrices only" : "\(profile.name): " + parts.joined(separator: ", ")
        }
        orientation = m.orientation.rawValue
        pixelAspect = m.pixelAspect
        iso = m.iso
        shutterSeconds = m.shutterSeconds
        aperture = m.aperture
        focalLength = m.focalLength
        lens = m.lens
        artist = m.artist.isEmpty ? nil : m.artist
        copyright = m.copyright.isEmpty ? nil : m.copyright
        rating = m.rating
        if let sidecar = (try? XMPRating.sidecarTags(of: path)) ?? (try? XMPRating.sidecarTags(of: path, labels: false)) {
            if let r = sidecar.rating { (ratingSidecar, rating) = (r.path, r.value) }
            if let l = sidecar.labels { (labelSidecar, labels) = (l.path, l.value) }
        }
        location = m.location
        if m.timestamp > 0 {
            // The camera's clock, without a zone designator (it has none): `CaptureTime`.
            timestamp = CaptureTime.iso8601(m.timestamp)
        }
    }

    /// A readable multi-line description.
    public var text: String {
        func v(_ a: [Float]?) -> String { a.map { $0.map { CFormat.string("%.4f", $0) }.joined(separator: " ") } ?? "—" }
        func mat(_ a: [Double]?) -> String {
            guard let a else { return "—" }
            return stride(from: 0, to: 9, by: 3).map { r in "[" + a[r..<r + 3].map { CFormat.string("%.4f", $0) }.joined(separator: " ") + "]" }.joined(separator: " ")
        }
        var lines = [
            "File:            \(file)",
            "Camera:          \(make) \(model)" + (software.isEmpty ? "" : "  (software: \(software))"),
            "DNG version:     \(dngVersion ?? "not a DNG")",
            "Sensor:          \(sensorWidth)×\(sensorHeight), visible \(width)×\(height) at (\(cropLeft), \(cropTop))",
            "Default crop:    " + (defaultCrop.map { "\($0) of the visible area (crop.dngDefault=false renders it all)" } ?? "none"),
            "User crop:       " + (userCrop.map { "\($0) of the visible area (crop.dngUser=false leaves it out)" } ?? "none"),
            "Output size:     \(outputWidth)×\(outputHeight) (orientation \(orientation), pixel aspect \(CFormat.string("%.3f", pixelAspect)))",
            "Layout:          \(layout)",
            "Black levels:    \(v(blackLevels)) (tile \(blackTile[0])×\(blackTile[1]))",
            "White level:     \(CFormat.string("%.0f", whiteLevel))",
            "Linearisation:   \(linearisation)",
        ] + opcodes.map { "Opcode:          \($0)" } + [
            "As-shot WB:      \(v(asShotMultipliers))",
            "Daylight WB:     \(v(daylightMultipliers))",
            "Camera → sRGB:   \(mat(cameraToSRGB))",
        ]
        for (i, cal) in dngCalibrations.enumerated() {
            lines.append("Calibration \(i + 1):   illuminant \(cal.illuminant) (\(cal.illuminantName))")
            lines.append("  ColorMatrix:   \(mat(cal.colorMatrix))")
            lines.append("  ForwardMatrix: \(mat(cal.forwardMatrix))")
            lines.append("  CameraCalib.:  \(mat(cal.cameraCalibration))")
        }
        lines += [
            "AnalogBalance:   \(v(analogBalance))",
            "AsShotNeutral:   \(v(asShotNeutral))",
            "As-shot white:   " + (asShotWhite.map { CFormat.string("x %.4f y %.4f (%.0f K, tint %+.1f)", $0[0], $0[1], $0[2], $0[3]) } ?? "—"),
            "BaselineExposure: \(CFormat.string("%+.2f", baselineExposure)) EV",
            "Camera profile:  \(embeddedProfile.map { $0 + " (--dcp embedded renders with it)" } ?? "none embedded")",
            "ISO:             \(CFormat.string("%.0f", iso))",
            "Shutter:         \(shutterSeconds > 0 && shutterSeconds < 1 ? "1/\(CFormat.string("%.0f", 1 / shutterSeconds))" : CFormat.string("%.1f", shutterSeconds)) s",
            "Aperture:        f/\(CFormat.string("%.1f", aperture))",
            "Focal length:    \(CFormat.string("%.1f", focalLength)) mm",
            "Lens:            \(lens.isEmpty ? "—" : lens)",
            "Artist:          \(artist ?? "—")",
            "Copyright:       \(copyright ?? "—")",
            "Rating:          \(rating.map { Self.describe(rating: $0) } ?? "—")" + (ratingSidecar.map { " (from \($0))" } ?? ""),
            "Labels:          \(labels.map { $0.map(\.name).joined(separator: ", ") } ?? "—")" + (labelSidecar.map { " (from \($0))" } ?? ""),
            "Location:        \(location.map(Self.describe) ?? "—")",
            "Timestamp:       \(timestamp ?? "—")",
        ]
        return lines.joined(separator: "\n")
    }
}

extension RawInfo {
    static func describe(rating: Int) -> String {
        rating < 0 ? "rejected" : rating == 0 ? "unrated" : "\(rating) star" + (rating == 1 ? "" : "s")
    }

    /// "48.858370° N, 2.294481° E, 35.0 m, fix at 19:45:27 UTC", of the parts recorded.
    static func describe(_ location: GPSLocation) -> String {
        var parts: [String] = []
        if let latitude = location.latitude { parts.append(CFormat.string("%.6f° ", abs(latitude)) + (latitude < 0 ? "S" : "N")) }
        if let longitude = location.longitude { parts.append(CFormat.string("%.6f° ", abs(longitude)) + (longitude < 0 ? "W" : "E")) }
        if let altitude = location.altitude { parts.append(CFormat.string("%.1f m", altitude)) }
        if let t = location.secondsOfDay {
            let whole = Int(t.rounded(.down))
            parts.append(CFormat.string("fix at %02d:%02d:%02d UTC", whole / 3600, whole / 60 % 60, whole % 60))
        }
        return parts.joined(separator: ", ")
    }
}

/// EXIF LightSource names, for calibration illuminants.
public enum LightSource {
    public static func name(_ code: Int) -> String {
        let names: [Int: String] = [
            0: "unknown", 1: "Daylight", 2: "Fluorescent", 3: "Tungsten", 4: "Flash", 9: "Fine weather", 10: "Cloudy",
            11: "Shade", 12: "Daylight fluorescent", 13: "Day white fluorescent", 14: "Cool white fluorescent",
            15: "White fluorescent", 16: "Warm white fluorescent", 17: "Standard light A", 18: "Standard light B",
            19: "Standard light C", 20: "D55", 21: "D65", 22: "D75", 23: "D50", 24: "ISO studio tungsten", 255: "other",
        ]
        return names[code] ?? "code \(code)"
    }
}
