#!/usr/bin/env python3
"""fuzz_seeds.py DIR — writes small synthetic DNGs for the `raw` fuzz target into DIR.

What: 32×24 Bayer (RGGB) DNGs, 12-bit ramps, uncompressed, with an OpcodeList3 holding a
FixVignetteRadial and a WarpRectilinear (seed-warp1.dng) or a three-plane reciprocal
WarpRectilinear2 (seed-warp2.dng), so mutations start inside the opcode readers rather than
having to find OpcodeList3 first: no sample in ../shared/raw-samples is that small or carries
those opcodes. Made here, from the DNG 1.6 specification's layouts (TIFF 6.0 IFD, opcode lists
big-endian), so no raw file is kept in the repository. Standard library only.
"""
import struct
import sys

W, H = 32, 24


def opcode(ident, version, params):
    return struct.pack('>IIII', ident, version, 1, len(params)) + params


def warp1():
    return opcode(1, 0x01030000, struct.pack('>I', 1) + struct.pack('>6d', 0.97, 0.05, -0.02, 0.01, -0.003, 0.004)
                  + struct.pack('>2d', 0.45, 0.55))


def warp2():
    terms = [1.01, -0.02, 0, 0.03] + [0] * 10 + [0.005]
    plane = struct.pack('>15d', *terms) + struct.pack('>4d', 0.0, 1e-3, 0.05, 0.95)
    return opcode(14, 0x01060000, struct.pack('>I', 3) + plane * 3 + struct.pack('>2d', 0.45, 0.55) + struct.pack('>I', 1))


def vignette():
    return opcode(3, 0x01030000, struct.pack('>7d', 0.6, 0.1, 0, 0, 0.01, 0.5, 0.5))


def dng(opcodes):
    samples = b''.join(struct.pack('<H', (64 + 97 * x + 53 * y + (300 if (x + y) % 2 else 0)) % 4096)
                       for y in range(H) for x in range(W))
    lists = struct.pack('>I', len(opcodes)) + b''.join(opcodes)
    srational = lambda values: b''.join(struct.pack('<ii', round(v * 10000), 10000) for v in values)
    rational = lambda values: b''.join(struct.pack('<II', round(v * 10000), 10000) for v in values)
    # (tag, type, count, value bytes): types 1 BYTE, 2 ASCII, 3 SHORT, 4 LONG, 5 RATIONAL, 7 UNDEFINED, 10 SRATIONAL.
    entries = [
        (254, 4, 1, struct.pack('<I', 0)), (256, 4, 1, struct.pack('<I', W)), (257, 4, 1, struct.pack('<I', H)),
        (258, 3, 1, struct.pack('<H', 16)), (259, 3, 1, struct.pack('<H', 1)), (262, 3, 1, struct.pack('<H', 32803)),
        (273, 4, 1, None), (274, 3, 1, struct.pack('<H', 1)), (277, 3, 1, struct.pack('<H', 1)),
        (278, 4, 1, struct.pack('<I', H)), (279, 4, 1, struct.pack('<I', len(samples))), (284, 3, 1, struct.pack('<H', 1)),
        (33421, 3, 2, struct.pack('<2H', 2, 2)), (33422, 1, 4, bytes([0, 1, 1, 2])),
        (50706, 1, 4, bytes([1, 4, 0, 0])), (50707, 1, 4, bytes([1, 1, 0, 0])),
        (50708, 2, 18, b'Emulsion fuzz DNG\0'), (50714, 3, 1, struct.pack('<H', 64)), (50717, 3, 1, struct.pack('<H', 4095)),
        (50721, 10, 9, srational([0.9, -0.3, -0.1, -0.4, 1.2, 0.2, -0.05, 0.15, 0.6])),
        (50728, 5, 3, rational([0.5, 1, 0.7])), (50778, 3, 1, struct.pack('<H', 21)),
        (51022, 7, len(lists), lists),
    ]
    ifd_offset = 8
    ifd_size = 2 + 12 * len(entries) + 4
    data_offset = ifd_offset + ifd_size
    blobs, ifd = b'', struct.pack('<H', len(entries))
    strip_offset = None
    for tag, kind, count, value in entries:
        if value is None:  # StripOffsets: the samples follow every other value
            ifd += struct.pack('<HHI', tag, kind, count) + b'STRP'
            continue
        if len(value) <= 4:
            ifd += struct.pack('<HHI', tag, kind, count) + value.ljust(4, b'\0')
        else:
            ifd += struct.pack('<HHII', tag, kind, count, data_offset + len(blobs))
            blobs += value + (b'\0' if len(value) % 2 else b'')
    strip_offset = data_offset + len(blobs)
    ifd = ifd.replace(b'STRP', struct.pack('<I', strip_offset)) + struct.pack('<I', 0)
    return b'II' + struct.pack('<HI', 42, ifd_offset) + ifd + blobs + samples


if __name__ == '__main__':
    folder = sys.argv[1]
    for name, opcodes in [('seed-warp1.dng', [warp1(), vignette()]), ('seed-warp2.dng', [vignette(), warp2()])]:
        with open(f'{folder}/{name}', 'wb') as f:
            f.write(dng(opcodes))
