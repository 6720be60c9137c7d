#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A raw's capture time as the camera's clock showed it.
///
/// Why local time: a raw records "YYYY:MM:DD HH:MM:SS" with no zone, and LibRaw turns it into
/// seconds with `mktime`, in the time zone of the process that decodes it (ours, or the decode
/// worker it forks, which inherits TZ). `localtime_r` in that zone gives the same clock back.
/// Reading the seconds as UTC instead — what `info` and the output's Exif did before session 26 —
/// shifted the time by the zone's offset: a Pixel 7 shot at 21:45:43 on 4 July printed as
/// 01:45:43 on the 5th with TZ=America/New_York (LibRaw's raw-identify printed 21:45:43).
public enum CaptureTime {
    /// Year, month, day, hour, minute, second; nil for no time (0) or one `localtime_r` refuses.
    public static func wallClock(_ seconds: Int) -> [Int]? {
        guard seconds != 0 else { return nil }
        var t = time_t(seconds)
        var parts = tm()
        guard localtime_r(&t, &parts) != nil else { return nil }
        return [Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec)]
    }

    /// "2024:07:04 21:45:43" (Exif 2.32 §4.6.5, DateTimeOriginal).
    public static func exif(_ seconds: Int) -> String? { format(seconds, dateSeparator: ":", between: " ") }

    /// "2024-07-04T21:45:43" (ISO 8601 without a zone: the camera's clock has none).
    public static func iso8601(_ seconds: Int) -> String? { format(seconds, dateSeparator: "-", between: "T") }

    static func format(_ seconds: Int, dateSeparator: String, between: String) -> String? {
        guard let c = wallClock(seconds), (0...9999).contains(c[0]) else { return nil }
        func pad(_ v: Int, _ width: Int) -> String { String(repeating: "0", count: max(0, width - String(v).count)) + String(v) }
        return pad(c[0], 4) + dateSeparator + pad(c[1], 2) + dateSeparator + pad(c[2], 2) + between
            + pad(c[3], 2) + ":" + pad(c[4], 2) + ":" + pad(c[5], 2)
    }
}
