#!/usr/bin/env python3
"""Independent CPSNR reference for docs/QUALITY.md and Tests/EmulsionCoreTests/DemosaicQualityTests.

Reads the 16-bit reference images the test exports (EMULSION_DEMOSAIC_EXPORT=DIR swift test
--filter DemosaicQualityTests), mosaics each in the four Bayer layouts with colour-demosaicing's
own `mosaicing_CFA_Bayer`, reconstructs with its bilinear, Malvar (2004) and Menon (2007, DDFAPD)
implementations, and prints CPSNR with the test's definition: 8-pixel border left out,
reconstruction clipped to 0..1, MSE over all three channels.

Needs: pip install colour-demosaicing (not needed by the tests, which carry the numbers).
"""
import glob
import os
import sys

import numpy as np
import colour_demosaicing as cd


def cpsnr(reference, reconstruction, border=8):
    r = reference[border:-border, border:-border]
    o = np.clip(reconstruction[border:-border, border:-border], 0, 1)
    return 10 * np.log10(1 / np.mean((o - r) ** 2))


def main(directory):
    print("colour-demosaicing", cd.__version__)
    algorithms = {
        "bilinear": cd.demosaicing_CFA_Bayer_bilinear,
        "malvar": cd.demosaicing_CFA_Bayer_Malvar2004,
        "menon2007": cd.demosaicing_CFA_Bayer_Menon2007,
    }
    for path in sorted(glob.glob(os.path.join(directory, "*.rgb16"))):
        name, size = os.path.basename(path)[:-6].rsplit("-", 1)
        w, h = map(int, size.split("x"))
        rgb = np.fromfile(path, dtype="<u2").reshape(h, w, 3).astype(np.float64) / 65535
        for algorithm, f in algorithms.items():
            values = []
            for pattern in ["RGGB", "BGGR", "GRBG", "GBRG"]:
                cfa = cd.mosaicing_CFA_Bayer(rgb, pattern)
                values.append(cpsnr(rgb, f(cfa, pattern)))
            print(f"{name} {algorithm}: " + " ".join(f"{v:.2f}" for v in values) + f"  mean {np.mean(values):.3f}")


if __name__ == "__main__":
    main(sys.argv[1])
