#!/usr/bin/env python3
"""Independent reference for the DNG WarpRectilinear correction (docs/QUALITY.md, LensWarpTests).

Reads what the test exports (EMULSION_WARP_EXPORT=DIR swift test --filter LensWarpTests):
input.ppm (16-bit RGB), ours.ppm (Emulsion's warped image, 16-bit RGB) and warp.json (the
coefficients, the centre relative to the area, the area and the frame's offset in it). Builds
OpenCV's own undistortion map for each plane — the Brown–Conrady model is DNG's: with the
destination normalised by R (the distance to the area's farthest corner, newCameraMatrix f = R)
and the source scaled by R·kr0 (cameraMatrix f = R·kr0), k1..k3 = kr1..kr3 / kr0,
p1 = kt0 / kr0 and p2 = kt1 / kr0 — resamples with cv2.remap's bicubic (Keys, A = −0.75, the DNG
SDK's kernel) at exact positions, and prints how far Emulsion's image is from it in 16-bit codes,
over the pixels whose taps all lie inside the frame.

Needs: pip install opencv-python-headless numpy (not needed by the tests).
"""
import json
import os
import sys

import cv2
import numpy as np


def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    parts = data.split(maxsplit=4)
    assert parts[0] == b"P6" and int(parts[3]) == 65535
    w, h = int(parts[1]), int(parts[2])
    return np.frombuffer(parts[4][: 6 * w * h], dtype=">u2").reshape(h, w, 3).astype(np.float64)


def main(directory):
    source = read_ppm(os.path.join(directory, "input.ppm"))
    ours = read_ppm(os.path.join(directory, "ours.ppm"))
    warp = json.load(open(os.path.join(directory, "warp.json")))
    h, w, _ = source.shape
    aw, ah = warp["imageWidth"], warp["imageHeight"]
    # The centre in frame pixels (pixel i at i, as the DNG SDK places it); R over the area's corners.
    cx, cy = warp["centreX"] * aw, warp["centreY"] * ah
    r = max(np.hypot(x - cx, y - cy) for x in (0, aw) for y in (0, ah))
    cx -= warp["offsetX"]
    cy -= warp["offsetY"]
    planes = warp["planes"] * (3 if len(warp["planes"]) == 1 else 1)
    worst = 0.0
    print("opencv", cv2.__version__)
    for c, k in enumerate(planes):
        kr0, kr1, kr2, kr3 = k["radial"]
        kt0, kt1 = k["tangentialY"], k["tangentialX"]
        camera = np.array([[r * kr0, 0, cx], [0, r * kr0, cy], [0, 0, 1]])
        destination = np.array([[r, 0, cx], [0, r, cy], [0, 0, 1]])
        distortion = np.array([kr1 / kr0, kr2 / kr0, kt0 / kr0, kt1 / kr0, kr3 / kr0])
        mx, my = cv2.initUndistortRectifyMap(camera, distortion, None, destination, (w, h), cv2.CV_32FC1)
        theirs = cv2.remap(source[:, :, c].astype(np.float32), mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        inside = (mx >= 1) & (mx < w - 3) & (my >= 1) & (my < h - 3)
        d = np.abs(theirs - ours[:, :, c])[inside]
        moved = np.abs(source[:, :, c] - ours[:, :, c])[inside]
        print(f"plane {c}: {inside.sum()} pixels, |Emulsion - OpenCV| max {d.max():.2f} mean {d.mean():.3f} codes"
              f" (the warp itself moves values by up to {moved.max():.0f})")
        worst = max(worst, d.max())
    print(f"worst {worst:.2f} codes")


if __name__ == "__main__":
    main(sys.argv[1])
