"""A corpus of odd and hostile upload files, generated in memory (no binaries in the repository).

Each :class:`Sample` names a file as a browser would upload it (``filename`` + bytes) and says what
:func:`core.images.load_image` must do with it: return an image of a given shape, or raise
``ImageError`` with a given ``code``. App-level tests reuse it to push the same files through the
upload widget.

    from tests.hostile import corpus
    for name, sample in corpus().items():
        sample.filename, sample.data, sample.expect

Bombs are real files of tiny size whose headers declare huge dimensions; where a decodable payload
would itself be huge, the header is patched (say so in ``note``). The "oversized" sample (over
``MAX_BYTES``) is built only when its ``data`` is first read.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

import numpy as np
from PIL import Image

from core.images import MAX_BYTES

Expect = Literal["ok", "error"]


@dataclass(eq=False)
class Sample:
    """One upload: its name, how to make its bytes, and the expected outcome.

    Attributes:
        filename: the name the browser would send.
        make: builds the bytes (called once, on first access of ``data``).
        expect: "ok" or "error".
        code: for errors, the ``ImageError.code`` expected; for "ok", None.
        shape: for "ok" with the default ``max_side=512``, the expected array shape.
        note: what the file is and why it is here.
    """

    filename: str
    make: Callable[[], bytes]
    expect: Expect
    code: str | None = None
    shape: tuple[int, int, int] | None = None
    note: str = ""
    _data: bytes | None = field(default=None, repr=False)

    @property
    def data(self) -> bytes:
        if self._data is None:
            self._data = self.make()
        return self._data


# ---------------------------------------------------------------------------------------------
# Building blocks


def _save(im: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def raw_png(
    width: int,
    height: int,
    *,
    bit_depth: int = 8,
    colour_type: int = 2,
    rows: Callable[[int], bytes] | None = None,
    idat: bytes | None = None,
) -> bytes:
    """A PNG written chunk by chunk, for what Pillow won't write (16-bit RGB, huge IHDR).

    ``rows(y)`` returns row y's raw samples (without the filter byte); if neither ``rows`` nor
    ``idat`` is given, every row is zeros. The IDAT is streamed through zlib, so a large image
    of zeros costs little memory and a few hundred bytes per megapixel.
    """
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour_type]
    row_bytes = (width * channels * bit_depth + 7) // 8
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    if idat is None:
        comp = zlib.compressobj(9)
        parts = []
        zero_row = b"\x00" * (row_bytes + 1)
        for y in range(height):
            parts.append(comp.compress(zero_row if rows is None else b"\x00" + rows(y)))
        parts.append(comp.flush())
        idat = b"".join(parts)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _gif(screen: tuple[int, int], frame: tuple[int, int]) -> bytes:
    """A one-frame GIF89a with its own logical screen size and frame size (2-colour palette).

    The frame's LZW data is a clear code and an end code, i.e. no pixels: decoders fill the rest.
    """
    sw, sh = screen
    fw, fh = frame
    header = b"GIF89a" + struct.pack("<HHBBB", sw, sh, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    descriptor = b"," + struct.pack("<HHHHB", 0, 0, fw, fh, 0)
    # LZW minimum code size 2: clear = 4, end = 5, 3-bit codes: 100 101 -> 0b101100 = 0x2C.
    lzw = b"\x02" + b"\x01\x2c" + b"\x00"
    return header + descriptor + lzw + b";"


def _scene(width: int = 96, height: int = 64, seed: int = 0) -> np.ndarray:
    """A small deterministic colourful RGB image (gradients plus noise) as uint8."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    img = np.stack(
        [x * 255 // max(1, width - 1), y * 255 // max(1, height - 1), (x + y) % 256], axis=-1
    )
    img = img + rng.integers(-8, 9, size=img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _webp_patch_canvas(data: bytes, width: int, height: int) -> bytes:
    """Set the canvas size of an extended (VP8X) WebP; the frames inside stay as they are."""
    if data[12:16] != b"VP8X":
        raise ValueError("not an extended WebP file")
    dims = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return data[:24] + dims + data[30:]


def _webp_canvas_bomb(width: int, height: int) -> bytes:
    """A valid animated WebP with a width × height canvas and two 1×1 frames, ~100 bytes."""
    frames = [Image.new("RGB", (1, 1), c) for c in ((255, 0, 0), (0, 0, 255))]
    data = _save(
        frames[0], "WEBP", save_all=True, append_images=frames[1:], lossless=True, duration=100
    )
    return _webp_patch_canvas(data, width, height)


def _webp_vp8_patch_size(data: bytes, width: int, height: int) -> bytes:
    """Rewrite the frame size in a simple lossy ("VP8 ") WebP's key-frame header."""
    if data[12:16] != b"VP8 " or data[23:26] != b"\x9d\x01\x2a":
        raise ValueError("not a simple lossy WebP file")
    return data[:26] + struct.pack("<HH", width, height) + data[30:]


def _jpeg_patch_size(data: bytes, width: int, height: int) -> bytes:
    """Rewrite the dimensions in a JPEG's SOF marker (the header a decoder sizes itself from)."""
    i = 2
    while i < len(data) - 9:
        if data[i] != 0xFF:
            raise ValueError("malformed JPEG")
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            return data[: i + 5] + struct.pack(">HH", height, width) + data[i + 9 :]
        i += 2 + length
    raise ValueError("no SOF marker")


# ---------------------------------------------------------------------------------------------
# Files with known pixel content (the tests check the values)


def rgba_half_red() -> bytes:
    """32×32 PNG, every pixel (255, 0, 0, 128): over white it reads (255, 127, 127)."""
    return _save(Image.new("RGBA", (32, 32), (255, 0, 0, 128)), "PNG")


def la_half_black() -> bytes:
    """32×32 LA PNG, grey 0 with alpha 128: over white it reads 127."""
    return _save(Image.new("LA", (32, 32), (0, 128)), "PNG")


def cmyk_cyan_jpeg() -> bytes:
    """16×16 CMYK JPEG of pure cyan (C=255, M=Y=K=0): reads (0, 255, 255)."""
    return _save(Image.new("CMYK", (16, 16), (255, 0, 0, 0)), "JPEG", quality=95)


GREY16_VALUES = (0, 257, 32896, 65535)  # -> 0, 1, 128, 255


def grey16_png() -> bytes:
    """4×8 16-bit greyscale PNG whose columns hold :data:`GREY16_VALUES`."""
    row = b"".join(struct.pack(">H", v) for v in GREY16_VALUES)
    return raw_png(4, 8, bit_depth=16, colour_type=0, rows=lambda y: row)


def rgb16_png() -> bytes:
    """8×8 16-bit RGB PNG, every pixel (65535, 32896, 0): reads (255, 128, 0)."""
    px = struct.pack(">HHH", 65535, 32896, 0)
    return raw_png(8, 8, bit_depth=16, colour_type=2, rows=lambda y: px * 8)


def palette_trns_png() -> bytes:
    """16×16 palette PNG: left half index 0 (fully transparent red), right half index 1 (blue)."""
    im = Image.new("P", (16, 16), 0)
    im.putpalette([255, 0, 0, 0, 0, 255] + [0] * (254 * 3))
    im.paste(1, (8, 0, 16, 16))
    return _save(im, "PNG", transparency=0)


def rgb_trns_png() -> bytes:
    """16×16 RGB PNG with a tRNS colour (0, 255, 0): left half that green, right half red."""
    im = Image.new("RGB", (16, 16), (0, 255, 0))
    im.paste((255, 0, 0), (8, 0, 16, 16))
    return _save(im, "PNG", transparency=(0, 255, 0))


def exif_rotated_jpeg() -> bytes:
    """80×40 (W×H) JPEG stored sideways with EXIF orientation 6 (rotate 90° clockwise to view).

    The stored top-left 10×10 block is red, the rest grey; upright the image is 40×80 and the red
    block sits at the top-right corner.
    """
    im = Image.new("RGB", (80, 40), (128, 128, 128))
    im.paste((255, 0, 0), (0, 0, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6
    return _save(im, "JPEG", quality=95, exif=exif.tobytes())


def animated_gif(n_frames: int = 500) -> bytes:
    """A 64×48 GIF with ``n_frames`` frames; frame 0 is solid red, the others other colours."""
    frames = [Image.new("RGB", (64, 48), (255, 0, 0))]
    for i in range(1, n_frames):
        frames.append(Image.new("RGB", (64, 48), (0, (i * 7) % 256, 255 - i % 256)))
    return _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=20, loop=0)


def transparent_gif() -> bytes:
    """16×16 GIF: left half transparent index, right half blue."""
    im = Image.new("P", (16, 16), 0)
    im.putpalette([0, 255, 0, 0, 0, 255] + [0] * (254 * 3))
    im.paste(1, (8, 0, 16, 16))
    return _save(im, "GIF", transparency=0)


def big_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    """A photo-sized JPEG (default 4000×3000, 12 Mpx) of smooth colour with some texture."""
    small = Image.fromarray(_scene(400, 300, seed=3))
    return _save(small.resize((width, height), Image.Resampling.BILINEAR), "JPEG", quality=90)


def oversized() -> bytes:
    """A valid PNG padded after IEND to ``MAX_BYTES + 1`` bytes (decoders ignore trailing data)."""
    head = _save(Image.fromarray(_scene(8, 8)), "PNG")
    return head + b"\x00" * (MAX_BYTES + 1 - len(head))


# ---------------------------------------------------------------------------------------------


@cache
def _rgb_png() -> bytes:
    return _save(Image.fromarray(_scene()), "PNG")


@cache
def _rgb_jpeg() -> bytes:
    return _save(Image.fromarray(_scene()), "JPEG", quality=90)


def corpus() -> dict[str, Sample]:
    """All samples by name. Bytes are built lazily; a fresh dict (and fresh samples) each call."""
    scene = _scene
    ok, err = "ok", "error"
    s = Sample
    items: dict[str, Sample] = {
        # --- normal files, one per accepted format
        "png_rgb": s("scene.png", _rgb_png, ok, shape=(64, 96, 3)),
        "jpeg_rgb": s("scene.jpg", _rgb_jpeg, ok, shape=(64, 96, 3)),
        "jpeg_upper_ext": s("SCENE.JPEG", _rgb_jpeg, ok, shape=(64, 96, 3)),
        "webp_lossy": s(
            "scene.webp", lambda: _save(Image.fromarray(scene()), "WEBP"), ok, shape=(64, 96, 3)
        ),
        "webp_lossless_rgba": s(
            "half_red.webp",
            lambda: _save(Image.new("RGBA", (32, 32), (255, 0, 0, 128)), "WEBP", lossless=True),
            ok,
            shape=(32, 32, 3),
            note="half-transparent red -> (255, 127, 127) over white",
        ),
        "gif_palette": s(
            "scene.gif", lambda: _save(Image.fromarray(scene()), "GIF"), ok, shape=(64, 96, 3)
        ),
        # --- conversions
        "png_rgba_half_red": s("half_red.png", rgba_half_red, ok, shape=(32, 32, 3)),
        "png_la": s("la.png", la_half_black, ok, shape=(32, 32, 3)),
        "png_l": s(
            "grey.png",
            lambda: _save(Image.fromarray(np.tile(np.arange(256, dtype=np.uint8), (4, 1))), "PNG"),
            ok,
            shape=(4, 256, 3),
        ),
        "png_1bit": s(
            "bilevel.png",
            lambda: _save(Image.new("1", (16, 8), 1), "PNG"),
            ok,
            shape=(8, 16, 3),
        ),
        "png_grey16": s("grey16.png", grey16_png, ok, shape=(8, 4, 3)),
        "png_rgb16": s("rgb16.png", rgb16_png, ok, shape=(8, 8, 3)),
        "png_palette_trns": s("palette.png", palette_trns_png, ok, shape=(16, 16, 3)),
        "png_rgb_trns": s("rgb_trns.png", rgb_trns_png, ok, shape=(16, 16, 3)),
        "gif_transparent": s("transparent.gif", transparent_gif, ok, shape=(16, 16, 3)),
        "jpeg_cmyk_cyan": s("cyan_cmyk.jpg", cmyk_cyan_jpeg, ok, shape=(16, 16, 3)),
        "jpeg_exif_rot6": s("sideways.jpg", exif_rotated_jpeg, ok, shape=(80, 40, 3)),
        "gif_500_frames": s("many.gif", animated_gif, ok, shape=(48, 64, 3)),
        # --- sizes
        "png_1x1": s(
            "dot.png",
            lambda: _save(Image.new("RGB", (1, 1), (9, 8, 7)), "PNG"),
            ok,
            shape=(1, 1, 3),
            note="never upscaled",
        ),
        "png_1x5000": s("sliver.png", lambda: raw_png(1, 5000), ok, shape=(512, 1, 3)),
        "jpeg_4000x3000": s("photo.jpg", big_jpeg, ok, shape=(384, 512, 3)),
        "png_rgba_6000x6000": s(
            "big.png",
            lambda: raw_png(6000, 6000, colour_type=6),
            ok,
            shape=(512, 512, 3),
            note="36 Mpx RGBA (under the 40 Mpx limit), all transparent, in ~140 KB: decoded in "
            "full, the most memory-hungry kind of file that is allowed; reads all white",
        ),
        # --- decompression bombs: tiny files declaring huge images
        "png_bomb_100k": s(
            "bomb.png",
            lambda: raw_png(100_000, 100_000, idat=zlib.compress(b"")),
            err,
            "too_many_pixels",
            note="IHDR 100000×100000, empty IDAT (above Pillow's own error limit)",
        ),
        "png_bomb_7000": s(
            "bomb7000.png",
            lambda: raw_png(7000, 7000, idat=zlib.compress(b"")),
            err,
            "too_many_pixels",
            note="49 Mpx: under Pillow's limits, only MAX_PIXELS stops it",
        ),
        "gif_bomb_screen": s(
            "bomb.gif",
            lambda: _gif((65535, 65535), (1, 1)),
            err,
            "too_many_pixels",
            note="logical screen 65535×65535, one 1×1 frame",
        ),
        "gif_frame_beyond_screen": s(
            "frame.gif",
            lambda: _gif((1, 1), (7000, 7000)),
            err,
            "too_many_pixels",
            note="1×1 screen, 7000×7000 frame: Pillow grows the image to the frame",
        ),
        "webp_bomb_16k": s(
            "bomb.webp",
            lambda: _webp_canvas_bomb(16384, 16384),
            err,
            "too_many_pixels",
            note="valid animated WebP, 16384×16384 canvas, two 1×1 frames",
        ),
        "webp_bomb_10k": s(
            "bomb10k.webp",
            lambda: _webp_canvas_bomb(10_000, 10_000),
            err,
            "too_many_pixels",
            note="100 Mpx canvas: below Pillow's error limit, libwebp would allocate 400 MB",
        ),
        "jpeg_bomb_header": s(
            "bomb.jpg",
            lambda: _jpeg_patch_size(_rgb_jpeg(), 60_000, 60_000),
            err,
            "too_many_pixels",
            note="SOF patched to 60000×60000 (header only; the scan is the small image's)",
        ),
        "jpeg_bomb_11000_header": s(
            "bomb11000.jpg",
            lambda: _jpeg_patch_size(_rgb_jpeg(), 11000, 11000),
            err,
            "too_many_pixels",
            note="SOF patched to 11000×11000 (121 Mpx, over the JPEG limit): under Pillow's error",
        ),
        "webp_zero_width": s(
            "zero.webp",
            lambda: _webp_vp8_patch_size(_save(Image.fromarray(scene()), "WEBP"), 0, 64),
            err,
            "no_pixels",
            note="lossy WebP whose VP8 frame header says width 0",
        ),
        # --- broken and empty
        "empty": s("empty.png", lambda: b"", err, "empty"),
        "png_zero_width": s(
            "zero.png",
            lambda: raw_png(0, 10, idat=zlib.compress(b"")),
            err,
            "damaged",
            note="IHDR width 0: Pillow's PNG plugin refuses it",
        ),
        "png_truncated": s(
            "cut.png",
            lambda: (lambda d: d[: len(d) * 2 // 3])(
                _save(Image.fromarray(_scene(128, 128, seed=1)), "PNG")
            ),
            err,
            "damaged",
        ),
        "jpeg_truncated": s(
            "cut.jpg",
            lambda: (lambda d: d[: len(d) // 2])(
                _save(Image.fromarray(_scene(128, 128, seed=2)), "JPEG", quality=95)
            ),
            err,
            "damaged",
        ),
        "png_header_only": s(
            "head.png",
            lambda: _rgb_png()[:40],
            err,
            "damaged",
            note="signature and IHDR, then nothing",
        ),
        "png_bad_crc": s(
            "crc.png",
            lambda: (lambda d: d[:29] + bytes([d[29] ^ 0xFF]) + d[30:])(_rgb_png()),
            err,
            "damaged",
            note="IHDR CRC flipped",
        ),
        # --- not images, or not accepted images
        "text": s(
            "notes.png", lambda: b"Just some notes, not a picture.\n" * 4, err, "not_an_image"
        ),
        "html_as_png": s(
            "photo.png",
            lambda: b"<!DOCTYPE html><html><head><title>Photo</title></head><body></body></html>",
            err,
            "not_an_image",
        ),
        "svg_as_png": s(
            "logo.png",
            lambda: (
                b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" '
                b'height="10"><rect width="10" height="10"/></svg>'
            ),
            err,
            "not_an_image",
        ),
        "bmp_as_png": s(
            "scene.png", lambda: _save(Image.fromarray(scene()), "BMP"), err, "unsupported_format"
        ),
        "tiff_as_png": s(
            "scene.png", lambda: _save(Image.fromarray(scene()), "TIFF"), err, "unsupported_format"
        ),
        "ico_as_png": s(
            "icon.png",
            lambda: _save(Image.fromarray(scene(32, 32)), "ICO"),
            err,
            "unsupported_format",
        ),
        "psd_header": s(
            "layers.png",
            lambda: b"8BPS\x00\x01" + b"\x00" * 6 + struct.pack(">HIIHH", 3, 64, 64, 8, 3),
            err,
            "unsupported_format",
            note="a Photoshop header (not a whole PSD): refused by its magic number",
        ),
        "heic_header": s(
            "IMG_0001.jpg",
            lambda: struct.pack(">I", 24) + b"ftypheic\x00\x00\x00\x00mif1heic",
            err,
            "unsupported_format",
            note="an ISO-BMFF ftyp box with brand 'heic' (not a whole HEIC file)",
        ),
        "bmp_named_bmp": s(
            "scene.bmp", lambda: _save(Image.fromarray(scene()), "BMP"), err, "bad_extension"
        ),
        "png_named_txt": s("scene.txt", _rgb_png, err, "bad_extension"),
        "png_no_extension": s("scene", _rgb_png, err, "bad_extension"),
        # --- extensions that lie about the content
        "jpeg_named_png": s("scene.png", _rgb_jpeg, err, "extension_mismatch"),
        "png_named_gif": s("scene.gif", _rgb_png, err, "extension_mismatch"),
        "webp_named_jpg": s(
            "scene.jpg",
            lambda: _save(Image.fromarray(scene()), "WEBP"),
            err,
            "extension_mismatch",
        ),
        # --- too many bytes
        "oversized": s("huge.png", oversized, err, "too_many_bytes", note=f"{MAX_BYTES + 1} bytes"),
    }
    return items
