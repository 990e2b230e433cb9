#!/usr/bin/env python3
"""Deterministic generator of EffNet.MLNet's sample data (Debian: python3-pil).

    /usr/bin/python3 sample-data/generate.py [OUT_DIR]     (default: the folder of this script)

Three classes, one folder each, 30 images per class: discs in warm colours, stripes in cool
colours, and checkerboards in greens. Sizes range from 64x64 to 1600x1200; JPEG and PNG; some
grayscale, some with an alpha channel. Position, size, angle, hue and background vary, so a
classifier has to recognise the shape/texture and palette, not one fixed picture.
"""
import colorsys
import math
import os
import random
import sys

from PIL import Image, ImageDraw, ImageFilter

SIZES = [(64, 64), (96, 128), (160, 120), (200, 150), (256, 256), (320, 240), (400, 300), (640, 480), (800, 600)]
LARGE = (1600, 1200)
PER_CLASS = 30


def colour(rng, hue_lo, hue_hi, sat=(0.55, 1.0), val=(0.55, 1.0)):
    h = rng.uniform(hue_lo, hue_hi) % 1.0
    r, g, b = colorsys.hsv_to_rgb(h, rng.uniform(*sat), rng.uniform(*val))
    return int(r * 255), int(g * 255), int(b * 255)


def background(rng, size):
    grey = rng.randint(20, 90)
    return Image.new("RGB", size, (grey + rng.randint(-10, 10), grey + rng.randint(-10, 10), grey + rng.randint(-10, 10)))


def discs(rng, size):
    img = background(rng, size)
    d = ImageDraw.Draw(img)
    w, h = size
    for _ in range(rng.randint(1, 3)):
        r = rng.uniform(0.18, 0.35) * min(w, h)
        cx, cy = rng.uniform(r, w - r), rng.uniform(r, h - r)
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour(rng, -0.05, 0.15))
    return img


def stripes(rng, size):
    img = background(rng, size)
    w, h = size
    period = rng.uniform(0.08, 0.2) * min(w, h)
    angle = rng.uniform(0, math.pi)
    c1, c2 = colour(rng, 0.5, 0.68), colour(rng, 0.5, 0.68, val=(0.2, 0.5))
    big = Image.new("RGB", (2 * max(w, h), 2 * max(w, h)), c2)
    d = ImageDraw.Draw(big)
    for x in range(0, big.width, max(2, int(period))):
        d.rectangle([x, 0, x + period / 2, big.height], fill=c1)
    big = big.rotate(math.degrees(angle), resample=Image.BILINEAR)
    left, top = (big.width - w) // 2, (big.height - h) // 2
    img.paste(big.crop((left, top, left + w, top + h)))
    return img


def checkers(rng, size):
    w, h = size
    cell = max(4, int(rng.uniform(0.08, 0.2) * min(w, h)))
    c1, c2 = colour(rng, 0.22, 0.4), colour(rng, 0.22, 0.4, val=(0.15, 0.45))
    img = Image.new("RGB", size, c2)
    d = ImageDraw.Draw(img)
    ox, oy = rng.randint(0, cell), rng.randint(0, cell)
    for y in range(-oy, h, cell):
        for x in range(-ox, w, cell):
            if ((x + ox) // cell + (y + oy) // cell) % 2 == 0:
                d.rectangle([x, y, x + cell - 1, y + cell - 1], fill=c1)
    return img


CLASSES = {"discs": discs, "stripes": stripes, "checkers": checkers}


def main(out):
    rng = random.Random(20261125)
    for name, draw in CLASSES.items():
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        for f in os.listdir(folder):
            os.remove(os.path.join(folder, f))
        for i in range(PER_CLASS):
            size = LARGE if i == 0 else SIZES[(i * 7 + len(name)) % len(SIZES)]
            img = draw(rng, size).filter(ImageFilter.GaussianBlur(radius=rng.uniform(0, 1.2)))
            kind = i % 10
            if kind == 3:  # grayscale
                img = img.convert("L")
            if kind in (4, 8):  # alpha channel, mostly opaque with a soft transparent corner
                alpha = Image.new("L", img.size, 255)
                ImageDraw.Draw(alpha).rectangle([0, 0, img.width // 4, img.height // 4], fill=96)
                img = img.convert("RGBA")
                img.putalpha(alpha)
            png = kind in (1, 4, 6, 8)
            path = os.path.join(folder, f"{name}-{i:02d}.{'png' if png else 'jpg'}")
            if png:
                img.save(path, optimize=True)
            else:
                img.save(path, quality=85)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
