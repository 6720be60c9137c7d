import EmulsionCore

/// The part of the picture an output shows (`process --crop x,y,w,h` or `--aspect W:H`), in
/// pixels of the full-size upright output (as `--wb-rect`), before `--max-size`.
///
/// `aspect` is the largest centred rectangle of that shape, turned to the picture: its long side
/// along the picture's long side, so `--aspect 16:9` gives a 16:9 landscape and a 9:16 portrait
/// from a batch of both (a phone's aspect setting does the same whichever way it is held).
/// Reference: the rectangle maps to the stored frame through the orientation
/// (`RenderPlan`, `CroppedSource`).
public enum OutputCrop: Sendable, Equatable, CustomStringConvertible {
    case rectangle(x: Int, y: Int, width: Int, height: Int)
    case aspect(Double, Double)

    /// "x,y,w,h": x and y 0 or more, w and h 1 or more.
    public init(parsingRectangle text: String) throws {
        let v = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingWhitespace()) }
        guard v.count == 4, let x = v[0], let y = v[1], let w = v[2], let h = v[3], x >= 0, y >= 0, w >= 1, h >= 1 else {
            throw RenderError("--crop \(text): expected x,y,w,h in output pixels: x and y 0 or more, w and h 1 or more (integers)")
        }
        self = .rectangle(x: x, y: y, width: w, height: h)
    }

    /// "W:H" (16:9, 1:1, 2.39:1), each part a number above 0.
    public init(parsingAspect text: String) throws {
        let v = text.split(separator: ":", omittingEmptySubsequences: false).map { Double($0.trimmingWhitespace()) }
        guard v.count == 2, let w = v[0], let h = v[1], w.isFinite, h.isFinite, w > 0, h > 0, max(w / h, h / w) <= 100 else {
            throw RenderError("--aspect \(text): expected W:H, e.g. 16:9, 1:1 or 2.39:1 (numbers above 0, at most 100:1)")
        }
        self = .aspect(w, h)
    }

    public var description: String {
        switch self {
        case .rectangle(let x, let y, let w, let h): return "--crop \(x),\(y),\(w),\(h)"
        case .aspect(let w, let h): return "--aspect \(CFormat.string("%g", w)):\(CFormat.string("%g", h))"
        }
    }

    /// The rectangle in an upright picture `width` × `height`; throws when it does not lie inside.
    public func rectangle(inWidth width: Int, height: Int) throws -> (x: Int, y: Int, width: Int, height: Int) {
        switch self {
        case .rectangle(let x, let y, let w, let h):
            // (Compared without adding: `--crop 9223372036854775807,0,1,1` overflowed the sum and trapped.)
            guard x <= width - w, y <= height - h else {
                throw RenderError("\(self): the rectangle reaches past the \(width)×\(height) picture")
            }
            return (x, y, w, h)
        case .aspect(let a, let b):
            let long = max(a, b), short = min(a, b)
            let ratio = width >= height ? long / short : short / long
            var w = width, h = height
            if Double(width) / Double(height) > ratio {
                w = max(1, min(width, Int((Double(height) * ratio).rounded())))
            } else {
                h = max(1, min(height, Int((Double(width) / ratio).rounded())))
            }
            return ((width - w) / 2, (height - h) / 2, w, h)
        }
    }
}
