/// Correlated colour temperature and tint ↔ chromaticity, by Robertson's method.
///
/// What: CIE 1960 (u, v) is located between two of Robertson's 31 isotemperature lines (mired
/// 0 … 600) and the temperature interpolated in mired; tint is the distance from the Planckian
/// locus along the interpolated isotemperature direction, × 3000, positive towards magenta
/// (below the locus), negative towards green — the scale and sign photographers know from
/// Adobe's raw converters (tint +10 ≈ Δuv 0.0033 towards magenta).
/// Why: DNG colour maths interpolates camera matrices in 1/CCT between calibration illuminants,
/// and white balance is set by Kelvin and tint; both need CCT from xy and back.
/// Reference: A. R. Robertson, "Computation of correlated color temperature and distribution
/// temperature", JOSA 58(11), 1968; table from Wyszecki & Stiles, Color Science (2nd ed.),
/// table 1(3.11); DNG specification 1.6, chapter 6 (interpolation in inverse temperature).
public enum ColourTemperature {
    /// (mired, u, v, slope of the isotemperature line in (u, v)).
    static let robertson: [(r: Double, u: Double, v: Double, t: Double)] = [
        (0, 0.18006, 0.26352, -0.24341), (10, 0.18066, 0.26589, -0.25479), (20, 0.18133, 0.26846, -0.26876),
        (30, 0.18208, 0.27119, -0.28539), (40, 0.18293, 0.27407, -0.30470), (50, 0.18388, 0.27709, -0.32675),
        (60, 0.18494, 0.28021, -0.35156), (70, 0.18611, 0.28342, -0.37915), (80, 0.18740, 0.28668, -0.40955),
        (90, 0.18880, 0.28997, -0.44278), (100, 0.19032, 0.29326, -0.47888), (125, 0.19462, 0.30141, -0.58204),
        (150, 0.19962, 0.30921, -0.70471), (175, 0.20525, 0.31647, -0.84901), (200, 0.21142, 0.32312, -1.0182),
        (225, 0.21807, 0.32909, -1.2168), (250, 0.22511, 0.33439, -1.4512), (275, 0.23247, 0.33904, -1.7298),
        (300, 0.24010, 0.34308, -2.0637), (325, 0.24702, 0.34655, -2.4681), (350, 0.25591, 0.34951, -2.9641),
        (375, 0.26400, 0.35200, -3.5814), (400, 0.27218, 0.35407, -4.3633), (425, 0.28039, 0.35577, -5.3762),
        (450, 0.28863, 0.35714, -6.7262), (475, 0.29685, 0.35823, -8.5955), (500, 0.30505, 0.35907, -11.324),
        (525, 0.31320, 0.35968, -15.628), (550, 0.32129, 0.36011, -23.325), (575, 0.32931, 0.36038, -40.770),
        (600, 0.33724, 0.36051, -116.45),
    ]
    /// Tint units per unit of (u, v) distance (positive = magenta).
    static let tintScale = 3000.0

    /// Unit vector along isotemperature line `i`, pointing below the locus (towards magenta).
    static func direction(_ i: Int) -> (Double, Double) {
        let t = robertson[i].t
        let length = (1 + t * t).squareRoot()
        return (1 / length, t / length)
    }

    /// CCT (kelvin) and tint of a chromaticity. Temperatures are limited to the table's range
    /// (≈ 1667 K … infinity; 0 mired is reported as 50 000 K).
    public static func temperature(of xy: Chromaticity) -> (kelvin: Double, tint: Double) {
        let d = 1.5 - xy.x + 6 * xy.y
        let u = 2 * xy.x / d, v = 3 * xy.y / d
        var lastDistance = 0.0
        for i in 1..<robertson.count {
            let (du, dv) = direction(i)
            // Signed distance from line i (positive on the low-mired side).
            let distance = -(u - robertson[i].u) * dv + (v - robertson[i].v) * du
            if distance <= 0 || i == robertson.count - 1 {
                let below = min(distance, 0) * -1
                let f = i == 1 ? 0 : below / (lastDistance + below)
                let mired = robertson[i - 1].r * f + robertson[i].r * (1 - f)
                let (pu, pv) = direction(i - 1)
                var (iu, iv) = (pu * f + du * (1 - f), pv * f + dv * (1 - f))
                let length = (iu * iu + iv * iv).squareRoot()
                iu /= length; iv /= length
                let lu = u - (robertson[i - 1].u * f + robertson[i].u * (1 - f))
                let lv = v - (robertson[i - 1].v * f + robertson[i].v * (1 - f))
                let kelvin = mired > 20 ? 1e6 / mired : 50_000
                return (kelvin, (lu * iu + lv * iv) * tintScale)
            }
            lastDistance = distance
        }
        return (50_000, 0)
    }

    /// The chromaticity of a temperature (kelvin, > 0) and tint.
    public static func chromaticity(kelvin: Double, tint: Double = 0) -> Chromaticity {
        let mired = 1e6 / max(kelvin, 1)
        let offset = tint / tintScale
        let last = robertson.count - 1
        var i = 0
        while i < last - 1 && mired >= robertson[i + 1].r { i += 1 }
        let f = min(max((robertson[i + 1].r - mired) / (robertson[i + 1].r - robertson[i].r), 0), 1)
        var u = robertson[i].u * f + robertson[i + 1].u * (1 - f)
        var v = robertson[i].v * f + robertson[i + 1].v * (1 - f)
        let (au, av) = direction(i), (bu, bv) = direction(i + 1)
        var (du, dv) = (au * f + bu * (1 - f), av * f + bv * (1 - f))
        let length = (du * du + dv * dv).squareRoot()
        du /= length; dv /= length
        u += du * offset; v += dv * offset
        let d = u - 4 * v + 2
        return Chromaticity(x: 1.5 * u / d, y: v / d)
    }

    /// Chromaticity of an XYZ.
    public static func chromaticity(xyz: SIMD3<Double>) -> Chromaticity {
        let s = xyz.x + xyz.y + xyz.z
        return Chromaticity(x: xyz.x / s, y: xyz.y / s)
    }

    /// The correlated colour temperature DNG assigns to an EXIF LightSource code (the
    /// CalibrationIlluminant tags), or nil for "unknown"/"other" codes. Fluorescent classes are
    /// the middle of their CCT ranges (JIS Z 9112), as the DNG SDK takes them.
    public static func kelvin(lightSource code: Int) -> Double? {
        switch code {
        case 17, 3: return 2850  // standard light A, tungsten
        case 24: return 3200  // ISO studio tungsten
        case 23: return 5000  // D50
        case 20, 1, 9, 4, 18: return 5500  // D55, daylight, fine weather, flash, standard light B
        case 21, 19, 10: return 6500  // D65, standard light C, cloudy
        case 22, 11: return 7500  // D75, shade
        case 12: return (5700 + 7100) / 2  // daylight fluorescent
        case 13: return (4600 + 5500) / 2  // day white fluorescent
        case 14, 2: return (3800 + 4500) / 2  // cool white fluorescent, fluorescent
        case 15: return (3250 + 3800) / 2  // white fluorescent
        case 16: return (2600 + 3250) / 2  // warm white fluorescent
        default: return nil
        }
    }
}
