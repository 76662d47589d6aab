"""Time the image page's downloads: the frame PNG, the strip PNG and the whole process as GIF and
WebP, built as the page builds them when a button is pressed.

    python bench/bench_downloads.py                      # the sample picture at 256 px
    python bench/bench_downloads.py --size 512 --path chain --repeats 5

It also times the GIF the way Pillow makes it of RGB frames by itself (a median-cut palette per
frame, what the page did before it chose each frame's palette by octree), on the same frames, so
the two figures come from one run. Medians of ``--repeats`` runs, wall clock.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
logging.getLogger("streamlit").setLevel(logging.ERROR)

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from core import ForwardDiffusion, scrub  # noqa: E402
from core.images import encode_animation, encode_png, load_image  # noqa: E402
from pages.views import image_noising as page  # noqa: E402


def median_s(build: Callable[[], bytes], repeats: int) -> tuple[float, int]:
    """Median seconds of ``build`` and the size of what it made."""
    times, size = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        size = len(build())
        times.append(time.perf_counter() - start)
    return statistics.median(times), size


def pillow_gif(frames: np.ndarray, duration_ms: int) -> bytes:
    """RGB frames saved as they are: Pillow picks each palette itself (median cut)."""
    images = [Image.fromarray(frame) for frame in frames]
    buffer = io.BytesIO()
    images[0].save(
        buffer, format="GIF", save_all=True, append_images=images[1:], loop=0,
        duration=duration_ms, optimize=False, disposal=1,
    )  # fmt: skip
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=256, help="long side of the picture, px")
    parser.add_argument("--T", type=int, default=1000, help="timesteps")
    parser.add_argument("--path", default="closed", choices=("closed", "chain"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    data = (ROOT / "assets" / "colour_shapes.png").read_bytes()
    x0 = load_image(data, max_side=args.size)
    eps = scrub.make_noise(x0.shape, seed=0)
    fd = ForwardDiffusion(args.T, "linear", device="cpu")
    t = args.T // 4
    strip_steps = scrub.evenly_spaced(args.T, scrub.STRIP_COUNT)
    frame_steps = scrub.evenly_spaced(args.T, scrub.ANIMATION_FRAMES)
    frames = np.concatenate([x0[None], page.noised(fd, x0, eps, frame_steps, args.path, 0)])
    labels = ["x₀", *(f"t = {step}" for step in strip_steps)]

    rows = {
        "frame PNG": lambda: encode_png(page.noised(fd, x0, eps, [t], args.path, 0)[-1]),
        "strip PNG": lambda: page.strip_png(
            [x0, *page.noised(fd, x0, eps, strip_steps, args.path, 0)], labels
        ),
        f"GIF, {len(frames)} frames (octree palettes)": lambda: encode_animation(
            frames, format="GIF", duration_ms=60
        ),
        f"GIF, {len(frames)} frames (Pillow's median cut)": lambda: pillow_gif(frames, 60),
        f"WebP, {len(frames)} frames": lambda: encode_animation(
            frames, format="WEBP", duration_ms=60
        ),
    }
    print(f"picture {x0.shape[1]}x{x0.shape[0]}, T = {args.T}, path {args.path}, "
          f"{args.repeats} runs, {os.cpu_count()} CPUs")  # fmt: skip
    print(f"{'download':48} {'median s':>9} {'bytes':>11}")
    for name, build in rows.items():
        seconds, size = median_s(build, args.repeats)
        print(f"{name:48} {seconds:9.3f} {size:11,}")


if __name__ == "__main__":
    main()
