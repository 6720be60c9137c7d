/// Where a shot was taken, as the camera's GPS recorded it (Exif 2.32 §4.6.6, the GPS IFD).
///
/// What: latitude and longitude in signed decimal degrees (north and east positive), altitude in
/// metres (negative below sea level), and the fix's UTC time of day. Each part is optional, as in
/// the file: a phone that had no fix may record only the time (the Pixel 7 sample does).
/// Why: a photographer's library is searched by place; darktable and RawTherapee keep the GPS
/// tags in their exports, and an export that drops them loses the place for good. The reverse
/// need (a render to share without where it was taken) is `process --strip-location`.
/// Colour: none; this is metadata only.
public struct GPSLocation: Sendable, Equatable, Codable {
    /// Degrees, −90…90, north positive.
    public var latitude: Double?
    /// Degrees, −180…180, east positive.
    public var longitude: Double?
    /// Metres above sea level (below it, negative).
    public var altitude: Double?
    /// Seconds after UTC midnight of the fix, 0 ..< 86 400.
    public var secondsOfDay: Double?

    public init(latitude: Double? = nil, longitude: Double? = nil, altitude: Double? = nil, secondsOfDay: Double? = nil) {
        self.latitude = latitude
        self.longitude = longitude
        self.altitude = altitude
        self.secondsOfDay = secondsOfDay
    }

    /// Nothing recorded: no part worth writing.
    public var isEmpty: Bool { latitude == nil && longitude == nil && altitude == nil && secondsOfDay == nil }

    /// An angle as Exif writes it: whole degrees, whole minutes and seconds, of its magnitude.
    /// Rounded to 1/10 000 of a second (about 3 mm on the ground) first, so that a value read
    /// from degrees-minutes-seconds goes back to the same three numbers, never to "59.99999 s".
    public static func sexagesimal(_ degrees: Double) -> (degrees: Double, minutes: Double, seconds: Double) {
        let tenThousandths = (abs(degrees) * 3600 * 10_000).rounded()
        let wholeSeconds = (tenThousandths / 10_000).rounded(.down)
        let d = (wholeSeconds / 3600).rounded(.down)
        let m = ((wholeSeconds - d * 3600) / 60).rounded(.down)
        return (d, m, (tenThousandths - (d * 3600 + m * 60) * 10_000) / 10_000)
    }

    /// A location from what a decoder read: an angle's three parts and its reference letter
    /// (N/S, E/W), the altitude and whether it is below sea level, the time's three parts.
    /// A part whose numbers are out of range or not finite, or whose letter is missing, is left
    /// out; nil when nothing is left. A time of 00:00:00 is taken for none: LibRaw reports an
    /// absent time stamp as zeros (a fix at midnight UTC is lost with it).
    public init?(latitude lat: [Double], latitudeRef: Character?, longitude lon: [Double], longitudeRef: Character?,
                 altitude: Double?, belowSeaLevel: Bool, time: [Double]) {
        func angle(_ parts: [Double], _ ref: Character?, positive: Character, negative: Character, limit: Double) -> Double? {
            guard parts.count == 3, parts.allSatisfy({ $0.isFinite && $0 >= 0 }), parts[1] < 60, parts[2] < 60,
                  let ref, ref == positive || ref == negative else { return nil }
            let value = parts[0] + parts[1] / 60 + parts[2] / 3600
            guard value <= limit else { return nil }
            return ref == negative ? -value : value
        }
        self.init()
        latitude = angle(lat, latitudeRef, positive: "N", negative: "S", limit: 90)
        longitude = angle(lon, longitudeRef, positive: "E", negative: "W", limit: 180)
        if let altitude, altitude.isFinite, altitude >= 0, altitude < 100_000 {
            self.altitude = belowSeaLevel ? -altitude : altitude
        }
        if time.count == 3, time.allSatisfy({ $0.isFinite && $0 >= 0 }), time[0] < 24, time[1] < 60, time[2] < 61,
           time.contains(where: { $0 > 0 }) {
            secondsOfDay = time[0] * 3600 + time[1] * 60 + time[2]
        }
        if isEmpty { return nil }
    }
}
