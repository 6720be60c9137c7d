/// The synthetic scene captured the way a phone records it: a 4:3 Bayer mosaic with shot and read
/// noise, darkened towards the corners by a lens whose shading the file records as four DNG
/// GainMaps (one per Bayer position, as the Pixel's DNGs carry them), meant to be stored in
/// 256 × 192 lossless JPEG tiles (`DNGWriter.SampleStorage.losslessJPEGTiles`).
///
/// Why: the benchmark's other synthetic raws are uncompressed strips, the layout of no phone. A
/// full-size phone DNG exercises what a phone file costs: the tiled LJ92 decode, the gain maps,
/// the lens warp, partial tiles at the edges (4000 × 3000 is not a multiple of 256 × 192). The
/// samples here are only a 0.2 MP crop of a Pixel 7 file, whose decode is fixed cost.
/// Shading: gain = 1 + k·r², r = 1 at the corners, k = 0.9 (red), 0.75 (green), 0.6 (blue): about
/// −0.9 EV at the red corners, with the colour shading phones correct. The mosaic is divided by
/// exactly the gain the maps give there (`GainMap.gain`, the stage's bilinear interpolation), so the
/// corrected capture is the scene up to rounding.
/// Warp: the file also records the Pixel 7 sample's WarpRectilinear (OpcodeList3), so a render
/// pays for the lens correction every phone file asks for. The scene is not drawn distorted, so
/// the corrected render is it magnified by 0.8 % (the coefficients' kr0); only the benchmark's
/// cost, not any test's colours, depends on that.
/// Reference: DNG 1.6 §7, opcode 9 GainMap (map placement in relative coordinates, pitches), opcode 1
/// WarpRectilinear.
/// Colour space: camera RGB mosaic, as `SyntheticScene.render`.
public enum SyntheticPhoneCapture {
    /// The tile size a Pixel 7 writes.
    public static let tileWidth = 256, tileHeight = 192
    /// The Pixel 7 sample's lens warp coefficients (`google-pixel_7-digizoom_crop.dng`, rounded).
    static let pixelWarp = LensWarp.Coefficients(radial: [0.99216, 0.000931, -1.28e-5, 6.68e-8])

    /// Grid points of each gain map, down and across.
    static let mapPointsV = 13, mapPointsH = 17

    /// A 4:3 size of about `megapixels` MP with even sides (12 → 4000 × 3000).
    public static func size(megapixels: Int) -> (width: Int, height: Int) {
        let h = Int((Double(megapixels) * 1e6 * 3 / 4).squareRoot()) / 2 * 2
        return (h * 4 / 3 / 2 * 2, h)
    }

    /// The capture, with its gain maps as `lensShading`.
    public static func render(width: Int, height: Int) -> RawImage {
        var camera = SyntheticCamera(noise: .init())
        camera.model = "Synthetic Phone"
        var image = SyntheticScene(width: width, height: height, camera: camera).render()
        let maps = gainMaps(width: width, height: height, cfa: camera.cfa)
        let black = Double(camera.black), white = Double(camera.white)
        image.samples.withUnsafeMutableBufferPointer { samples in
            for y in 0..<height {
                for x in 0..<width {
                    let map = maps[(y & 1) * 2 + (x & 1)]
                    let gain = Double(map.gain(row: y, column: x, imageWidth: width, imageHeight: height))
                    let v = black + (Double(samples[y * width + x]) - black) / gain
                    samples[y * width + x] = UInt16(min(max(v, 0), white).rounded())
                }
            }
        }
        image.lensShading = LensShading(maps: maps, imageWidth: width, imageHeight: height)
        image.lensWarp = LensWarp(planes: [pixelWarp], centreX: 0.5018, centreY: 0.4599, imageWidth: width, imageHeight: height)
        return image
    }

    /// One map per Bayer position (top-left at row y, column x ∈ {0, 1}, pitch 2), spanning the image.
    static func gainMaps(width: Int, height: Int, cfa: CFAPattern) -> [GainMap] {
        let strength: [Float] = [0.9, 0.75, 0.6]
        return (0..<4).map { phase in
            let row = phase / 2, column = phase % 2
            let k = strength[cfa.colour(row: row, column: column)]
            let gains = (0..<mapPointsV * mapPointsH).map { i -> Float in
                let v = Float(i / mapPointsH) / Float(mapPointsV - 1) - 0.5
                let h = Float(i % mapPointsH) / Float(mapPointsH - 1) - 0.5
                return 1 + k * (v * v + h * h) * 2
            }
            return GainMap(top: row, left: column, bottom: height, right: width, plane: 0, planes: 1,
                           rowPitch: 2, columnPitch: 2, pointsV: mapPointsV, pointsH: mapPointsH,
                           spacingV: 1 / Double(mapPointsV - 1), spacingH: 1 / Double(mapPointsH - 1),
                           originV: 0, originH: 0, mapPlanes: 1, gains: gains)
        }
    }
}
