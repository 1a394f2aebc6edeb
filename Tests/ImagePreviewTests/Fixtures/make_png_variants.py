#!/usr/bin/env python3
"""Writes PNG variants of sample-data/images/shape-0003.png for ImagePreviewTests (standard library only):
  shape-0003-interlaced.png  RGB, 8 bit, Adam7 interlaced
  shape-0003-palette.png     colour type 3 (palette), 8 bit
  shape-0003-gray16.png      grey, 16 bit, tRNS making the background grey transparent
Run from the repository root: python3 Tests/ImagePreviewTests/Fixtures/make_png_variants.py"""
import os, struct, zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "..", "..", "sample-data", "images", "shape-0003.png")

def read_rgb(path):
    d = open(path, "rb").read(); i = 8; idat = b""
    while i < len(d):
        n, = struct.unpack(">I", d[i:i + 4]); t = d[i + 4:i + 8]; c = d[i + 8:i + 8 + n]; i += 12 + n
        if t == b"IHDR": w, h = struct.unpack(">II", c[:8])
        if t == b"IDAT": idat += c
    raw = zlib.decompress(idat); s = w * 3
    assert all(raw[y * (s + 1)] == 0 for y in range(h))
    return w, h, [raw[y * (s + 1) + 1:(y + 1) * (s + 1)] for y in range(h)]

def chunk(t, b): return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xFFFFFFFF)

def write(path, w, h, depth, ctype, scanlines, interlace=0, extra=b""):
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace)
    data = b"".join(b"\x00" + l for l in scanlines)
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(data, 9)) + chunk(b"IEND", b""))

w, h, rows = read_rgb(SRC)
px = lambda x, y: rows[y][3 * x:3 * x + 3]

# Adam7: (x0, y0, dx, dy) per pass; each pass is its own sub-image of scanlines.
passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
lines = []
for x0, y0, dx, dy in passes:
    for y in range(y0, h, dy):
        line = b"".join(px(x, y) for x in range(x0, w, dx))
        if line: lines.append(line)
write(os.path.join(HERE, "shape-0003-interlaced.png"), w, h, 8, 2, lines, interlace=1)

colours = sorted({px(x, y) for y in range(h) for x in range(w)})
assert len(colours) <= 256, len(colours)
index = {c: i for i, c in enumerate(colours)}
write(os.path.join(HERE, "shape-0003-palette.png"), w, h, 8, 3,
      [bytes(index[px(x, y)] for x in range(w)) for y in range(h)], extra=chunk(b"PLTE", b"".join(colours)))

def grey16(c): v = (299 * c[0] + 587 * c[1] + 114 * c[2]) // 1000; return struct.pack(">H", v * 257)
write(os.path.join(HERE, "shape-0003-gray16.png"), w, h, 16, 0,
      [b"".join(grey16(px(x, y)) for x in range(w)) for y in range(h)], extra=chunk(b"tRNS", grey16(px(0, 0))))
