"""Generate the app's built-in sample images (512×512 PNG) procedurally, with numpy + Pillow only.

    python assets/make_samples.py            # (re)write the PNGs next to this file
    python assets/make_samples.py --check    # exit 1 if a PNG differs from what this script draws

Each picture is chosen to show something as it dissolves into noise on a projector:

* colour_shapes: saturated flat shapes and hard edges (colour fades towards grey noise);
* ddpm_checker: a fine checkerboard under bold "DDPM" letters (fine detail drowns first,
  the big letters last);
* soft_portrait: a smooth, low-frequency face-like figure (survives long at low SNR);
* zone_plate: rings whose frequency rises towards the edge (shows the frequency at which the
  signal sinks below the noise).

No fonts or external files are used (letters are drawn from rectangles and ellipses), so the
output depends only on numpy and Pillow. The PNGs are dedicated to the public domain (CC0 1.0, see
assets/README.md); this script is part of the project's source, under the project's licence.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SIZE = 512
SS = 4  # supersampling factor for smooth (anti-aliased) edges
HERE = Path(__file__).resolve().parent


def _canvas(background: tuple[int, int, int]) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    im = Image.new("RGB", (SIZE * SS, SIZE * SS), background)
    return im, ImageDraw.Draw(im)


def _finish(im: Image.Image) -> np.ndarray:
    return np.asarray(im.resize((SIZE, SIZE), Image.Resampling.LANCZOS), dtype=np.uint8).copy()


def _box(*xy: float) -> list[float]:
    """Scale 512-pixel coordinates to the supersampled canvas."""
    return [v * SS for v in xy]


def colour_shapes() -> np.ndarray:
    """Sky gradient, a sun, mountains and a row of saturated tiles."""
    y = np.linspace(0.0, 1.0, SIZE * SS)[:, None, None]
    top, bottom = np.array([40, 90, 200]), np.array([250, 200, 120])
    sky = (top * (1 - y) + bottom * y) * np.ones((1, SIZE * SS, 1))
    im = Image.fromarray(np.rint(sky).astype(np.uint8))
    d = ImageDraw.Draw(im)
    d.ellipse(_box(330, 60, 450, 180), fill=(255, 220, 40))
    d.polygon(_box(-20, 380, 150, 170, 320, 380), fill=(70, 60, 110))
    d.polygon(_box(180, 380, 360, 200, 540, 380), fill=(110, 70, 140))
    d.polygon(_box(120, 215, 150, 170, 180, 215), fill=(245, 245, 255))
    d.rectangle(_box(0, 380, 512, 512), fill=(40, 140, 70))
    colours = [(230, 40, 40), (250, 150, 20), (240, 230, 30), (40, 180, 90), (30, 120, 230)]
    for i, c in enumerate(colours):
        x0 = 26 + i * 96
        d.rounded_rectangle(_box(x0, 410, x0 + 76, 486), radius=12 * SS, fill=c)
    return _finish(im)


def _letter_d(d: ImageDraw.ImageDraw, x: float, y: float, h: float, w: float, ink, paper) -> None:
    t = h * 0.2  # stroke
    d.rectangle(_box(x, y, x + w * 0.45, y + h), fill=ink)
    d.ellipse(_box(x, y, x + w, y + h), fill=ink)
    d.ellipse(_box(x + t, y + t, x + w - t, y + h - t), fill=paper)
    d.rectangle(_box(x + t, y + t, x + w * 0.45, y + h - t), fill=paper)


def _letter_p(d: ImageDraw.ImageDraw, x: float, y: float, h: float, w: float, ink, paper) -> None:
    t = h * 0.2
    bowl = h * 0.6
    d.rectangle(_box(x, y, x + t, y + h), fill=ink)
    d.rectangle(_box(x, y, x + w * 0.45, y + bowl), fill=ink)
    d.ellipse(_box(x, y, x + w, y + bowl), fill=ink)
    d.ellipse(_box(x + t, y + t, x + w - t, y + bowl - t), fill=paper)
    d.rectangle(_box(x + t, y + t, x + w * 0.45, y + bowl - t), fill=paper)


def _letter_m(d: ImageDraw.ImageDraw, x: float, y: float, h: float, w: float, ink) -> None:
    t = h * 0.2
    d.rectangle(_box(x, y, x + t, y + h), fill=ink)
    d.rectangle(_box(x + w - t, y, x + w, y + h), fill=ink)
    mid = x + w / 2
    d.polygon(_box(x, y, x + t * 1.1, y, mid + t / 2, y + h * 0.62, mid - t / 2, y + h * 0.62), ink)
    d.polygon(
        _box(x + w, y, x + w - t * 1.1, y, mid - t / 2, y + h * 0.62, mid + t / 2, y + h * 0.62),
        ink,
    )


def ddpm_checker() -> np.ndarray:
    """An 8-pixel checkerboard behind a white panel with bold black letters "DDPM"."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    board = ((yy // 8 + xx // 8) % 2).astype(bool)
    rgb = np.where(board[..., None], np.array([30, 30, 30]), np.array([235, 235, 235]))
    # A coarse 64-pixel colour tint underneath, so colour is visible too.
    tint = np.stack([(xx // 64) * 18, (yy // 64) * 18, 140 - (xx // 64) * 10], axis=-1)
    rgb = np.clip(rgb + tint - 60, 0, 255).astype(np.uint8)
    im = Image.fromarray(rgb).resize((SIZE * SS, SIZE * SS), Image.Resampling.NEAREST)
    d = ImageDraw.Draw(im)
    paper, ink = (250, 250, 245), (15, 15, 20)
    d.rounded_rectangle(_box(36, 176, 476, 336), radius=20 * SS, fill=paper)
    h, w, top = 110.0, 90.0, 201.0
    _letter_d(d, 56, top, h, w, ink, paper)
    _letter_d(d, 161, top, h, w, ink, paper)
    _letter_p(d, 266, top, h, w * 0.85, ink, paper)
    _letter_m(d, 356, top, h, w + 10, ink)
    return _finish(im)


def soft_portrait() -> np.ndarray:
    """A smooth, blurred, face-like figure on a radial gradient (mostly low frequencies)."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / (SIZE - 1)
    r = np.hypot(xx - 0.5, yy - 0.45)
    bg = np.stack([180 - 120 * r, 150 - 60 * r, 200 - 40 * r], axis=-1)
    im = Image.fromarray(np.clip(np.rint(bg), 0, 255).astype(np.uint8)).resize(
        (SIZE * SS, SIZE * SS), Image.Resampling.BICUBIC
    )
    d = ImageDraw.Draw(im)
    d.ellipse(_box(96, 380, 416, 640), fill=(60, 80, 150))  # shoulders
    d.rectangle(_box(216, 330, 296, 420), fill=(225, 180, 150))  # neck
    d.ellipse(_box(146, 90, 366, 360), fill=(240, 195, 165))  # face
    d.chord(_box(136, 70, 376, 260), 180, 360, fill=(90, 55, 35))  # hair
    for cx in (215, 297):
        d.ellipse(_box(cx - 22, 205, cx + 22, 235), fill=(255, 255, 255))
        d.ellipse(_box(cx - 11, 209, cx + 11, 231), fill=(60, 90, 60))
    d.arc(_box(206, 250, 306, 320), 20, 160, fill=(170, 60, 70), width=7 * SS)
    d.ellipse(_box(170, 260, 205, 285), fill=(245, 160, 150))
    d.ellipse(_box(307, 260, 342, 285), fill=(245, 160, 150))
    small = im.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    # A gentle blur keeps it smooth: the opposite of ddpm_checker.
    return np.asarray(small.filter(ImageFilter.GaussianBlur(2.0)), dtype=np.uint8).copy()


def zone_plate() -> np.ndarray:
    """Concentric rings cos(k·r²) whose frequency rises from the centre to the corners, coloured
    by angle."""
    c = (SIZE - 1) / 2
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] - c
    r2 = (xx**2 + yy**2) / c**2
    # Local frequency = k·r/π cycles per unit; at r = 1 about a quarter of Nyquist (no aliasing).
    k = np.pi * SIZE / 8
    rings = 0.5 + 0.5 * np.cos(k * r2 / 2)
    angle = np.arctan2(yy, xx)
    hue = np.stack([np.cos(angle), np.cos(angle - 2.1), np.cos(angle + 2.1)], axis=-1)
    rgb = 255 * rings[..., None] * (0.6 + 0.4 * hue)
    # 32 grey levels per channel keep the PNG small without visible banding on a projector.
    rgb = np.rint(np.clip(rgb, 0, 255) / 8) * 8
    return np.clip(rgb, 0, 255).astype(np.uint8)


SAMPLES: dict[str, Callable[[], np.ndarray]] = {
    "colour_shapes": colour_shapes,
    "ddpm_checker": ddpm_checker,
    "soft_portrait": soft_portrait,
    "zone_plate": zone_plate,
}


def write_all(out_dir: Path = HERE) -> dict[str, Path]:
    """Draw every sample and save it as ``out_dir / <name>.png``; returns the paths."""
    paths = {}
    for name, draw in SAMPLES.items():
        path = out_dir / f"{name}.png"
        Image.fromarray(draw()).save(path, format="PNG", optimize=True)
        paths[name] = path
    return paths


def check(out_dir: Path = HERE) -> list[str]:
    """Names whose PNG is missing or whose pixels differ from what the functions draw now."""
    bad = []
    for name, draw in SAMPLES.items():
        path = out_dir / f"{name}.png"
        if not path.is_file():
            bad.append(name)
            continue
        with Image.open(path) as im:
            if not np.array_equal(np.asarray(im.convert("RGB")), draw()):
                bad.append(name)
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: here)")
    args = parser.parse_args(argv)
    if args.check:
        bad = check(args.out)
        for name in bad:
            print(f"{name}.png differs from make_samples.py (run it to regenerate)")
        return 1 if bad else 0
    for path in write_all(args.out).values():
        print(f"{path.name}: {path.stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
