#!/usr/bin/env python3
"""Generate flywheel's bundled demo data set into sample-data/.

Produces (deterministically, fixed seed; two runs give byte-identical output):
  sample-data/images/*.png          ~50 small PNGs drawn with a hand-made 5x7 bitmap
                                    font: receipts, utility meters, coloured shapes,
                                    street signs and simple street scenes
  sample-data/events/chat-2026-05-weekN.jsonl
                                    chat sessions (turn / feedback / session_end),
                                    one file per week of May 2026 (by session start)
  sample-data/events/recognition.jsonl
                                    image-tagging results plus tag feedback
  sample-data/events/errors.jsonl   error_log events for real chat request_ids
  sample-data/broken/bad-lines.jsonl
                                    good events mixed with every kind of bad line
  sample-data/team/feedback-burst.jsonl
                                    one end user's burst of thumbs-downs (abuse flags)
  sample-data/labels.json           ground truth for the demo: image truths, per-
                                    answer correctness and per-user-turn labels
                                    (implicit correction, hard negative, ...)
  sample-data/README.md             description and counts

Standard library only (PNG written with zlib + struct). Run from the repo root:
    python3 tools/gen_sample_data.py
It prints the counts that README.md lists.
"""

import hashlib
import json
import math
import os
import random
import struct
import sys
import time
import zlib
from datetime import datetime, timedelta, timezone

SEED = 20260501
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sample-data")
ROOT = os.path.normpath(ROOT)
IMG_DIR = os.path.join(ROOT, "images")
EV_DIR = os.path.join(ROOT, "events")
BROKEN_DIR = os.path.join(ROOT, "broken")
TEAM_DIR = os.path.join(ROOT, "team")
IMG_REF = "../images/"  # image refs are relative to the events/ folder

EPOCH = datetime(2026, 5, 1, tzinfo=timezone.utc)
N_DAYS = 28
N_SESSIONS = 460
N_USERS = 64
N_RECOGNITIONS = 84

# ---------------------------------------------------------------------------
# PNG writing and a tiny raster canvas
# ---------------------------------------------------------------------------


def png_bytes(w, h, pix):
    rows = []
    stride = w * 3
    for y in range(h):
        rows.append(b"\x00")
        rows.append(bytes(pix[y * stride:(y + 1) * stride]))
    raw = b"".join(rows)

    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data +
                struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
            chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


FONT = {
    "0": [".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."],
    "1": ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."],
    "2": [".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"],
    "3": ["#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."],
    "4": ["...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."],
    "5": ["#####", "#....", "####.", "....#", "....#", "#...#", ".###."],
    "6": ["..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."],
    "7": ["#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."],
    "8": [".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."],
    "9": [".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."],
    "A": [".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
    "B": ["####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."],
    "C": [".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."],
    "D": ["###..", "#..#.", "#...#", "#...#", "#...#", "#..#.", "###.."],
    "E": ["#####", "#....", "#....", "####.", "#....", "#....", "#####"],
    "F": ["#####", "#....", "#....", "####.", "#....", "#....", "#...."],
    "G": [".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"],
    "H": ["#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
    "I": [".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."],
    "J": ["..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."],
    "K": ["#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"],
    "L": ["#....", "#....", "#....", "#....", "#....", "#....", "#####"],
    "M": ["#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"],
    "N": ["#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"],
    "O": [".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
    "P": ["####.", "#...#", "#...#", "####.", "#....", "#....", "#...."],
    "Q": [".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"],
    "R": ["####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"],
    "S": [".####", "#....", "#....", ".###.", "....#", "....#", "####."],
    "T": ["#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."],
    "U": ["#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
    "V": ["#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."],
    "W": ["#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."],
    "X": ["#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"],
    "Y": ["#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."],
    "Z": ["#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"],
    "%": ["##...", "##..#", "...#.", "..#..", ".#...", "#..##", "...##"],
    "$": ["..#..", ".####", "#.#..", ".###.", "..#.#", "####.", "..#.."],
    ".": [".....", ".....", ".....", ".....", ".....", ".##..", ".##.."],
    ",": [".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."],
    "-": [".....", ".....", ".....", "#####", ".....", ".....", "....."],
    ":": [".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."],
    "/": ["....#", "....#", "...#.", "..#..", ".#...", "#....", "#...."],
    "x": [".....", ".....", "#...#", ".#.#.", "..#..", ".#.#.", "#...#"],
    " ": [".....", ".....", ".....", ".....", ".....", ".....", "....."],
}


class Canvas:
    def __init__(self, w, h, bg):
        self.w, self.h = w, h
        self.pix = bytearray(bytes(bg) * (w * h))

    def put(self, x, y, c):
        if 0 <= x < self.w and 0 <= y < self.h:
            i = (y * self.w + x) * 3
            self.pix[i:i + 3] = bytes(c)

    def rect(self, x0, y0, x1, y1, c):
        x0, x1 = max(0, int(x0)), min(self.w, int(x1))
        y0, y1 = max(0, int(y0)), min(self.h, int(y1))
        if x0 >= x1:
            return
        row = bytes(c) * (x1 - x0)
        for y in range(y0, y1):
            i = (y * self.w + x0) * 3
            self.pix[i:i + len(row)] = row

    def frame(self, x0, y0, x1, y1, t, c):
        self.rect(x0, y0, x1, y0 + t, c)
        self.rect(x0, y1 - t, x1, y1, c)
        self.rect(x0, y0, x0 + t, y1, c)
        self.rect(x1 - t, y0, x1, y1, c)

    def ellipse(self, cx, cy, rx, ry, c):
        for y in range(int(cy - ry) - 1, int(cy + ry) + 2):
            for x in range(int(cx - rx) - 1, int(cx + rx) + 2):
                if ((x + 0.5 - cx) / rx) ** 2 + ((y + 0.5 - cy) / ry) ** 2 <= 1.0:
                    self.put(x, y, c)

    def circle(self, cx, cy, r, c):
        self.ellipse(cx, cy, r, r, c)

    def ring(self, cx, cy, r, t, c):
        for y in range(int(cy - r) - 1, int(cy + r) + 2):
            for x in range(int(cx - r) - 1, int(cx + r) + 2):
                d = math.hypot(x + 0.5 - cx, y + 0.5 - cy)
                if r - t <= d <= r:
                    self.put(x, y, c)

    def poly(self, pts, c):
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        n = len(pts)
        for y in range(int(min(ys)), int(max(ys)) + 1):
            for x in range(int(min(xs)), int(max(xs)) + 1):
                px, py = x + 0.5, y + 0.5
                inside = False
                j = n - 1
                for i in range(n):
                    xi, yi = pts[i]
                    xj, yj = pts[j]
                    if (yi > py) != (yj > py) and px < (xj - xi) * (py - yi) / (yj - yi) + xi:
                        inside = not inside
                    j = i
                if inside:
                    self.put(x, y, c)

    def line(self, x0, y0, x1, y1, t, c):
        steps = int(max(abs(x1 - x0), abs(y1 - y0))) + 1
        for s in range(steps + 1):
            x = x0 + (x1 - x0) * s / steps
            y = y0 + (y1 - y0) * s / steps
            self.rect(x - t / 2, y - t / 2, x + t / 2 + 1, y + t / 2 + 1, c)

    def text(self, x, y, s, scale, c):
        for ch in s:
            g = FONT.get(ch, FONT[" "])
            for gy, row in enumerate(g):
                for gx, bit in enumerate(row):
                    if bit == "#":
                        self.rect(x + gx * scale, y + gy * scale,
                                  x + (gx + 1) * scale, y + (gy + 1) * scale, c)
            x += 6 * scale

    @staticmethod
    def text_width(s, scale):
        return len(s) * 6 * scale - scale

    def text_center(self, cx, y, s, scale, c):
        self.text(int(cx - self.text_width(s, scale) / 2), y, s, scale, c)

    def speckle(self, rng, n, c):
        for _ in range(n):
            self.put(rng.randrange(self.w), rng.randrange(self.h), c)

    def png(self):
        return png_bytes(self.w, self.h, self.pix)


WHITE = (255, 255, 255)
BLACK = (20, 20, 20)
COLORS = {
    "red": (214, 40, 40), "blue": (40, 80, 200), "green": (40, 160, 70),
    "yellow": (240, 200, 30), "orange": (245, 130, 30), "purple": (130, 60, 170),
}
COLOR_ZH = {"red": "红色", "blue": "蓝色", "green": "绿色", "yellow": "黄色",
            "orange": "橙色", "purple": "紫色"}
COLOR_ZH_TRAD = {"red": "紅色", "blue": "藍色", "green": "綠色", "yellow": "黃色",
                 "orange": "橙色", "purple": "紫色"}
SHAPE_ZH = {"circle": "圆形", "square": "正方形", "triangle": "三角形",
            "diamond": "菱形", "hexagon": "六边形", "star": "五角星"}
SHAPE_SIDES = {"circle": 0, "square": 4, "triangle": 3, "diamond": 4, "hexagon": 6, "star": 10}

# ---------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------

RECEIPT_TOTALS = ["42.51", "78.40", "17.80", "31.05", "126.90", "9.99", "63.20",
                  "55.75", "208.00", "14.36", "71.10", "36.50", "88.08", "5.45"]
STORES = ["FRESH MART", "CAFE LUNA", "NOODLE HOUSE", "CITY MARKET", "QUICK STOP",
          "GREEN GROCER", "BOOK NOOK", "PHO 99", "SUNNY BAKERY", "TECH DEPOT"]
ITEMS = ["MILK", "BREAD", "EGGS", "COFFEE", "TEA", "RICE", "APPLES", "NOODLES",
         "SOAP", "CHEESE", "TOFU", "JUICE", "CAKE", "PEN", "CABLE", "DUMPLINGS"]
METER_READINGS = ["04817", "12093", "00786", "35512", "07140", "21968", "58301", "00431"]
METER_UNITS = ["KWH", "KWH", "M3", "KWH", "M3", "KWH", "KWH", "M3"]
SHAPES = [("red", "circle"), ("blue", "square"), ("green", "triangle"),
          ("yellow", "star"), ("orange", "hexagon"), ("purple", "diamond"),
          ("blue", "circle"), ("red", "triangle"), ("green", "square"),
          ("orange", "circle"), ("purple", "star"), ("yellow", "diamond")]
SIGNS = [("STOP", WHITE, (200, 30, 30), "octagon"),
         ("EXIT", WHITE, (20, 140, 60), "rect"),
         ("SALE 50%", (200, 20, 20), (250, 215, 40), "rect"),
         ("ONE WAY", BLACK, WHITE, "arrow"),
         ("NO PARKING", (200, 30, 30), WHITE, "rect"),
         ("OPEN", WHITE, (30, 150, 80), "rect"),
         ("CLOSED", WHITE, (190, 40, 40), "rect"),
         ("PUSH", BLACK, (245, 200, 40), "rect"),
         ("SPEED 30", BLACK, WHITE, "border"),
         ("EXIT 12", WHITE, (20, 110, 60), "rect")]
SIGN_MISREAD = {"STOP": "SHOP", "EXIT": "EDIT", "SALE 50%": "SALE 60%", "ONE WAY": "ONLY WAY",
                "NO PARKING": "NO PARKS", "OPEN": "OPEN 24H", "CLOSED": "CLOSE",
                "PUSH": "PULL", "SPEED 30": "SPEED 80", "EXIT 12": "EXIT 17"}
STREETS = [
    ["car", "dog", "tree", "road", "sky"],
    ["car", "car", "building", "traffic light", "road", "sky"],
    ["bicycle", "person", "tree", "road", "sky"],
    ["dog", "person", "tree", "building", "road", "sky"],
    ["car", "bicycle", "building", "road", "sky"],
    ["car", "car", "car", "tree", "road", "sky"],
    ["dog", "bicycle", "traffic light", "road", "sky"],
    ["car", "person", "dog", "building", "tree", "road", "sky"],
]


def draw_receipt(rng, idx, total):
    c = Canvas(240, 200, (150, 150, 155))
    paper = (250, 248, 240)
    c.rect(28, 0, 212, 200, paper)
    for x in range(28, 212, 8):  # torn edge
        c.poly([(x, 200), (x + 4, 194), (x + 8, 200)], (150, 150, 155))
    store = STORES[idx % len(STORES)]
    c.text_center(120, 8, store, 2, BLACK)
    month, day = (4, rng.randint(3, 29)) if idx % 3 else (5, rng.randint(1, 20))
    date = "2026-%02d-%02d" % (month, day)
    c.text_center(120, 28, date, 1, (80, 80, 80))
    n_items = 3
    cents = int(round(float(total) * 100))
    weights = [rng.uniform(0.5, 1.5) for _ in range(n_items)]
    prices = [int(cents * wt / sum(weights)) for wt in weights[:-1]]
    prices.append(cents - sum(prices))  # items add up to the total
    names = rng.sample(ITEMS, n_items)
    items = []
    for i, (nm, p) in enumerate(zip(names, prices)):
        ps = "%d.%02d" % (p // 100, p % 100)
        y = 44 + i * 12
        c.text(38, y, nm, 1, (60, 60, 60))
        c.text(202 - Canvas.text_width(ps, 1), y, ps, 1, (60, 60, 60))
        items.append([nm, ps])
    for x in range(36, 204, 6):
        c.rect(x, 84, x + 3, 86, (120, 120, 120))
    c.text(38, 94, "TOTAL", 2, BLACK)
    # The total as large as the paper allows: a reviewer reads it in the console's preview.
    scale = 6 if len(total) <= 5 else 5 if len(total) <= 6 else 4
    c.text_center(120, 116, total, scale, BLACK)
    c.text_center(120, 168, "THANK YOU", 1, (90, 90, 90))
    c.speckle(rng, 60, (215, 212, 205))
    return c, {"kind": "receipt", "total": total, "store": store, "date": date, "items": items}


def draw_meter(rng, idx, reading, unit):
    c = Canvas(240, 140, (60, 66, 72))
    c.rect(14, 12, 226, 128, (200, 204, 208))
    c.frame(14, 12, 226, 128, 3, (90, 95, 100))
    c.text(26, 22, "METER NO " + str(70310 + idx * 17), 1, (50, 50, 50))
    c.rect(30, 44, 210, 92, (15, 15, 18))
    slot = 36
    for i, d in enumerate(reading):
        x = 30 + 4 + i * slot
        bg = (35, 35, 40) if i < len(reading) - 1 else (120, 20, 20)
        c.rect(x, 48, x + slot - 4, 88, bg)
        c.text(x + 4, 54, d, 4, (235, 235, 235))
    c.text(172, 104, unit, 2, BLACK)
    c.circle(44, 110, 8, (90, 95, 100))
    c.circle(44, 110, 5, (160, 165, 170))
    c.speckle(rng, 40, (170, 175, 180))
    return c, {"kind": "meter", "reading": reading, "unit": unit}


def draw_shape(rng, color, shape):
    c = Canvas(160, 120, (248, 248, 245))
    col = COLORS[color]
    cx, cy = 80 + rng.randint(-12, 12), 60 + rng.randint(-6, 6)
    r = 38
    if shape == "circle":
        c.circle(cx, cy, r, col)
    elif shape == "square":
        c.rect(cx - r + 4, cy - r + 4, cx + r - 4, cy + r - 4, col)
    elif shape == "triangle":
        c.poly([(cx, cy - r), (cx + r, cy + r - 6), (cx - r, cy + r - 6)], col)
    elif shape == "diamond":
        c.poly([(cx, cy - r), (cx + r - 8, cy), (cx, cy + r), (cx - r + 8, cy)], col)
    elif shape == "hexagon":
        c.poly([(cx + r * math.cos(math.pi / 3 * k), cy + r * math.sin(math.pi / 3 * k))
                for k in range(6)], col)
    elif shape == "star":
        pts = []
        for k in range(10):
            rr = r if k % 2 == 0 else r * 0.42
            a = -math.pi / 2 + k * math.pi / 5
            pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
        c.poly(pts, col)
    return c, {"kind": "shape", "color": color, "shape": shape}


def draw_sign(rng, text, fg, bg, style):
    w, h = 260, 140
    c = Canvas(w, h, (150, 190, 225))
    c.rect(0, 110, w, h, (110, 110, 115))
    c.rect(124, 96, 136, h, (120, 120, 125))  # pole
    scale = max(2, min(5, (w - 50) // (6 * len(text))))
    tw = Canvas.text_width(text, scale)
    bw = max(tw + 30, 110)
    x0, x1 = (w - bw) // 2, (w + bw) // 2
    y0, y1 = 14, 96
    if style == "octagon":
        k = 20
        c.poly([(x0 + k, y0), (x1 - k, y0), (x1, y0 + k), (x1, y1 - k), (x1 - k, y1),
                (x0 + k, y1), (x0, y1 - k), (x0, y0 + k)], bg)
    else:
        c.rect(x0, y0, x1, y1, bg)
        if style == "border":
            c.frame(x0, y0, x1, y1, 6, (200, 30, 30))
        else:
            c.frame(x0 + 3, y0 + 3, x1 - 3, y1 - 3, 2, fg)
    ty = (y0 + y1) // 2 - (7 * scale) // 2
    if style == "arrow":
        ty = y0 + 12
        c.rect(x0 + 24, y1 - 22, x1 - 40, y1 - 14, BLACK)
        c.poly([(x1 - 40, y1 - 30), (x1 - 18, y1 - 18), (x1 - 40, y1 - 6)], BLACK)
    c.text_center(w // 2, ty, text, scale, fg)
    return c, {"kind": "sign", "text": text}


def draw_street(rng, objs):
    w, h = 320, 200
    c = Canvas(w, h, (150, 200, 240))
    for y in range(0, 120):  # sky gradient
        shade = (120 + y // 3, 180 + y // 6, 235)
        c.rect(0, y, w, y + 1, shade)
    c.rect(0, 120, w, h, (95, 95, 100))
    c.rect(0, 116, w, 124, (170, 170, 160))  # kerb
    for x in range(0, w, 40):
        c.rect(x + 5, 160, x + 25, 164, (235, 235, 200))
    slots = list(range(8))
    rng.shuffle(slots)
    placed = 0
    for o in objs:
        if o in ("road", "sky"):
            continue
        sx = 20 + slots[placed % 8] * 36
        placed += 1
        if o == "building":
            bw = 60
            bx = sx - 10
            c.rect(bx, 40, bx + bw, 118, (170, 120, 90))
            for wy in range(48, 110, 16):
                for wx in range(bx + 8, bx + bw - 10, 16):
                    c.rect(wx, wy, wx + 9, wy + 9, (240, 230, 160))
        elif o == "tree":
            c.rect(sx + 12, 80, sx + 20, 120, (110, 70, 40))
            c.circle(sx + 16, 70, 22, (50, 140, 60))
        elif o == "traffic light":
            c.rect(sx + 14, 70, sx + 18, 120, (60, 60, 60))
            c.rect(sx + 8, 34, sx + 24, 74, (30, 30, 30))
            for k, col in enumerate([(220, 40, 40), (240, 200, 40), (60, 200, 80)]):
                c.circle(sx + 16, 41 + k * 12, 4, col)
        elif o == "car":
            col = rng.choice([(200, 40, 40), (40, 90, 200), (240, 240, 240), (60, 60, 60), (230, 180, 30)])
            y = 150 if placed % 2 else 132
            c.rect(sx - 6, y, sx + 58, y + 20, col)
            c.rect(sx + 8, y - 14, sx + 42, y + 1, col)
            c.rect(sx + 12, y - 11, sx + 24, y - 1, (180, 220, 240))
            c.rect(sx + 27, y - 11, sx + 39, y - 1, (180, 220, 240))
            c.circle(sx + 8, y + 21, 7, BLACK)
            c.circle(sx + 44, y + 21, 7, BLACK)
        elif o == "dog":
            brown = (140, 90, 50)
            y = 176
            c.ellipse(sx + 16, y - 12, 16, 8, brown)
            c.circle(sx + 34, y - 20, 7, brown)
            c.ellipse(sx + 38, y - 27, 3, 5, (100, 60, 30))
            for lx in (sx + 5, sx + 11, sx + 21, sx + 27):
                c.rect(lx, y - 6, lx + 3, y + 4, brown)
            c.line(sx, y - 14, sx - 8, y - 24, 2, brown)
            c.put(sx + 36, y - 22, BLACK)
        elif o == "bicycle":
            y = 150
            c.ring(sx, y, 11, 3, BLACK)
            c.ring(sx + 34, y, 11, 3, BLACK)
            c.line(sx, y, sx + 14, y - 16, 2, (40, 120, 200))
            c.line(sx + 14, y - 16, sx + 34, y, 2, (40, 120, 200))
            c.line(sx + 14, y - 16, sx + 30, y - 16, 2, (40, 120, 200))
            c.line(sx + 30, y - 16, sx + 34, y, 2, (40, 120, 200))
            c.line(sx + 30, y - 16, sx + 30, y - 22, 2, BLACK)
        elif o == "person":
            y = 120
            c.circle(sx + 10, y - 36, 6, (230, 190, 150))
            c.line(sx + 10, y - 30, sx + 10, y - 12, 3, (50, 70, 150))
            c.line(sx + 10, y - 26, sx + 2, y - 18, 2, (50, 70, 150))
            c.line(sx + 10, y - 26, sx + 18, y - 18, 2, (50, 70, 150))
            c.line(sx + 10, y - 12, sx + 4, y + 2, 2, BLACK)
            c.line(sx + 10, y - 12, sx + 16, y + 2, 2, BLACK)
    tags = sorted(set(objs))
    return c, {"kind": "street", "tags": tags, "cars": objs.count("car")}


def make_images(rng):
    os.makedirs(IMG_DIR, exist_ok=True)
    images = {}

    def save(name, canvas, meta):
        data = canvas.png()
        with open(os.path.join(IMG_DIR, name), "wb") as f:
            f.write(data)
        meta["file"] = name
        meta["sha256"] = hashlib.sha256(data).hexdigest()
        meta["bytes"] = len(data)
        images[name] = meta

    for i, t in enumerate(RECEIPT_TOTALS):
        save("receipt-%04d.png" % (i + 1), *draw_receipt(rng, i, t))
    for i, (r, u) in enumerate(zip(METER_READINGS, METER_UNITS)):
        save("meter-%04d.png" % (i + 1), *draw_meter(rng, i, r, u))
    for i, (col, sh) in enumerate(SHAPES):
        save("shape-%04d.png" % (i + 1), *draw_shape(rng, col, sh))
    for i, (t, fg, bg, st) in enumerate(SIGNS):
        save("sign-%04d.png" % (i + 1), *draw_sign(rng, t, fg, bg, st))
    for i, objs in enumerate(STREETS):
        save("street-%04d.png" % (i + 1), *draw_street(rng, objs))
    return images


# ---------------------------------------------------------------------------
# Conversation content
# ---------------------------------------------------------------------------

CONFUSE = {"0": "86", "1": "7", "2": "7", "3": "8", "4": "9", "5": "6", "6": "58",
           "7": "1", "8": "30", "9": "4"}


def misread_digits(s, rng):
    for _ in range(20):
        idx = [i for i, ch in enumerate(s) if ch.isdigit()]
        m = rng.random()
        out = list(s)
        if m < 0.45:
            pairs = [i for i in idx if i + 1 in idx and s[i] != s[i + 1]]
            if not pairs:
                continue
            i = rng.choice(pairs)
            out[i], out[i + 1] = out[i + 1], out[i]
        elif m < 0.9:
            i = rng.choice(idx)
            out[i] = rng.choice(CONFUSE[s[i]])
        else:
            if "." in s:
                out = [ch for ch in s if ch != "."]
            else:
                i = rng.choice(idx)
                del out[i]
        w = "".join(out)
        if w != s and w:
            return w
    return s[:-1] + ("1" if s[-1] != "1" else "2")


def pick(rng, seq):
    return rng.choice(seq)


class Ctx:
    """Per-session language settings."""

    def __init__(self, lang, trad, reply_en=False):
        self.lang = lang  # zh / en / mix
        self.trad = trad
        self.reply_en = reply_en  # for mixed sessions: the assistant answers in English

    @property
    def zh(self):
        return self.lang in ("zh", "mix")


def L(ctx, rng, zh, en, mix=None, trad=None):
    """Pick a phrasing for the session language."""
    if ctx.lang == "en":
        return pick(rng, en)
    if ctx.lang == "mix" and mix and rng.random() < 0.7:
        return pick(rng, mix)
    if ctx.trad and trad and rng.random() < 0.5:
        return pick(rng, trad)
    return pick(rng, zh)


def A(ctx, rng, zh, en):
    """Assistant reply language: follows the user (mix -> mostly zh)."""
    if ctx.lang == "en" or (ctx.lang == "mix" and ctx.reply_en):
        return pick(rng, en)
    return pick(rng, zh)


class Task:
    """Knows how to ask about one image and how answers/corrections look."""
    kind = "generic"

    def __init__(self, img, rng):
        self.img = img
        self.rng = rng

    # subclasses fill these in
    def question(self, ctx, paraphrase=False):
        raise NotImplementedError

    def truth(self):
        raise NotImplementedError

    def wrong(self):
        raise NotImplementedError

    def say(self, ctx, value):
        raise NotImplementedError

    def corrected_response(self, ctx):
        return self.truth()

    def correction(self, ctx, wrong_value):
        rng = self.rng
        v = self.truth()
        return L(ctx, rng,
                 zh=["不对,是%s" % v, "错了,应该是%s" % v, "错啦,是%s" % v, "你看错了,是%s" % v,
                     "不是%s,是%s" % (wrong_value, v), "不对不对,%s" % v, "明明是%s" % v],
                 en=["No, it's %s." % v, "you misread it, it's %s" % v, "nah it's %s" % v,
                     "wrong. it's %s" % v, "Incorrect, it says %s" % v,
                     "it's %s, not %s" % (v, wrong_value), "No no, %s" % v],
                 mix=["不对,it's %s" % v, "wrong,是%s" % v],
                 trad=["不對,是 %s" % v, "錯了,應該是%s" % v, "你看錯了,是%s" % v])

    def correction_novalue(self, ctx):
        return L(ctx, self.rng,
            zh=["错啦", "不对吧", "你看错了", "这个不对", "错了", "不对,再看看"],
            en=["wrong", "you misread it", "that's not right", "Nope, look again", "that's wrong"],
            mix=["wrong啦", "不对, look again"],
            trad=["不對", "錯了吧", "你看錯了"])

    def doubt(self, ctx, wrong_value):
        return L(ctx, self.rng,
                 zh=["确定是%s吗?" % wrong_value, "真的是%s?" % wrong_value, "你确定?我看着不像%s" % wrong_value],
                 en=["are you sure it's %s?" % wrong_value, "%s? really?" % wrong_value,
                     "Hmm, is it really %s?" % wrong_value],
                 mix=["确定是%s吗? are you sure" % wrong_value],
                 trad=["確定是%s嗎?" % wrong_value])

    def revise(self, ctx):
        v = self.truth()
        return A(ctx, self.rng,
                 zh=["啊对,是%s。抱歉看错了。" % v, "抱歉,重新看了一下,是 %s。" % v, "您说得对,应该是%s。" % v,
                     "不好意思,是%s。" % v],
                 en=["Sorry, you're right, it's %s." % v, "My mistake, it's %s." % v,
                     "You're right, I misread it. It's %s." % v, "Apologies, the correct value is %s." % v])

    def stubborn(self, ctx, wrong_value):
        return A(ctx, self.rng,
                 zh=["我再确认了一下,确实是%s。" % wrong_value, "图上看是%s。" % wrong_value],
                 en=["I double-checked, it is %s." % wrong_value, "It looks like %s to me." % wrong_value])

    def hallucinate(self, ctx, wrong_value):
        return self.say(ctx, wrong_value)

    def followups(self):
        return []


class ReceiptTask(Task):
    kind = "receipt"

    def question(self, ctx, paraphrase=False):
        return L(ctx, self.rng,
                 zh=["这个数字是多少?", "小票上的总金额是多少?", "总共多少钱?", "帮我看下这张小票合计多少",
                     "合计是多少啊", "这张单子一共多少钱?", "总价多少?"],
                 en=["What's the total on this receipt?", "How much is the total?",
                     "what does the receipt total say", "Can you read the total for me?", "total?",
                     "How much did I pay here?"],
                 mix=["这个receipt的total是多少?", "帮我看一下total", "receipt上面total多少钱"],
                 trad=["這個數字是多少?", "這張收據總共多少錢?", "合計是多少?"])

    def truth(self):
        return self.img["total"]

    def wrong(self):
        return misread_digits(self.img["total"], self.rng)

    def say(self, ctx, v):
        return A(ctx, self.rng,
                 zh=["总金额是%s。" % v, "合计 %s" % v, v, "小票上的总计是 %s 元。" % v, "一共%s。" % v],
                 en=["The total is %s." % v, v, "It says %s." % v, "The receipt total is $%s." % v,
                     "Total: %s" % v])

    def correction(self, ctx, wrong_value):
        v = self.truth()
        if ctx.lang == "en" and self.rng.random() < 0.35:
            return pick(self.rng, ["that's wrong, the total is $%s" % v, "No, the total is %s." % v,
                                   "The total's %s, you misread it" % v])
        return Task.correction(self, ctx, wrong_value)

    def hallucinate(self, ctx, w):
        st = self.img["store"].title()
        return A(ctx, self.rng,
                 zh=["这是一张来自%s的购物小票,看起来是在一家社区超市购买的日用品,包括牛奶、面包和鸡蛋等。"
                     "小票底部显示总金额为%s元,其中包含了约10%%的服务费以及会员折扣。支付方式可能是信用卡,"
                     "建议您妥善保管小票以便日后退换货。" % (st, w)],
                 en=["This appears to be a receipt from %s, probably a neighbourhood grocery store. It lists "
                     "several items such as milk, bread and eggs, and the total appears to be %s, which likely "
                     "includes a 10%% service charge and a loyalty discount applied at checkout. It was probably "
                     "paid by credit card. Keep it in case you need to return anything." % (st, w)])

    def followups(self):
        return ["date", "store", "second_line", "extraction", "tip", "cashier", "spicy"]


class MeterTask(Task):
    kind = "meter"

    def unit_zh(self):
        return "千瓦时" if self.img["unit"] == "KWH" else "立方米"

    def unit_en(self):
        return "kWh" if self.img["unit"] == "KWH" else "m³"

    def question(self, ctx, paraphrase=False):
        return L(ctx, self.rng,
                 zh=["读数是多少?", "电表读数是多少", "帮我读一下这个表", "表上显示多少?", "这个表现在走到多少了"],
                 en=["What's the meter reading?", "what number is on the meter", "Read the meter please",
                     "What does the meter show?"],
                 mix=["这个meter读数多少?", "meter上显示多少"],
                 trad=["這個錶的讀數是多少?", "讀數是多少?"])

    def truth(self):
        return self.img["reading"]

    def wrong(self):
        return misread_digits(self.img["reading"], self.rng)

    def say(self, ctx, v):
        return A(ctx, self.rng,
                 zh=["读数是 %s %s。" % (v, self.unit_zh()), v, "表上显示 %s。" % v],
                 en=["The meter reads %s %s." % (v, self.unit_en()), v, "It shows %s." % v])

    def hallucinate(self, ctx, w):
        return A(ctx, self.rng,
                 zh=["这是一个老式机械电表,型号可能是2010年前后生产的单相电能表。当前读数为%s,按照一般家庭每月"
                     "300度左右的用电量推算,这块表大约已经使用了十年以上,建议联系电力公司检查是否需要更换。" % w],
                 en=["This is an older mechanical utility meter, likely a single-phase model made around 2010. "
                     "The current reading is %s. Based on typical household usage of about 300 units a month, "
                     "the meter has probably been in service for over a decade, so you may want to ask your "
                     "utility provider whether it needs replacing." % w])

    def followups(self):
        return ["unit", "extraction", "usage"]


class ShapeTask(Task):
    kind = "shape"

    def __init__(self, img, rng):
        Task.__init__(self, img, rng)
        self.wrong_cs = None

    def question(self, ctx, paraphrase=False):
        return L(ctx, self.rng,
                 zh=["图里是什么颜色的形状?", "这是什么形状?什么颜色?", "这个图形是什么颜色的", "描述一下这个图形",
                     "图上画的是什么"],
                 en=["What shape is this and what colour?", "what color is the shape?",
                     "Describe the shape in the picture", "What's in this picture?", "which shape is this"],
                 mix=["这个shape是什么颜色?", "图里是什么shape"],
                 trad=["圖裡是什麼顏色的形狀?", "這是什麼形狀?"])

    def truth(self):
        return (self.img["color"], self.img["shape"])

    def wrong(self):
        c, s = self.truth()
        if self.rng.random() < 0.6:
            c = pick(self.rng, [k for k in COLORS if k != c])
        else:
            s = pick(self.rng, [k for k in SHAPE_ZH if k != s])
        return (c, s)

    def say(self, ctx, v):
        c, s = v
        return A(ctx, self.rng,
                 zh=["是一个%s的%s。" % (COLOR_ZH[c], SHAPE_ZH[s]), "%s%s" % (COLOR_ZH[c], SHAPE_ZH[s]),
                     "图中是%s的%s。" % (COLOR_ZH[c], SHAPE_ZH[s])],
                 en=["It's a %s %s." % (c, s), "A %s %s." % (c, s), "The picture shows a %s %s." % (c, s)])

    def corrected_response(self, ctx):
        c, s = self.truth()
        if ctx.lang == "en":
            return "A %s %s." % (c, s)
        return "%s的%s" % (COLOR_ZH[c], SHAPE_ZH[s])

    def correction(self, ctx, wv):
        c, s = self.truth()
        wc, ws = wv
        rng = self.rng
        czh = (COLOR_ZH_TRAD if ctx.trad else COLOR_ZH)[c]
        if wc != c:
            return L(ctx, rng,
                     zh=["错了,应该是%s的" % czh, "不对,是%s" % czh, "颜色不对,是%s" % czh, "明明是%s的" % czh],
                     en=["No, it's %s." % c, "wrong colour, it's %s" % c, "it's %s, not %s" % (c, wc),
                         "nah it's %s" % c, "That's %s lol" % c],
                     mix=["不对,it's %s" % c, "颜色错了,是%s" % czh],
                     trad=["不對,是%s的" % czh, "顏色不對,是%s" % czh])
        return L(ctx, rng,
                 zh=["不对,是%s" % SHAPE_ZH[s], "这明明是%s" % SHAPE_ZH[s], "形状错了,是%s" % SHAPE_ZH[s]],
                 en=["that's a %s, not a %s" % (s, ws), "No, it's a %s." % s, "nah it's a %s" % s],
                 mix=["不对,是%s (%s)" % (SHAPE_ZH[s], s)],
                 trad=["不對,是%s" % SHAPE_ZH[s]])

    def doubt(self, ctx, wv):
        wc, ws = wv
        return L(ctx, self.rng,
                 zh=["确定是%s吗?" % COLOR_ZH[wc], "真的是%s?" % SHAPE_ZH[ws]],
                 en=["are you sure it's %s?" % wc, "a %s? really?" % ws],
                 trad=["確定是%s嗎?" % COLOR_ZH_TRAD[wc]])

    def revise(self, ctx):
        c, s = self.truth()
        return A(ctx, self.rng,
                 zh=["抱歉,是%s的%s。" % (COLOR_ZH[c], SHAPE_ZH[s]), "您说得对,是%s的%s。" % (COLOR_ZH[c], SHAPE_ZH[s])],
                 en=["Sorry, you're right, it's a %s %s." % (c, s), "My mistake - it's a %s %s." % (c, s)])

    def stubborn(self, ctx, wv):
        return A(ctx, self.rng, zh=["我看到的是%s的%s。" % (COLOR_ZH[wv[0]], SHAPE_ZH[wv[1]])],
                 en=["It looks %s to me." % wv[0]])

    def hallucinate(self, ctx, wv):
        c, s = wv
        return A(ctx, self.rng,
                 zh=["图中是一个%s的%s,位于白色背景的中央,边缘带有轻微的阴影和渐变效果,看起来像是用于儿童认知教育"
                     "的卡片。这种设计通常还会在背面印有对应的英文单词和发音。" % (COLOR_ZH[c], SHAPE_ZH[s])],
                 en=["The image shows a %s %s centred on a white background with a subtle drop shadow and "
                     "gradient, most likely a flash card used in early-childhood education. Cards like this "
                     "usually have the word printed on the back together with its pronunciation." % (c, s)])

    def followups(self):
        return ["sides"]


class SignTask(Task):
    kind = "sign"

    def question(self, ctx, paraphrase=False):
        return L(ctx, self.rng,
                 zh=["这个牌子上写的什么?", "标志上写了什么字?", "这个路牌写的啥", "牌子上是什么字"],
                 en=["What does the sign say?", "can you read the sign", "what's written on this sign?",
                     "What does that sign read?"],
                 mix=["这个sign上写的什么?", "sign上面是什么字"],
                 trad=["牌子上寫什麼?", "這個標誌寫的是什麼?"])

    def truth(self):
        return self.img["text"]

    def wrong(self):
        return SIGN_MISREAD[self.img["text"]]

    def say(self, ctx, v):
        return A(ctx, self.rng,
                 zh=["牌子上写的是“%s”。" % v, "写的是 %s。" % v, v],
                 en=['The sign says "%s".' % v, "It says %s." % v, v])

    def correction(self, ctx, wv):
        v = self.truth()
        return L(ctx, self.rng,
                 zh=["不对,上面写的是%s" % v, "错了,是%s" % v, "是%s不是%s" % (v, wv)],
                 en=["No, it says %s." % v, "it's %s, not %s" % (v, wv), "you misread it, it says %s" % v,
                     "nah it's %s" % v],
                 mix=["不对,it says %s" % v],
                 trad=["不對,上面寫的是%s" % v])

    def hallucinate(self, ctx, w):
        return A(ctx, self.rng,
                 zh=["这是一块位于城市街道旁的标志牌,上面写着“%s”。根据背景中的建筑风格判断,这可能是在北美某个城市的"
                     "市中心,牌子底部还有一行小字注明了限制时间为早上7点到晚上7点。" % w],
                 en=['This is a street sign that reads "%s". Judging by the architecture in the background it '
                     "is probably in a North American city centre, and a smaller line at the bottom indicates "
                     "the restriction applies from 7am to 7pm on weekdays." % w])

    def followups(self):
        fs = ["meaning", "language"]
        if self.img["text"].startswith("SALE"):
            fs.append("on_sale")
        return fs


class StreetTask(Task):
    kind = "street"

    def question(self, ctx, paraphrase=False):
        return L(ctx, self.rng,
                 zh=["图里有几辆车?", "这张照片里有多少辆车?", "数一下有几辆车"],
                 en=["How many cars are in the picture?", "how many cars do you see?", "count the cars pls"],
                 mix=["图里有几辆car?"],
                 trad=["圖裡有幾輛車?"])

    def truth(self):
        return str(self.img["cars"])

    def wrong(self):
        n = self.img["cars"]
        return str(n + 1 if n < 2 or self.rng.random() < 0.5 else n - 1)

    def say(self, ctx, v):
        return A(ctx, self.rng,
                 zh=["图里有%s辆车。" % v, "%s辆" % v, "我数到%s辆车。" % v],
                 en=["There are %s cars." % v if v != "1" else "There is 1 car.", v, "I count %s." % v])

    def followups(self):
        return ["dog"]


TASK_CLASSES = {"receipt": ReceiptTask, "meter": MeterTask, "shape": ShapeTask,
                "sign": SignTask, "street": StreetTask}

# generic exchanges -----------------------------------------------------------

HARD_NEG_EN = ["not bad", "no worries, thanks", "nothing else", "I know, thanks", "No, that's all, thanks",
               "ok cool", "no problem", "not sure I need anything else", "nope, all good", "great, no more questions"]
HARD_NEG_ZH = ["没错", "没错,谢谢", "对的,谢谢", "不错", "没问题,谢谢", "不用了,谢谢", "没事了", "不是什么大事,谢谢",
               "对对对,就是这个", "没有别的问题了"]
HARD_NEG_TRAD = ["沒錯", "對,謝謝", "不用了,謝謝"]
CLOSE_EN = ["thanks!", "thank you", "great, thanks", "perfect", "ok thx", "cool"]
CLOSE_ZH = ["谢谢", "好的,谢谢", "好的", "谢啦", "明白了", "👍"]
CLOSE_TRAD = ["謝謝", "好的,謝謝"]
REPLY_EN = ["You're welcome!", "Glad I could help.", "Anytime!", "Happy to help - let me know if you need anything else."]
REPLY_ZH = ["不客气!", "不客气,还有其他问题随时问我。", "好的,有需要再找我。", "很高兴能帮到你。"]
TOPIC_CHANGE = [
    ("对了,今天天气怎么样?", "我无法获取实时天气信息,建议查看天气应用。"),
    ("换个问题,你能帮我写一句生日祝福吗?", "当然:祝你生日快乐,新的一岁万事顺意,天天开心!"),
    ("顺便问一下,附近有什么好吃的?", "我无法获取你的位置,不过可以告诉我你在哪个城市,我来推荐。"),
    ("btw can you recommend a good cafe nearby?", "I don't have access to your location, but if you tell me the "
                                                  "area I can suggest a few places."),
    ("unrelated, but what's 15% of 80?", "15% of 80 is 12."),
    ("Also, how do I say 'receipt' in Chinese?", "'Receipt' is 收据 (shōujù) or 小票 (xiǎopiào) in everyday speech."),
]
OFFTOPIC_SESSIONS = [
    ("zh", "讲个笑话吧", "好的:为什么数学书总是很忧伤?因为它有太多的问题。"),
    ("zh", "你能做什么?", "我可以看图回答问题,比如读小票金额、电表读数、识别路牌文字和图形颜色。"),
    ("zh", "帮我把“谢谢你的帮助”翻译成英文", "Thank you for your help."),
    ("en", "what can you do?", "I can answer questions about images: read receipt totals, meter readings, "
                               "sign text, colours and shapes, and more."),
    ("en", "translate 'thank you' to Chinese", "谢谢 (xièxie)."),
    ("en", "write me a haiku about coffee", "Steam curls from the cup / a dark and bitter sunrise / "
                                            "Monday starts again"),
    ("mix", "怎么上传图片?upload button在哪", "点击输入框左边的相机图标就可以上传图片。"),
]
UNHELPFUL_EN = ["I can't read that, the image is too blurry.", "Sorry, I can't make out the text in this image.",
                "I'm not able to read the numbers clearly."]
UNHELPFUL_ZH = ["图片不清楚,无法识别。", "抱歉,我看不清这张图。", "图片太模糊了,读不出来。"]


def paraphrase(q, rng, ctx):
    if rng.random() < 0.5:
        return q  # exact repeat
    if ctx.lang == "en":
        return pick(rng, ["%s" % q.rstrip("?") + "??", "please, " + q[0].lower() + q[1:], q + " try again",
                          "can you look again? " + q])
    return pick(rng, ["再看看," + q, q.rstrip("??") + "??", "麻烦再看一下:" + q, q + " 再试一次"])


# Hand-written sessions so the demo always contains the textbook cases.
# ("u", text, label, image, refers_to_request_number) / ("a", text, verdict, options)
# options: task_type, fb=[(kind, corrected_response)], err=(kind, detail), slow=True
SCRIPTED = [
    ("zh", False, [
        ("u", "这个数字是多少?", "question", "receipt-0002.png", None),
        ("a", "87.40", "wrong", {"fb": [("thumbs_down", None), ("correction", "78.40")]}),
        ("u", "不对,是78.40", "implicit_correction", None, 1),
        ("a", "啊对,是78.40。抱歉看错了。", "correct", {}),
        ("u", "好的,谢谢", "closing", None, None),
        ("a", "不客气!", "chitchat", {}),
    ]),
    ("zh", False, [
        ("u", "总价多少?", "question", "receipt-0002.png", None),
        ("a", "总金额是87.40。", "wrong", {}),
        ("u", "确定是87吗?", "doubt", None, 1),
        ("a", "啊对,是78.40。", "correct", {"fb": [("thumbs_up", None)]}),
    ]),
    ("en", False, [
        ("u", "What's the total on this receipt?", "question", "receipt-0001.png", None),
        ("a", "The total is $24.51.", "wrong", {}),
        ("u", "that's wrong, the total is $42.51", "implicit_correction", None, 1),
        ("a", "Sorry, you're right, it's 42.51.", "correct", {}),
        ("u", "no worries, thanks", "hard_negative", None, None),
        ("a", "You're welcome!", "chitchat", {}),
    ]),
    ("en", False, [
        ("u", "How much is the total?", "question", "receipt-0011.png", None),
        ("a", "17.10", "wrong", {"fb": [("correction", "71.10")]}),
        ("u", "No, it's 71.", "implicit_correction", None, 1),
        ("a", "Sorry, you're right, it's 71.10.", "correct", {}),
    ]),
    ("zh", False, [
        ("u", "图里是什么颜色的形状?", "question", "shape-0002.png", None),
        ("a", "是一个绿色的正方形。", "wrong", {}),
        ("u", "错了,应该是蓝色的", "implicit_correction", None, 1),
        ("a", "抱歉,是蓝色的正方形。", "correct", {}),
        ("u", "没错", "hard_negative", None, None),
        ("a", "很高兴能帮到你。", "chitchat", {}),
    ]),
    ("zh", False, [
        ("u", "总共多少钱?", "question", "receipt-0005.png", None),
        ("a", "总金额是126.90。", "correct", {"fb": [("thumbs_up", None)]}),
        ("u", "其实我更想知道日期", "hard_negative", None, None),
        ("a", "日期是{date_wrong}。", "wrong", {}),
        ("u", "年份错了", "implicit_correction", None, 2),
        ("a", "抱歉,日期是{date}。", "correct", {}),
    ]),
    ("en", False, [
        ("u", "What's the meter reading?", "question", "meter-0001.png", None),
        ("a", "The meter reads 04811 kWh.", "wrong", {}),
        ("u", "you misread it", "implicit_correction", None, 1),
        ("a", "My mistake, it's 04817.", "correct", {}),
        ("u", "I know, thanks", "hard_negative", None, None),
        ("a", "Glad I could help.", "chitchat", {}),
    ]),
    ("zh", False, [
        ("u", "读数是多少?", "question", "meter-0003.png", None),
        ("a", "图片不清楚,无法识别。", "unhelpful", {"fb": [("thumbs_down", None)]}),
        ("u", "读数是多少?", "repeat_question", None, 1),
        ("a", "读数是 00786 千瓦时。", "correct", {}),
    ]),
    ("zh", True, [
        ("u", "這張收據總共多少錢?", "question", "receipt-0004.png", None),
        ("a", "一共13.05。", "wrong", {}),
        ("u", "不對,是 31", "implicit_correction", None, 1),
        ("a", "抱歉,重新看了一下,是 31.05。", "correct", {}),
    ]),
    ("en", False, [
        ("u", "total?", "question", "receipt-0014.png", None),
        ("a", "6.45", "wrong", {}),
        ("u", "nah it's 5", "implicit_correction", None, 1),
        ("a", "You're right, I misread it. It's 5.45.", "correct", {}),
        ("u", "nothing else", "hard_negative", None, None),
        ("a", "Anytime!", "chitchat", {}),
    ]),
    ("en", False, [
        ("u", "What does the sign say?", "question", "sign-0003.png", None),
        ("a", "I can't read that, the image is too blurry.", "unhelpful", {}),
        ("u", "What does the sign say?", "repeat_question", None, 1),
        ("a", 'The sign says "SALE 50%".', "correct", {"fb": [("thumbs_up", None)]}),
        ("u", "Is it not on sale?", "hard_negative", None, None),
        ("a", "It is on sale - the sign says SALE 50%, so half price.", "correct", {}),
        ("u", "not bad", "hard_negative", None, None),
        ("a", "Happy to help - let me know if you need anything else.", "chitchat", {}),
    ]),
    ("en", False, [
        ("u", "Can you read the total for me?", "question", "receipt-0006.png", None),
        ("a", "The total is 9.99.", "correct", {}),
        ("u", "sorry, I meant the second line", "hard_negative", None, None),
        ("a", "The second line is {item2}.", "correct", {}),
        ("u", "the cashier got it wrong, not you", "hard_negative", None, None),
        ("a", "Sorry to hear that - you could ask the store to check the charge against this receipt.",
         "chitchat", {}),
    ]),
    ("zh", False, [
        ("u", "合计是多少啊", "question", "receipt-0003.png", None),
        ("a", "合计 17.80", "correct", {"fb": [("thumbs_up", None)]}),
        ("u", "不是很辣吧?", "hard_negative", None, None),
        ("a", "从小票上看不出辣度哦,NOODLE HOUSE 的菜可以问问店员。", "chitchat", {}),
    ]),
    ("zh", False, [
        ("u", "请以JSON格式返回金额", "question", "receipt-0001.png", None),
        ("a", "总金额是42.51元。", "format_error",
         {"task_type": "extraction", "err": ("format_error", "expected JSON, got prose"),
          "fb": [("correction", '{"total": 42.51}')]}),
        ("u", "我要的是JSON", "implicit_correction", None, 1),
        ("a", '{"total": 42.51}', "correct", {"task_type": "extraction"}),
    ]),
    ("en", False, [
        ("u", "What does the sign say?", "question", "sign-0001.png", None),
        ("a", 'This is a street sign that reads "SHOP". Judging by the architecture in the background it is '
              "probably in a North American city centre, and a smaller line at the bottom indicates the "
              "restriction applies from 7am to 7pm on weekdays.", "hallucination",
         {"slow": True, "fb": [("thumbs_down", None)]}),
        ("u", "wrong", "implicit_correction", None, 1),
        ("a", 'Sorry, you\'re right, it says "STOP".', "correct", {}),
    ]),
    ("zh", False, [
        ("u", "读数是多少?", "question", "meter-0004.png", None),
        ("a", "表上显示 53512。", "wrong", {}),
        ("u", "错啦", "implicit_correction", None, 1),
        ("a", "不好意思,是35512。", "correct", {}),
    ]),
    ("mix", False, [
        ("u", "这个receipt的total是多少?", "question", "receipt-0008.png", None),
        ("a", "总金额是55.75。", "correct", {}),
        ("u", "ok 没问题", "hard_negative", None, None),
        ("a", "不客气!", "chitchat", {}),
    ]),
    ("en", False, [
        ("u", "What's the total on this receipt?", "question", "receipt-0010.png", None),
        ("a", "The total is 14.38.", "wrong", {}),
        ("u", "which store is this from?", "followup", None, None),
        ("a", "It's from {store}.", "correct", {}),
        ("u", "btw the 14.38 you gave earlier was wrong, it's 14.36", "implicit_correction", None, 1),
        ("a", "Apologies, the correct value is 14.36.", "correct", {}),
    ]),
]

# ---------------------------------------------------------------------------
# Session simulation
# ---------------------------------------------------------------------------


def fmt_ts(sec):
    return (EPOCH + timedelta(seconds=int(sec))).strftime("%Y-%m-%dT%H:%M:%SZ")


def prompt_version_for(day, rng):
    if day <= 4:
        return "vqa-v1"
    if day <= 6:
        return "vqa-v2" if rng.random() < 0.3 else "vqa-v1"
    if day <= 13:
        return "vqa-v2"
    if day <= 20:
        return "vqa-v3" if rng.random() < (day - 13) / 8.0 else "vqa-v2"
    return "vqa-v2" if rng.random() < 0.08 else "vqa-v3"


ERR_RATE = {"vqa-v1": 0.36, "vqa-v2": 0.27, "vqa-v3": 0.18}


def response_ms(rng):
    if rng.random() < 0.04:
        return rng.randint(16000, 42000)
    return int(min(4000, max(400, rng.lognormvariate(7.2, 0.5))))


class World:
    def __init__(self, rng, images):
        self.rng = rng
        self.images = images
        self.chat_events = []  # (sort key, seq, event, file)
        self.rec_events = []
        self.err_events = []
        self.seq = 0
        self.fb_n = 0
        self.err_n = 0
        self.labels_turns = {}
        self.labels_answers = {}
        self.requests = set()
        self.slow_requests = []
        self.stats = {"sessions": 0, "user_turns": 0, "assistant_turns": 0, "no_end": 0,
                      "missing_refs": 0, "url_refs": 0}
        self.by_kind = {}
        for name, meta in images.items():
            self.by_kind.setdefault(meta["kind"], []).append(name)

    def emit(self, bucket, sec, ev):
        self.seq += 1
        bucket.append((sec, self.seq, ev))

    def feedback(self, bucket, sec, sid, rid, uid, kind, **extra):
        self.fb_n += 1
        ev = {"type": "feedback", "event_id": "f%d" % self.fb_n}
        if sid:
            ev["session_id"] = sid
        ev["request_id"] = rid
        ev["user_id"] = uid
        ev["kind"] = kind
        ev.update(extra)
        ev["ts"] = fmt_ts(sec)
        self.emit(bucket, sec, ev)

    def error(self, sec, rid, kind, detail, model=None):
        self.err_n += 1
        ev = {"type": "error_log", "event_id": "e%d" % self.err_n, "request_id": rid, "kind": kind,
              "detail": detail, "ts": fmt_ts(sec)}
        if model and self.rng.random() < 0.5:
            ev["model"] = model
        self.emit(self.err_events, sec, ev)


def run_session(W, n, start, user, lang, trad, special=None):
    rng = W.rng
    sid = "s%d" % n
    uid = user
    ctx = Ctx(lang, trad, rng.random() < 0.3)
    day = int(start // 86400)
    pv = prompt_version_for(day, rng)
    model = "vlm-canary" if rng.random() < 0.15 else "vlm-prod"
    err = ERR_RATE[pv] + (0.10 if model == "vlm-canary" else 0.0)
    client = pick(rng, ["ios-2.3", "ios-2.4", "android-5.1", "web"]) if rng.random() < 0.35 else None
    locale = None
    if rng.random() < 0.2:
        locale = "en-US" if lang == "en" else ("zh-TW" if trad else "zh-CN")
    bucket = W.chat_events
    t = start
    turn_index = 0
    req_n = 0
    W.stats["sessions"] += 1

    def user_turn(text, label, image=None, refers=None):
        nonlocal turn_index, req_n, t
        req_n += 1
        rid = "%s-r%d" % (sid, req_n)
        ev = {"type": "turn", "event_id": "%s-t%d" % (sid, turn_index), "session_id": sid, "user_id": uid,
              "turn_index": turn_index, "role": "user", "content": text, "request_id": rid, "ts": fmt_ts(t)}
        if image is not None:
            ev["image"] = image
        if client and turn_index == 0:
            ev["client"] = client
        if locale and turn_index == 0:
            ev["locale"] = locale
        lab = {"label": label}
        if refers:
            lab["refers_to"] = refers
        W.labels_turns[ev["event_id"]] = lab
        W.emit(bucket, t, ev)
        W.stats["user_turns"] += 1
        turn_index += 1
        return rid

    def assistant_turn(rid, text, verdict, task_type="vqa", ms=None):
        nonlocal turn_index, t
        if ms is None:
            ms = response_ms(rng)
        t_user = t
        t = t + max(1, int(round(ms / 1000.0)))
        ev = {"type": "turn", "event_id": "%s-t%d" % (sid, turn_index), "session_id": sid, "user_id": uid,
              "turn_index": turn_index, "role": "assistant", "content": text, "request_id": rid, "ts": fmt_ts(t),
              "response_ms": ms, "model": model,
              "prompt_version": "extract-v1" if task_type == "extraction" else pv}
        if task_type == "extraction" or pv == "vqa-v3":
            ev["task_type"] = task_type
        W.emit(bucket, t, ev)
        W.stats["assistant_turns"] += 1
        W.requests.add(rid)
        W.labels_answers[rid] = verdict
        turn_index += 1
        if ms > 15000:
            W.slow_requests.append((t_user, rid, ms, model))
        return ms

    fb_last = [0]

    def maybe_feedback(rid, verdict, corrected=None):
        r = rng.random()
        sec = t + rng.randint(2, 12)
        kind = None
        if verdict == "correct":
            if r < 0.21:
                kind = "thumbs_up"
            elif r < 0.22:
                kind = "thumbs_down"
        elif verdict in ("wrong", "hallucination", "format_error"):
            if r < 0.22:
                kind = "thumbs_down"
            elif r < 0.44 and corrected is not None:
                if rng.random() < 0.3:
                    W.feedback(bucket, sec, sid, rid, uid, "thumbs_down")
                    sec += rng.randint(3, 15)
                W.feedback(bucket, sec, sid, rid, uid, "correction", corrected_response=corrected)
                fb_last[0] = sec
                return
            elif r < 0.46:
                kind = "thumbs_up"
        elif verdict == "unhelpful":
            if r < 0.2:
                kind = "thumbs_down"
        elif verdict == "chitchat":
            if r < 0.04:
                kind = "thumbs_up"
        if kind:
            W.feedback(bucket, sec, sid, rid, uid, kind)
            fb_last[0] = sec

    def gap():
        nonlocal t
        t = max(t + rng.randint(5, 60), fb_last[0] + 1)

    def image_for(kind):
        name = pick(rng, W.by_kind[kind])
        ref = {"ref": IMG_REF + name}
        if rng.random() < 0.5:
            ref["sha256"] = W.images[name]["sha256"]
        return name, ref

    # --- special sessions --------------------------------------------------
    if special and special[0] == "script":
        steps = special[1][2]
        rids = []
        for step in steps:
            if step[0] == "u":
                _, text, label, img, refers = step
                image = None
                if img:
                    image = {"ref": IMG_REF + img}
                    if rng.random() < 0.5:
                        image["sha256"] = W.images[img]["sha256"]
                    cur_img = W.images[img]
                if len(rids):
                    gap()
                rid = user_turn(text, label, image=image, refers=rids[refers - 1] if refers else None)
                rids.append(rid)
            else:
                _, text, verdict, opts = step
                f = {}
                if cur_img["kind"] == "receipt":
                    f = {"date": cur_img["date"], "date_wrong": "2025" + cur_img["date"][4:],
                         "item2": " ".join(cur_img["items"][1]), "store": cur_img["store"]}
                text = text.format(**f) if "{" in text and not text.startswith("{") else text
                assistant_turn(rid, text, verdict, task_type=opts.get("task_type", "vqa"),
                               ms=rng.randint(18000, 30000) if opts.get("slow") else None)
                if "err" in opts:
                    W.error(t + 1, rid, opts["err"][0], opts["err"][1], model)
                sec = t
                for kind, corrected in opts.get("fb", []):
                    sec += rng.randint(2, 8)
                    if corrected is None:
                        W.feedback(bucket, sec, sid, rid, uid, kind)
                    else:
                        W.feedback(bucket, sec, sid, rid, uid, kind, corrected_response=corrected)
                    fb_last[0] = sec
        finish_session(W, sid, max(t, fb_last[0]), rng)
        return
    if special and special[0] == "offtopic":
        _, q, a = special[1]
        rid = user_turn(q, "question")
        assistant_turn(rid, a, "chitchat")
        maybe_feedback(rid, "chitchat")
        if rng.random() < 0.5:
            gap()
            rid = user_turn(pick(rng, CLOSE_EN if lang == "en" else CLOSE_ZH), "closing")
            assistant_turn(rid, A(ctx, rng, REPLY_ZH, REPLY_EN), "chitchat")
        finish_session(W, sid, max(t, fb_last[0]), rng)
        return
    if special and special[0] in ("missing", "url"):
        ref = special[1]
        if special[0] == "missing":
            W.stats["missing_refs"] += 1
            task = ReceiptTask(W.images[W.by_kind["receipt"][0]], rng)
            rid = user_turn(task.question(ctx), "question", image={"ref": ref})
            assistant_turn(rid, A(ctx, rng, ["抱歉,图片加载失败,请重新上传。"],
                                  ["Sorry, I couldn't load the image. Could you upload it again?"]), "unhelpful")
            W.error(t, rid, "exception", "ImageFetchError: %s not found" % ref, model)
            gap()
            rid = user_turn(L(ctx, rng, ["怎么又打不开了", "我刚传了啊"], ["I just uploaded it??", "it's right there"]),
                            "followup")
            assistant_turn(rid, A(ctx, rng, ["抱歉,图片仍然无法读取,请稍后再试。"],
                                  ["Sorry, the image still can't be read. Please try again later."]), "unhelpful")
            maybe_feedback(rid, "unhelpful")
        else:
            W.stats["url_refs"] += 1
            rid = user_turn(L(ctx, rng, ["这张图里写的什么?"], ["What does this say?"]), "question",
                            image={"ref": ref})
            assistant_turn(rid, A(ctx, rng, ["图片上写的是“SALE 30%”。"], ['It says "SALE 30%".']), "correct")
            maybe_feedback(rid, "correct")
        finish_session(W, sid, max(t, fb_last[0]), rng)
        return

    # --- normal image session ---------------------------------------------
    kind = special[1] if special and special[0] == "kind" else None
    if kind is None:
        kind = rng.choices(["receipt", "meter", "shape", "sign", "street"], [34, 16, 22, 20, 8])[0]
    name, ref = image_for(kind)
    task = TASK_CLASSES[kind](W.images[name], rng)
    n_ex = rng.choices([1, 2, 3, 4, 5], [26, 30, 22, 13, 9])[0]
    extraction_first = kind in ("receipt", "meter") and rng.random() < 0.12

    state = {"pending": None, "last": None, "delayed": None, "date_wrong": None, "question": None}

    def answer_main(rid, q_label_refers=None):
        """Answer the main question; returns verdict."""
        r = rng.random()
        if r < 0.06:
            assistant_turn(rid, A(ctx, rng, UNHELPFUL_ZH, UNHELPFUL_EN), "unhelpful")
            maybe_feedback(rid, "unhelpful")
            return "unhelpful", None
        if r < 0.06 + err:
            w = task.wrong()
            halluc = rng.random() < {"vqa-v1": 0.3, "vqa-v2": 0.2, "vqa-v3": 0.1}[pv]
            if halluc:
                assistant_turn(rid, task.hallucinate(ctx, w), "hallucination")
                maybe_feedback(rid, "hallucination", task.corrected_response(ctx))
                return "hallucination", w
            assistant_turn(rid, task.say(ctx, w), "wrong")
            maybe_feedback(rid, "wrong", task.corrected_response(ctx))
            return "wrong", w
        assistant_turn(rid, task.say(ctx, task.truth()), "correct")
        maybe_feedback(rid, "correct")
        return "correct", None

    def do_extraction(first):
        if kind == "receipt":
            q = L(ctx, rng, zh=["请以JSON格式返回金额", "用JSON输出总金额,字段名total", "把金额按JSON格式给我"],
                  en=["Return the total as JSON", 'give me the amount as JSON like {"total": ...}',
                      "Extract the total in JSON format"],
                  mix=["请用JSON返回total"])
            if first:
                q = L(ctx, rng, zh=["请以JSON格式返回这张小票的金额"], en=["Return the total of this receipt as JSON"])
            val = task.truth()
            good = json.dumps({"total": float(val)})
            bad_val = json.dumps({"total": float(misread_digits(val, rng))})
            prose = A(ctx, rng, zh=["这张小票的总金额是%s元。" % val, "总金额为%s。" % val],
                      en=["The total amount on the receipt is %s." % val, "Sure! The total is $%s." % val])
        else:
            q = L(ctx, rng, zh=["请用JSON返回读数", "读数用JSON格式给我,字段reading"],
                  en=["Return the reading as JSON", "Give me the reading in JSON"], mix=["reading用JSON返回"])
            if first:
                q = L(ctx, rng, zh=["请用JSON格式返回这个表的读数"], en=["Return this meter's reading as JSON"])
            val = task.truth()
            good = json.dumps({"reading": val})
            bad_val = json.dumps({"reading": misread_digits(val, rng)})
            prose = A(ctx, rng, zh=["读数是%s。" % val], en=["The meter reading is %s." % val])
        rid = user_turn(q, "question", image=ref if first else None)
        r = rng.random()
        if r < 0.35:
            assistant_turn(rid, prose, "format_error", task_type="extraction")
            W.error(t + rng.randint(0, 1), rid, "format_error",
                    pick(rng, ["expected JSON, got prose", "response is not valid JSON",
                               "JSONDecodeError: Expecting value: line 1 column 1 (char 0)"]), model)
            maybe_feedback(rid, "format_error", good)
            return rid, "format_error", good
        if r < 0.45:
            assistant_turn(rid, bad_val, "wrong", task_type="extraction")
            maybe_feedback(rid, "wrong", good)
            return rid, "wrong", good
        assistant_turn(rid, good, "correct", task_type="extraction")
        maybe_feedback(rid, "correct")
        return rid, "correct", good

    # first exchange
    if extraction_first:
        rid, verdict, good = do_extraction(True)
        state["last"] = (rid, verdict, ("json", good))
    else:
        q = task.question(ctx)
        state["question"] = q
        rid = user_turn(q, "question", image=ref)
        verdict, w = answer_main(rid)
        state["last"] = (rid, verdict, w)

    used_followups = set()
    for ex in range(1, n_ex):
        gap()
        last_rid, last_verdict, last_w = state["last"]
        if state["delayed"] is not None:
            # correction of an answer given one or two exchanges ago
            d_rid, d_w = state["delayed"]
            state["delayed"] = None
            v = task.truth() if kind != "shape" else None
            if kind == "shape":
                text = task.correction(ctx, d_w)
                text = L(ctx, rng, zh=["对了,刚才那个"], en=["btw earlier answer was wrong: "]) + text
            else:
                text = L(ctx, rng, zh=["对了,刚才的不对,应该是%s" % v, "回到刚才那个,不是%s,是%s" % (d_w, v)],
                         en=["btw the %s you gave earlier was wrong, it's %s" % (d_w, v),
                             "going back to the first one - it's %s, not %s" % (v, d_w)],
                         trad=["剛才那個不對,是%s" % v])
            rid = user_turn(text, "implicit_correction", refers=d_rid)
            assistant_turn(rid, task.revise(ctx), "correct")
            maybe_feedback(rid, "correct")
            state["last"] = (rid, "correct", None)
            continue
        if isinstance(last_w, tuple) and last_w and last_w[0] == "json" and last_verdict in ("format_error", "wrong"):
            good = last_w[1]
            if last_verdict == "format_error":
                text = L(ctx, rng, zh=["我要的是JSON", "格式不对,要JSON", "请只返回JSON"],
                         en=["I asked for JSON", "that's not JSON", "JSON only please"], mix=["我要JSON format"])
            else:
                text = L(ctx, rng, zh=["数字不对"], en=["the number is wrong"])
            rid = user_turn(text, "implicit_correction", refers=last_rid)
            assistant_turn(rid, good, "correct", task_type="extraction")
            maybe_feedback(rid, "correct")
            state["last"] = (rid, "correct", None)
            continue
        if last_verdict == "unhelpful" and state["question"]:
            rid = user_turn(paraphrase(state["question"], rng, ctx), "repeat_question", refers=last_rid)
            verdict, w = answer_main(rid)
            state["last"] = (rid, verdict, w)
            continue
        if last_verdict in ("wrong", "hallucination") and last_w is not None:
            r = rng.random()
            if r < 0.38:
                text, label = task.correction(ctx, last_w), "implicit_correction"
            elif r < 0.50:
                text, label = task.correction_novalue(ctx), "implicit_correction"
            elif r < 0.66:
                text, label = task.doubt(ctx, last_w), "doubt"
            elif r < 0.80 and [f for f in task.followups()
                               if f not in used_followups and f not in ("spicy", "extraction")]:
                # answer something else first; the correction comes one exchange later
                f = pick(rng, [f for f in task.followups()
                               if f not in used_followups and f not in ("spicy", "extraction")])
                used_followups.add(f)
                state["delayed"] = (last_rid, last_w)
                res = do_followup(W, f, task, ctx, rng, user_turn, assistant_turn, maybe_feedback,
                                  do_extraction, state)
                state["last"] = res
                continue
            else:
                text, label = None, None
            if text:
                rid = user_turn(text, label, refers=last_rid)
                if rng.random() < 0.85:
                    assistant_turn(rid, task.revise(ctx), "correct")
                    maybe_feedback(rid, "correct")
                    state["last"] = (rid, "correct", None)
                else:
                    assistant_turn(rid, task.stubborn(ctx, last_w), "wrong")
                    maybe_feedback(rid, "wrong", task.corrected_response(ctx))
                    state["last"] = (rid, "wrong", last_w)
                continue
        if state["date_wrong"]:
            d_rid, d_true = state["date_wrong"]
            state["date_wrong"] = None
            rid = user_turn(L(ctx, rng, zh=["年份错了", "年份不对吧", "不是2025年"], en=["wrong year", "the year is wrong"],
                              trad=["年份錯了"]), "implicit_correction", refers=d_rid)
            assistant_turn(rid, A(ctx, rng, ["抱歉,日期是%s。" % d_true], ["Sorry, the date is %s." % d_true]), "correct")
            state["last"] = (rid, "correct", None)
            continue
        # choose a follow-up
        r = rng.random()
        options = [f for f in task.followups() if f not in used_followups]
        if r < 0.30 and options:
            f = pick(rng, options)
            used_followups.add(f)
            res = do_followup(W, f, task, ctx, rng, user_turn, assistant_turn, maybe_feedback, do_extraction, state)
            if res:
                state["last"] = res
            continue
        if r < 0.50:
            text = L(ctx, rng, HARD_NEG_ZH, HARD_NEG_EN, mix=["ok 没问题", "不错 thanks"], trad=HARD_NEG_TRAD)
            rid = user_turn(text, "hard_negative")
            assistant_turn(rid, A(ctx, rng, REPLY_ZH, REPLY_EN), "chitchat")
            maybe_feedback(rid, "chitchat")
            state["last"] = (rid, "chitchat", None)
            if rng.random() < 0.7:
                break  # "nothing else" / "没事了" usually ends the chat
            continue
        if r < 0.60:
            zh_tc = [tc for tc in TOPIC_CHANGE if not tc[0][0].isascii()]
            en_tc = [tc for tc in TOPIC_CHANGE if tc[0][0].isascii()]
            q, a = pick(rng, en_tc if lang == "en" else zh_tc)
            rid = user_turn(q, "topic_change")
            assistant_turn(rid, a, "chitchat")
            maybe_feedback(rid, "chitchat")
            state["last"] = (rid, "chitchat", None)
            continue
        if r < 0.72:
            # a second image of the same kind
            name2, ref2 = image_for(kind)
            task = TASK_CLASSES[kind](W.images[name2], rng)
            q = L(ctx, rng, zh=["这张呢?", "那这张呢", "再看这个"], en=["And this one?", "what about this one?"],
                  trad=["這張呢?"])
            state["question"] = task.question(ctx)  # what a repeat after "can't read" would ask
            rid = user_turn(q, "question", image=ref2)
            verdict, w = answer_main(rid)
            state["last"] = (rid, verdict, w)
            continue
        rid = user_turn(L(ctx, rng, CLOSE_ZH, CLOSE_EN, trad=CLOSE_TRAD), "closing")
        assistant_turn(rid, A(ctx, rng, REPLY_ZH, REPLY_EN), "chitchat")
        maybe_feedback(rid, "chitchat")
        state["last"] = (rid, "chitchat", None)
        if rng.random() < 0.9:
            break
    finish_session(W, sid, max(t, fb_last[0]), rng)


def do_followup(W, f, task, ctx, rng, user_turn, assistant_turn, maybe_feedback, do_extraction, state):
    img = task.img
    if f == "extraction":
        rid, verdict, good = do_extraction(False)
        return (rid, verdict, ("json", good))
    if f == "date":
        q = L(ctx, rng, zh=["其实我更想知道日期", "日期是哪天?", "这是哪天买的"], en=["what's the date on it?",
                                                                     "Actually I'd rather know the date"],
              trad=["日期是哪天?"])
        label = "hard_negative" if q in ("其实我更想知道日期", "Actually I'd rather know the date") else "followup"
        rid = user_turn(q, label)
        d = img["date"]
        if rng.random() < 0.25:
            wd = "2025" + d[4:]
            assistant_turn(rid, A(ctx, rng, ["日期是%s。" % wd], ["The date is %s." % wd]), "wrong")
            state["date_wrong"] = (rid, d)
            return (rid, "wrong_date", None)
        assistant_turn(rid, A(ctx, rng, ["日期是%s。" % d, "%s" % d], ["The date is %s." % d, "It's dated %s." % d]),
                       "correct")
        maybe_feedback(rid, "correct")
        return (rid, "correct", None)
    if f == "store":
        rid = user_turn(L(ctx, rng, ["这是哪家店的?", "店名是什么"], ["which store is this from?", "what's the shop name"]),
                        "followup")
        assistant_turn(rid, A(ctx, rng, ["是%s的小票。" % img["store"]], ["It's from %s." % img["store"]]), "correct")
        maybe_feedback(rid, "correct")
        return (rid, "correct", None)
    if f == "second_line":
        rid = user_turn(L(ctx, rng, ["不好意思,我是想问第二行", "问错了,我想问第二行是什么"],
                          ["sorry, I meant the second line", "oops, I meant the second item"]), "hard_negative")
        nm, p = img["items"][1]
        assistant_turn(rid, A(ctx, rng, ["第二行是 %s %s。" % (nm, p)], ["The second line is %s %s." % (nm, p)]),
                       "correct")
        maybe_feedback(rid, "correct")
        return (rid, "correct", None)
    if f == "tip":
        v = float(img["total"])
        rid = user_turn(L(ctx, rng, ["加15%小费是多少?"], ["How much would a 15% tip be?"]), "followup")
        assistant_turn(rid, A(ctx, rng, ["15%%的小费约为%.2f。" % (v * 0.15)], ["A 15%% tip would be about %.2f." % (v * 0.15)]),
                       "correct")
        maybe_feedback(rid, "correct")
        return (rid, "correct", None)
    if f == "cashier":
        v = float(img["total"])
        charged = "%.2f" % (v + rng.choice([1, 2, 5, 10]))
        rid = user_turn(L(ctx, rng, ["收银员算错了,不是你的问题,他收了我%s" % charged],
                          ["the cashier got it wrong, not you - I was charged %s" % charged]), "hard_negative")
        assistant_turn(rid, A(ctx, rng, ["那差了%.2f,可以拿小票去找店家退差价。" % (float(charged) - v)],
                              ["That's %.2f more than the receipt total; you could ask the store for a refund "
                               "of the difference." % (float(charged) - v)]), "chitchat")
        return (rid, "chitchat", None)
    if f == "spicy":
        if ctx.lang == "en":
            return None
        rid = user_turn("这家店的菜不是很辣吧?", "hard_negative")
        assistant_turn(rid, "从小票上看不出辣度哦,可以看看菜单或者问问店员。", "chitchat")
        return (rid, "chitchat", None)
    if f == "unit":
        rid = user_turn(L(ctx, rng, ["单位是什么?"], ["what unit is that?", "is that kWh?"]), "followup")
        assistant_turn(rid, A(ctx, rng, ["单位是%s。" % task.unit_zh()], ["The unit is %s." % task.unit_en()]), "correct")
        maybe_feedback(rid, "correct")
        return (rid, "correct", None)
    if f == "usage":
        cur = int(img["reading"])
        prev = max(0, cur - rng.randint(80, 400))
        rid = user_turn(L(ctx, rng, ["上个月是%05d,用了多少?" % prev], ["last month it was %05d, how much did I use?" % prev]),
                        "followup")
        assistant_turn(rid, A(ctx, rng, ["用了%d。" % (cur - prev)], ["You used %d." % (cur - prev)]), "correct")
        maybe_feedback(rid, "correct")
        return (rid, "correct", None)
    if f == "sides":
        n = SHAPE_SIDES[img["shape"]]
        rid = user_turn(L(ctx, rng, ["它有几条边?"], ["how many sides does it have?"]), "followup")
        assistant_turn(rid, A(ctx, rng, ["有%d条边。" % n], ["It has %d sides." % n]), "correct")
        maybe_feedback(rid, "correct")
        return (rid, "correct", None)
    if f == "meaning":
        t = img["text"]
        rid = user_turn(L(ctx, rng, ["这是什么意思?", "这个牌子是什么意思"], ["what does that mean?"]), "followup")
        assistant_turn(rid, A(ctx, rng, ["“%s”是英文,是标志上的提示文字。" % t],
                              ['"%s" is a standard English sign text.' % t]), "correct")
        maybe_feedback(rid, "correct")
        return (rid, "correct", None)
    if f == "language":
        rid = user_turn(L(ctx, rng, ["这是什么语言?"], ["what language is that?"]), "followup")
        assistant_turn(rid, A(ctx, rng, ["是英文。"], ["It's English."]), "correct")
        return (rid, "correct", None)
    if f == "on_sale":
        rid = user_turn(L(ctx, rng, ["现在不打折吗?"], ["Is it not on sale?"]), "hard_negative")
        assistant_turn(rid, A(ctx, rng, ["在打折,牌子上写着SALE 50%,也就是五折。"],
                              ["It is on sale - the sign says SALE 50%, so half price."]), "correct")
        maybe_feedback(rid, "correct")
        return (rid, "correct", None)
    if f == "dog":
        has = "dog" in img["tags"]
        rid = user_turn(L(ctx, rng, ["有狗吗?"], ["is there a dog?"]), "followup")
        assistant_turn(rid, A(ctx, rng, ["有,有一只狗。" if has else "没有看到狗。"],
                              ["Yes, there's a dog." if has else "No, I don't see a dog."]), "correct")
        return (rid, "correct", None)
    return None


def finish_session(W, sid, t, rng):
    if rng.random() < 0.10:
        W.stats["no_end"] += 1
        return
    sec = t + rng.randint(10, 180)
    W.emit(W.chat_events, sec, {"type": "session_end", "event_id": "%s-end" % sid, "session_id": sid,
                                "ts": fmt_ts(sec)})


# ---------------------------------------------------------------------------
# Recognition
# ---------------------------------------------------------------------------

TAG_CONFUSE = {"car": "truck", "dog": "cat", "tree": "bush", "bicycle": "motorcycle", "person": "child",
               "building": "house", "traffic light": "street lamp", "sign": "billboard", "receipt": "book",
               "road": "sidewalk", "sky": "cloud", "text": "logo", "paper": "napkin"}


def run_recognitions(W, users):
    rng = W.rng
    streets = W.by_kind["street"]
    signs = W.by_kind["sign"]
    receipts = W.by_kind["receipt"]
    starts = sorted(rng.uniform(0, N_DAYS * 86400 - 3600) for _ in range(N_RECOGNITIONS))
    special = {17: "missing", 53: "url"}
    W.stats["rec_missing"] = 0
    n_fb = 0
    for i, start in enumerate(starts):
        n = i + 1
        rid = "rec%d" % n
        uid = pick(rng, users)
        day = int(start // 86400)
        pv = "tags-v1" if day < 14 else ("tags-v2" if day >= 17 or rng.random() < 0.5 else "tags-v1")
        kind = rng.choices(["street", "sign", "receipt"], [70, 20, 10])[0]
        sp = special.get(i)
        if sp == "missing":
            ref = {"ref": IMG_REF + "missing-0004.png"}
            truth = ["car", "road", "sky"]
            W.stats["missing_refs"] += 1
        elif sp == "url":
            ref = {"ref": "https://cdn.example.com/u/street-88.jpg"}
            truth = ["bicycle", "person", "road"]
            W.stats["url_refs"] += 1
        else:
            name = pick(rng, {"street": streets, "sign": signs, "receipt": receipts}[kind])
            ref = {"ref": IMG_REF + name}
            if rng.random() < 0.5:
                ref["sha256"] = W.images[name]["sha256"]
            meta = W.images[name]
            if kind == "street":
                truth = list(meta["tags"])
            elif kind == "sign":
                truth = ["sign", "text", "sky", "road"]
                if meta["text"] == "STOP":
                    truth.append("stop sign")
            else:
                truth = ["receipt", "paper", "text"]
        p_miss = 0.18 if pv == "tags-v1" else 0.08
        p_extra = 0.45 if pv == "tags-v1" else 0.2
        pred = []
        for tg in truth:
            if rng.random() < p_miss:
                continue
            pred.append({"tag": tg, "score": round(rng.uniform(0.62, 0.98), 2)})
        extras = []
        if rng.random() < p_extra:
            cand = [TAG_CONFUSE[tg] for tg in truth if tg in TAG_CONFUSE and TAG_CONFUSE[tg] not in truth]
            if cand:
                extras.append(pick(rng, cand))
            if rng.random() < 0.3 and pv == "tags-v1":
                extras.append(pick(rng, ["dog", "umbrella", "bench", "bird"]))
        for tg in extras:
            if tg not in truth and tg not in [p["tag"] for p in pred]:
                pred.append({"tag": tg, "score": round(rng.uniform(0.35, 0.75), 2)})
        pred.sort(key=lambda p: -p["score"])
        ev = {"type": "recognition", "event_id": rid, "request_id": rid, "user_id": uid, "ts": fmt_ts(start),
              "image": ref, "model": "ram-swin-l", "prompt_version": pv, "tags": pred}
        if rng.random() < 0.2:
            ev["latency_ms"] = rng.randint(180, 900)
        W.emit(W.rec_events, start, ev)
        if rng.random() < 0.68:
            n_fb += 1
            pred_tags = [p["tag"] for p in pred]
            wrong = [tg for tg in pred_tags if tg not in truth]
            missing = [tg for tg in truth if tg not in pred_tags and tg not in ("sky", "road")]
            # users do not always report everything they could
            if missing and rng.random() < 0.3:
                missing = missing[:1]
            sec = start + rng.randint(8, 90)
            W.feedback(W.rec_events, sec, None, rid, uid, "tags", is_correct=not wrong and not missing,
                       wrong_tags=wrong, missing_tags=missing)
    return n_fb


# ---------------------------------------------------------------------------
# Errors that are not tied to a conversational pattern
# ---------------------------------------------------------------------------

def run_errors(W):
    rng = W.rng
    for (t_user, rid, ms, model) in W.slow_requests:
        if rng.random() < 0.25:
            W.error(t_user + 15, rid, "timeout", "model call exceeded 15000 ms deadline (took %d ms)" % ms, model)
    reqs = sorted(W.requests, key=lambda r: (int(r.split("-")[0][1:]), int(r.split("-r")[1])))
    for rid in rng.sample(reqs, 7):
        W.error(request_time(W, rid) + rng.randint(1, 3), rid, "retry",
                pick(rng, ["retry 1/3 after HTTP 502 from model gateway", "retry 1/3 after connection reset",
                           "retry 2/3 after HTTP 503 (overloaded)"]))
    for rid in rng.sample(reqs, 3):
        W.error(request_time(W, rid) + rng.randint(1, 4), rid, "exception",
                pick(rng, ["RuntimeError: CUDA out of memory", "KeyError: 'choices'",
                           "ValueError: image has 4 channels, expected 3",
                           "TimeoutError: tokenizer pool exhausted"]))


def request_time(W, rid):
    return W._req_time[rid]


# ---------------------------------------------------------------------------
# Broken file
# ---------------------------------------------------------------------------

def write_broken():
    os.makedirs(BROKEN_DIR, exist_ok=True)
    good0 = {"type": "turn", "event_id": "bad-s1-t0", "session_id": "bad-s1", "user_id": "u3", "turn_index": 0,
             "role": "user", "content": "这个数字是多少?", "request_id": "bad-s1-r1", "ts": "2026-05-12T09:00:00Z",
             "image": {"ref": "../images/receipt-0003.png"}}
    good1 = {"type": "turn", "event_id": "bad-s1-t1", "session_id": "bad-s1", "user_id": "u3", "turn_index": 1,
             "role": "assistant", "content": "17.80", "request_id": "bad-s1-r1", "ts": "2026-05-12T09:00:02Z",
             "response_ms": 1320, "model": "vlm-prod", "prompt_version": "vqa-v2"}
    good2 = {"type": "feedback", "event_id": "bad-f1", "session_id": "bad-s1", "request_id": "bad-s1-r1",
             "user_id": "u3", "kind": "thumbs_up", "ts": "2026-05-12T09:00:09Z"}

    def j(o):
        return json.dumps(o, ensure_ascii=False).encode("utf-8")

    lines = [
        j(good0),
        b"this is not json at all",
        b'{"type":"turn","event_id":"bad-x1","session_id":"bad-s1","turn_index":2,"role":"us',
        b'[{"type":"turn","event_id":"bad-x2","ts":"2026-05-12T09:00:05Z"}]',
        b'"just a string"',
        b'{"type":"turn","event_id":"bad-x3","session_id":"bad-s1","turn_index":2,"role":"user","content":"'
        b'\xff\xfe\xfd bad bytes","request_id":"bad-s1-r2","ts":"2026-05-12T09:00:20Z"}',
        j(good1),
        j({"event_id": "bad-x4", "session_id": "bad-s1", "request_id": "bad-s1-r1", "kind": "thumbs_down",
           "ts": "2026-05-12T09:00:10Z"}),
        j({"type": "feedback", "session_id": "bad-s1", "request_id": "bad-s1-r1", "kind": "thumbs_down",
           "ts": "2026-05-12T09:00:11Z"}),
        j({"type": "session_end", "event_id": "bad-x5", "session_id": "bad-s1"}),
        b"",
        j({"type": "turn", "event_id": "bad-x6", "session_id": "bad-s2", "user_id": "u4", "turn_index": "zero",
           "role": "user", "content": "What does the sign say?", "request_id": "bad-s2-r1",
           "ts": "2026-05-12T10:00:00Z"}),
        j({"type": "turn", "event_id": "bad-x7", "session_id": "bad-s2", "user_id": "u4", "turn_index": 1,
           "role": "assistant", "content": "STOP", "request_id": "bad-s2-r1", "ts": 12345,
           "response_ms": 800, "model": "vlm-prod", "prompt_version": "vqa-v2"}),
        j({"type": "telemetry", "event_id": "bad-x8", "ts": "2026-05-12T10:00:05Z", "cpu": 0.93}),
        j(good2),
    ]
    with open(os.path.join(BROKEN_DIR, "bad-lines.jsonl"), "wb") as f:
        f.write(b"\n".join(lines) + b"\n")
    return len(lines)


def write_team():
    """One end user, u-burst, who thumbs-down 30 answers within a minute on May 27: flywheel flags them
    (nearly all thumbs-down, and a burst far above other users' rate) and holds their feedback. Not part of
    the demo's normal ingest; no randomness, so the main data set is unaffected."""
    os.makedirs(TEAM_DIR, exist_ok=True)
    out = []
    for i in range(30):
        sid = "burst-s%02d" % i
        rid = sid + "-r1"
        base = 1779876000 + 2 * i  # 2026-05-27T10:00:00Z, one exchange every 2 s

        def ts(k):
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(base + k))
        out.append({"type": "turn", "event_id": sid + "-t0", "session_id": sid, "user_id": "u-burst", "turn_index": 0,
                    "role": "user", "content": "这张收据的总金额是多少?", "request_id": rid, "ts": ts(0),
                    "image": {"ref": "../images/receipt-%04d.png" % (i % 5 + 1)}})
        out.append({"type": "turn", "event_id": sid + "-t1", "session_id": sid, "user_id": "u-burst", "turn_index": 1,
                    "role": "assistant", "content": "总金额是%d.00元。" % (40 + i), "request_id": rid, "ts": ts(1),
                    "response_ms": 1100, "model": "vlm-prod", "prompt_version": "vqa-v3"})
        out.append({"type": "feedback", "event_id": sid + "-f1", "session_id": sid, "request_id": rid,
                    "user_id": "u-burst", "kind": "thumbs_down", "ts": ts(1)})
        out.append({"type": "session_end", "event_id": sid + "-end", "session_id": sid, "ts": ts(1)})
    with open(os.path.join(TEAM_DIR, "feedback-burst.jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for ev in out:
            f.write(json.dumps(ev, ensure_ascii=False, separators=(", ", ": ")) + "\n")
    return len(out)


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

def write_jsonl(path, items):
    items = sorted(items, key=lambda x: (x[2]["ts"], x[1]))
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for _, _, ev in items:
            f.write(json.dumps(ev, ensure_ascii=False, separators=(", ", ": ")) + "\n")
    return len(items)


def main():
    rng = random.Random(SEED)
    os.makedirs(ROOT, exist_ok=True)
    for d in (IMG_DIR, EV_DIR, BROKEN_DIR, TEAM_DIR):
        if os.path.isdir(d):
            for fn in os.listdir(d):
                os.remove(os.path.join(d, fn))
    images = make_images(random.Random(SEED + 1))
    W = World(rng, images)

    users = ["u%d" % i for i in range(1, N_USERS + 1)]
    profile = {}
    for u in users:
        r = rng.random()
        lang = "zh" if r < 0.46 else ("en" if r < 0.92 else "mix")
        profile[u] = (lang, lang != "en" and rng.random() < 0.2)
    weights = [1.0 / (i + 1) ** 0.7 for i in range(N_USERS)]

    starts = []
    for _ in range(N_SESSIONS):
        day = rng.choices(range(N_DAYS), [1.0 + 0.6 * d / (N_DAYS - 1) for d in range(N_DAYS)])[0]
        starts.append(day * 86400 + rng.randint(0, 86400 - 3600))
    starts.sort()
    specials = {}
    slots = rng.sample(range(N_SESSIONS), 19 + len(SCRIPTED))
    for i, k in enumerate(slots[:3]):
        specials[k] = ("missing", IMG_REF + "missing-%04d.png" % (i + 1))
    specials[slots[3]] = ("url", "https://cdn.example.com/u/abc.jpg")
    specials[slots[4]] = ("url", "https://cdn.example.com/u/7f3e91c2.jpg")
    for i, k in enumerate(slots[19:19 + len(SCRIPTED)]):
        specials[k] = ("script", SCRIPTED[i])
    offs = list(OFFTOPIC_SESSIONS)
    for i, k in enumerate(slots[5:5 + 14]):
        specials[k] = ("offtopic", offs[i % len(offs)])

    for i, start in enumerate(starts):
        user = rng.choices(users, weights)[0]
        lang, trad = profile[user]
        if rng.random() < 0.12:
            lang = pick(rng, ["zh", "en", "mix"])
        sp = specials.get(i)
        if sp and sp[0] in ("offtopic", "script"):
            lang = sp[1][0]
        if sp and sp[0] == "script":
            trad = sp[1][1]
        run_session(W, i + 1, start, user, lang, trad, sp)

    # request -> user-turn time (for error timestamps)
    W._req_time = {}
    for sec, _, ev in W.chat_events:
        if ev["type"] == "turn" and ev["role"] == "user":
            W._req_time[ev["request_id"]] = sec
    run_errors(W)
    n_tag_fb = run_recognitions(W, users)

    # number feedback and error_log ids in time order (they are created out of order)
    fbs = sorted((x for x in W.chat_events + W.rec_events if x[2]["type"] == "feedback"),
                 key=lambda x: (x[2]["ts"], x[1]))
    for i, (_, _, ev) in enumerate(fbs):
        ev["event_id"] = "f%d" % (i + 1)
    for i, (_, _, ev) in enumerate(sorted(W.err_events, key=lambda x: (x[2]["ts"], x[1]))):
        ev["event_id"] = "e%d" % (i + 1)

    # split chat by week of the session start
    sess_start = {}
    for sec, _, ev in W.chat_events:
        if ev["type"] == "turn" and ev["turn_index"] == 0:
            sess_start[ev["session_id"]] = sec
    weeks = {}
    for item in W.chat_events:
        sid = item[2]["session_id"]
        wk = min(4, int(sess_start[sid] // (7 * 86400)) + 1)
        weeks.setdefault(wk, []).append(item)
    os.makedirs(EV_DIR, exist_ok=True)
    files = {}
    for wk in sorted(weeks):
        fn = "chat-2026-05-week%d.jsonl" % wk
        files[fn] = write_jsonl(os.path.join(EV_DIR, fn), weeks[wk])
    files["recognition.jsonl"] = write_jsonl(os.path.join(EV_DIR, "recognition.jsonl"), W.rec_events)
    files["errors.jsonl"] = write_jsonl(os.path.join(EV_DIR, "errors.jsonl"), W.err_events)
    n_broken = write_broken()
    write_team()

    # counts
    fb = {}
    for _, _, ev in W.chat_events + W.rec_events:
        if ev["type"] == "feedback":
            fb[ev["kind"]] = fb.get(ev["kind"], 0) + 1
    errs = {}
    for _, _, ev in W.err_events:
        errs[ev["kind"]] = errs.get(ev["kind"], 0) + 1
    lang_count = {"zh": 0, "en": 0}
    users_used = set()
    first_user = {}
    for _, _, ev in W.chat_events:
        if ev["type"] == "turn":
            users_used.add(ev["user_id"])
            if ev["role"] == "user" and ev["session_id"] not in first_user:
                first_user[ev["session_id"]] = ev["content"]
    for c in first_user.values():
        lang_count["zh" if any(ord(ch) > 0x2E80 for ch in c) else "en"] += 1
    labels = {}
    for v in W.labels_turns.values():
        labels[v["label"]] = labels.get(v["label"], 0) + 1
    verdicts = {}
    for v in W.labels_answers.values():
        verdicts[v] = verdicts.get(v, 0) + 1
    slow = sum(1 for _ in W.slow_requests)
    img_bytes = sum(m["bytes"] for m in images.values())
    kinds = {}
    for m in images.values():
        kinds[m["kind"]] = kinds.get(m["kind"], 0) + 1

    counts = {
        "sessions": W.stats["sessions"],
        "sessions_without_session_end": W.stats["no_end"],
        "sessions_by_first_message_language": lang_count,
        "distinct_users_in_chat": len(users_used),
        "turns": W.stats["user_turns"] + W.stats["assistant_turns"],
        "user_turns": W.stats["user_turns"],
        "assistant_turns": W.stats["assistant_turns"],
        "slow_assistant_turns_over_15s": slow,
        "feedback_by_kind": dict(sorted(fb.items())),
        "recognitions": N_RECOGNITIONS,
        "tag_feedback": n_tag_fb,
        "error_logs_by_kind": dict(sorted(errs.items())),
        "error_logs": sum(errs.values()),
        "images": len(images),
        "images_by_kind": kinds,
        "image_bytes": img_bytes,
        "missing_image_refs": W.stats["missing_refs"],
        "url_image_refs": W.stats["url_refs"],
        "user_turn_labels": dict(sorted(labels.items())),
        "assistant_answer_verdicts": dict(sorted(verdicts.items())),
        "events_per_file": files,
        "broken_lines": n_broken,
    }

    label_doc = {
        "_about": "Ground truth for the demo data (not events). images: what each PNG shows. answers: verdict of "
                  "each assistant answer by request_id (correct, wrong, hallucination, format_error, unhelpful, "
                  "chitchat). user_turns: label of each user turn by event_id (question, repeat_question, "
                  "implicit_correction, doubt, hard_negative, followup, topic_change, closing); refers_to is the "
                  "request_id the turn reacts to.",
        "images": {k: {kk: vv for kk, vv in v.items() if kk not in ("file", "bytes")}
                   for k, v in sorted(images.items())},
        "answers": W.labels_answers,
        "user_turns": W.labels_turns,
        "counts": counts,
    }
    with open(os.path.join(ROOT, "labels.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(label_doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    write_readme(counts)
    json.dump(counts, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def write_readme(c):
    fb = c["feedback_by_kind"]
    er = c["error_logs_by_kind"]
    ik = c["images_by_kind"]
    lab = c["user_turn_labels"]
    lines = [
        "# flywheel demo data",
        "",
        "A synthetic, deterministic data set for trying flywheel end to end: events from a multimodal",
        "(image + text) assistant over four weeks of May 2026, plus the images they refer to.",
        "Everything here is generated by `tools/gen_sample_data.py` (standard-library Python, fixed seed);",
        "do not edit the files by hand. To regenerate (byte-identical output):",
        "",
        "    python3 tools/gen_sample_data.py",
        "",
        "`python3 tools/check_sample_data.py` validates the result (JSON per line, required fields, unique",
        "event_ids, known request_ids, monotonic sessions, PNG signature/CRC/size, total size < 3 MB).",
        "",
        "## Layout",
        "",
        "- `events/chat-2026-05-week1.jsonl` .. `week4.jsonl`: chat sessions (`turn`, `feedback`,",
        "  `session_end`), split by the week the session started (week1 = May 1-7, ..., week4 = May 22-28).",
        "- `events/recognition.jsonl`: `recognition` results (image tags) and `feedback` of kind `tags`.",
        "- `events/errors.jsonl`: `error_log` events; every `request_id` is a real chat request.",
        "- `broken/bad-lines.jsonl`: good events mixed with bad lines (not JSON, truncated JSON, array, bare",
        "  string, invalid UTF-8, missing type / event_id / ts, wrong field types, unknown type `telemetry`,",
        "  an empty line). Good events there use `bad-` ids. Keep it out of a normal ingest.",
        "- `team/feedback-burst.jsonl`: end user `u-burst` thumbs-downs 30 answers within a minute (for the",
        "  trust and abuse rules: `flywheel ingest` it, `flywheel analyze`, then `flywheel users`).",
        "- `images/`: small RGB PNGs drawn with a 5x7 bitmap font: receipts, meters, shapes, signs, streets.",
        "- `labels.json`: ground truth (what each image shows, whether each answer was right, and a label per",
        "  user turn such as `implicit_correction`, `doubt`, `hard_negative`, `repeat_question`). It is not an",
        "  event file; use it to test an analyser.",
        "",
        "Each file is sorted by `ts`; one JSON object per line, UTF-8. Image refs are relative to the",
        "events/ folder (`../images/receipt-0001.png`); %d refs point to images that do not exist" % c["missing_image_refs"],
        "(`../images/missing-000N.png`) and %d are URLs (`https://cdn.example.com/...`)." % c["url_image_refs"],
        "Some events carry extra fields (`client`, `locale`, `latency_ms`, `model` on error logs).",
        "",
        "## Counts",
        "",
        "| what | count |",
        "| --- | --- |",
        "| sessions | %d (%d without `session_end`) |" % (c["sessions"], c["sessions_without_session_end"]),
        "| sessions by language of first message | %d Chinese, %d English |" % (
            c["sessions_by_first_message_language"]["zh"], c["sessions_by_first_message_language"]["en"]),
        "| distinct users in chat | %d |" % c["distinct_users_in_chat"],
        "| turns | %d (%d user, %d assistant) |" % (c["turns"], c["user_turns"], c["assistant_turns"]),
        "| assistant turns slower than 15 s | %d |" % c["slow_assistant_turns_over_15s"],
    ]
    for k in ("thumbs_up", "thumbs_down", "correction", "tags"):
        lines.append("| feedback `%s` | %d |" % (k, fb.get(k, 0)))
    lines += [
        "| recognitions | %d (%d with tag feedback) |" % (c["recognitions"], c["tag_feedback"]),
        "| error logs | %d (%s) |" % (c["error_logs"], ", ".join("%s %d" % kv for kv in er.items())),
        "| images | %d (%s) |" % (c["images"], ", ".join("%s %d" % kv for kv in sorted(ik.items()))),
        "| user turns labelled implicit correction / doubt | %d / %d |" % (
            lab.get("implicit_correction", 0), lab.get("doubt", 0)),
        "| user turns labelled hard negative (not a correction) | %d |" % lab.get("hard_negative", 0),
        "| repeated questions after an unhelpful answer | %d |" % lab.get("repeat_question", 0),
        "",
        "## What the data exercises",
        "",
        "- Prompt versions over time: `vqa-v1` (week 1), `vqa-v2` (weeks 2-3), `vqa-v3` (weeks 3-4, logs",
        "  `task_type`), `extract-v1` for `task_type: extraction`; recognition uses `tags-v1` then `tags-v2`.",
        "  Models `vlm-prod` and `vlm-canary` (the canary makes more mistakes; later prompt versions fewer).",
        "- Wrong answers: misread digits (78.40 -> 87.40), wrong colour or shape, wrong sign text, long",
        "  hallucinated answers, prose instead of JSON for extraction prompts (with a `format_error` log).",
        "- Explicit feedback (thumbs up/down, `correction` with `corrected_response`) and implicit",
        "  corrections in later user turns in Chinese (simplified and traditional) and English, sometimes",
        "  one exchange after the answer they correct; doubts (\"确定是87吗?\") followed by a revision.",
        "- Hard negatives that are not corrections (\"not bad\", \"没错\", \"其实我更想知道日期\",",
        "  \"sorry, I meant the second line\", \"the cashier got it wrong, not you\", \"Is it not on sale?\").",
        "- Repeated questions after \"I can't read that\" / \"图片不清楚\"; topic changes; slow answers.",
        "- About 10% of sessions have no `session_end` (idle-timeout completion).",
        "",
    ]
    with open(os.path.join(ROOT, "README.md"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
