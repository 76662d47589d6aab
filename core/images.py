"""Uploaded images in, model tensors out, and back: a careful loader and the encoders for slides.

The loader is the app's only door for user files, so it is defensive: only the PNG, JPEG, WebP and
GIF decoders of Pillow are ever used, the pixel count is checked from the header before anything is
decoded, and every failure becomes an :class:`ImageError` with a message a person can act on.

Pixel mapping (as in DDPM, Ho et al. 2020, §3.3): an 8-bit value v ∈ {0..255} maps to
x = v / 127.5 - 1 ∈ [-1, 1]; the way back clips x to [-1, 1] and rounds.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import struct
import warnings
import zlib
from typing import Any, Final, Literal

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "ACCEPTED_EXTENSIONS",
    "ACCEPTED_FORMATS",
    "MAX_BYTES",
    "MAX_JPEG_PIXELS",
    "MAX_PIXELS",
    "ImageError",
    "clipped_fraction",
    "encode_animation",
    "encode_png",
    "from_model",
    "image_sha256",
    "is_animated",
    "load_image",
    "to_model",
]

ACCEPTED_FORMATS: Final = ("PNG", "JPEG", "WEBP", "GIF")
#: File-name extensions and the format each one promises.
ACCEPTED_EXTENSIONS: Final[dict[str, str]] = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".gif": "GIF",
}
#: 40 megapixels: a 6000 × 6000 picture passes, a 20000 × 20000 bomb does not. Pillow's own
#: limit (89 Mpx warning, 179 Mpx error) is global and much higher; this one is checked per call.
MAX_PIXELS: Final = 40_000_000
#: JPEG decodes at 1/2, 1/4 or 1/8 scale (``Image.draft``), so a 108-megapixel phone photo costs
#: less memory than a 40-megapixel PNG.
MAX_JPEG_PIXELS: Final = 120_000_000
#: 20 MB, checked before any parsing.
MAX_BYTES: Final = 20_000_000

MAX_SIDE_RANGE: Final = (8, 4096)
_FORMATS_TEXT: Final = "PNG, JPEG, WebP or GIF"

ErrorCode = Literal[
    "empty",
    "too_many_bytes",
    "bad_extension",
    "extension_mismatch",
    "unsupported_format",
    "not_an_image",
    "too_many_pixels",
    "no_pixels",
    "damaged",
]


class ImageError(ValueError):
    """An uploaded file that cannot be used, with a message that says why and what to do.

    Attributes:
        code: a short machine-readable reason (see ``ErrorCode``), so a page can translate it.
        params: the numbers and names the message mentions (e.g. ``{"width": 20000, ...}``).
    """

    def __init__(self, message: str, *, code: ErrorCode, **params: Any) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.params: dict[str, Any] = params


# Magic numbers of formats people upload by mistake, only to name them in the message; their
# decoders are never run.
_OTHER_SIGNATURES: Final = (
    (b"BM", "a BMP image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x00\x00\x01\x00", "an ICO icon"),
    (b"8BPS", "a Photoshop (PSD) file"),
    (b"%PDF", "a PDF document"),
    (b"\xff\x0a", "a JPEG XL image"),
    (b"\x00\x00\x00\x0cJXL ", "a JPEG XL image"),
    (b"qoif", "a QOI image"),
)
# Signatures of the accepted formats: a file that starts like one but fails to open is damaged.
_ACCEPTED_SIGNATURES: Final = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)


def _describe_unknown(data: bytes) -> str:
    """A short guess at what a file that no accepted decoder recognised actually is."""
    head = data[:64]
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
            return "a HEIC/HEIF image (common on iPhones; export it as JPEG)"
        if brand in (b"avif", b"avis"):
            return "an AVIF image"
        return "a video or MP4-family file"
    for magic, what in _OTHER_SIGNATURES:
        if head.startswith(magic):
            return what
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<svg", b"<?xml")) or b"<svg" in data[:1024].lower():
        return "SVG/XML text (a vector drawing, not a pixel image)"
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<")):
        return "HTML text (perhaps a web page saved instead of the image)"
    try:
        data[:1024].decode("utf-8")
    except UnicodeDecodeError:
        return "an unknown binary file"
    return "text"


def _claimed_format(data: bytes) -> str | None:
    """The accepted format whose signature ``data`` starts with, if any."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    for magic, fmt in _ACCEPTED_SIGNATURES:
        if data.startswith(magic):
            return fmt
    return None


def _webp_canvas_size(data: bytes) -> tuple[int, int] | None:
    """Width and height declared by a WebP header, or None if ``data`` is not a WebP file.

    Needed because Pillow's WebP plugin creates libwebp's decoder, which allocates the canvas,
    inside ``Image.open`` and only refuses canvases above twice its global limit.
    """
    if len(data) < 30 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    chunk = data[12:16]
    if chunk == b"VP8X":
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    if chunk == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", data[26:30])
        return w & 0x3FFF, h & 0x3FFF
    return None


def _check_pixels(width: int, height: int, limit: int = MAX_PIXELS) -> None:
    if width <= 0 or height <= 0:
        raise ImageError(
            f"The image has no pixels ({width} × {height}). Upload a real {_FORMATS_TEXT} image.",
            code="no_pixels",
            width=width,
            height=height,
        )
    if width * height > limit:
        raise ImageError(
            f"The image is {width} × {height} pixels ({width * height / 1e6:.1f} megapixels); "
            f"the limit is {limit / 1e6:.0f} megapixels. Scale it down before uploading.",
            code="too_many_pixels",
            width=width,
            height=height,
            limit=limit,
        )


def _check_filename(filename: str) -> str:
    """The format a file name promises; raises for extensions outside the accepted list."""
    ext = os.path.splitext(filename)[1].lower()
    if ext not in ACCEPTED_EXTENSIONS:
        shown = f"ends in '{ext}'" if ext else "has no extension"
        raise ImageError(
            f"The file name '{filename}' {shown}; only .png, .jpg, .jpeg, .webp and .gif "
            f"({_FORMATS_TEXT}) images are accepted.",
            code="bad_extension",
            filename=filename,
            extension=ext,
        )
    return ACCEPTED_EXTENSIONS[ext]


# 16-bit → 8-bit by rounding v * 255 / 65535, so 65535 → 255 and 32896 → 128 (not clipped at 255).
_LUT16: Final = ((np.arange(65536, dtype=np.uint32) * 255 + 32767) // 65535).astype(np.uint8)


def _as_8bit(im: Image.Image) -> Image.Image:
    """Bring any Pillow mode to "RGB", or "RGBA" when the image carries transparency.

    Integer greyscale ("I;16*", "I") is read as 0..65535 and scaled to 0..255; float "F" is read
    as 0..1. CMYK uses Pillow's conversion (R = (255 - K)(1 - C/255), ...), so pure cyan → (0,
    255, 255). Palette and greyscale/RGB images with a tRNS colour become RGBA.
    """
    mode = im.mode
    if mode in ("RGB", "RGBA"):
        if mode == "RGB" and "transparency" in im.info:
            return im.convert("RGBA")
        return im
    if mode.startswith("I") or mode == "F":
        grey = _wide_grey(im)
        return grey.convert("RGBA" if grey.mode == "LA" else "RGB")
    if mode in ("LA", "La", "PA", "RGBa", "RGBX") or "transparency" in im.info:
        return im.convert("RGBA")
    return im.convert("RGB")


def _wide_grey(im: Image.Image) -> Image.Image:
    """An "I*" or "F" image as 8-bit "L", or "LA" when a tRNS value marks transparent pixels.

    Integer values are read as 0..65535 and scaled to 0..255, float values as 0..1.
    """
    arr = np.asarray(im)
    if im.mode == "F":
        grey = np.rint(np.clip(np.nan_to_num(arr, nan=0.0), 0.0, 1.0) * 255.0).astype(np.uint8)
    else:
        grey = _LUT16[np.clip(arr, 0, 65535).astype(np.uint16)]
    trns = im.info.get("transparency")
    if isinstance(trns, int):
        alpha = np.where(arr == trns, 0, 255).astype(np.uint8)
        return Image.merge("LA", (Image.fromarray(grey), Image.fromarray(alpha)))
    return Image.fromarray(grey)


def _resize(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Lanczos downscale to ``size``; alpha ("RGBA", "LA") is premultiplied, so edges don't darken.

    Premultiplying costs a full-size pass, which a constant alpha does not need: all opaque
    (255) gives the same pixels without it, all transparent (0) is plain white once
    composited, whatever the colours.
    """
    if im.mode in ("RGBA", "LA"):
        extrema = im.getchannel("A").getextrema()
        if extrema == (255, 255):
            im = im.convert(im.mode[:-1])
        elif extrema == (0, 0):
            return Image.new(im.mode, size, 0)
    return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _shrink_early(im: Image.Image, max_side: int) -> Image.Image:
    """``im`` downscaled to the working size before :func:`_as_8bit`, where that is exact.

    A 36-megapixel upload costs seconds in full-size conversions; these modes are shrunk in
    a mode with fewer channels first and give the same pixels as converting first, because
    the conversion that follows copies grey into R, G and B (and keeps alpha): "1" and "L"
    (resized as "L"), "LA", and the wide greyscale modes once mapped to 8 bits (the mapping
    rounds, so it stays at full size). Palette, CMYK and colour-keyed images (tRNS) are not
    linear in their stored values: they are converted first, as before. Other modes come back
    unchanged.
    """
    size = _target_size(im.width, im.height, max_side)
    if size == im.size:
        return im
    keyed = "transparency" in im.info
    if im.mode.startswith("I") or im.mode == "F":
        im = _wide_grey(im)
    elif im.mode == "1" and not keyed:
        im = im.convert("L")
    elif not (im.mode in ("LA", "RGBA") or (im.mode in ("L", "RGB") and not keyed)):
        return im
    return _resize(im, size)


def _composite_on_white(im: Image.Image) -> np.ndarray:
    """RGB uint8 array of an RGB/RGBA image, transparent parts laid over white."""
    if im.mode == "RGB":
        return np.asarray(im, dtype=np.uint8).copy()
    white = Image.new("RGBA", im.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(white, im).convert("RGB"), dtype=np.uint8).copy()


def _target_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Aspect-preserving size with the long side at most ``max_side``; never upscales."""
    long_side = max(width, height)
    if long_side <= max_side:
        return width, height
    scale = max_side / long_side
    return max(1, round(width * scale)), max(1, round(height * scale))


def _validate_max_side(max_side: int, name: str = "max_side") -> None:
    lo, hi = MAX_SIDE_RANGE
    if isinstance(max_side, bool) or not isinstance(max_side, int | np.integer):
        raise TypeError(f"{name} must be an int in {lo}..{hi}, got {type(max_side).__name__}")
    if not lo <= max_side <= hi:
        raise ValueError(f"{name} must be in {lo}..{hi} pixels, got {max_side}")


def load_image(data: bytes, *, max_side: int = 512, filename: str | None = None) -> np.ndarray:
    """Decode an uploaded PNG, JPEG, WebP or GIF into an RGB uint8 array of shape (H, W, 3).

    Args:
        data: the file's bytes (at most :data:`MAX_BYTES`).
        max_side: the longest side of the result in pixels, 8..4096 (default 512). Larger images
            are downscaled with Lanczos, keeping the aspect ratio; smaller ones are not upscaled.
        filename: the uploaded file's name, if known. Its extension must be one of
            :data:`ACCEPTED_EXTENSIONS` and must name the format the content actually has.

    The EXIF orientation is applied, only the first frame of an animation is used, transparency
    is laid over white, 16-bit and greyscale images are scaled to 8 bits, CMYK is converted.

    Raises:
        ImageError: the file is empty, too large, not one of the accepted formats, declares more
            than :data:`MAX_PIXELS` pixels, is truncated or otherwise damaged, or its name lies
            about its content. The message says which and what to do.
        ValueError, TypeError: ``max_side`` or ``data`` is not valid (a programming error).
    """
    _validate_max_side(max_side)
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data:
        raise ImageError(
            f"The file is empty (0 bytes). Upload a {_FORMATS_TEXT} image.", code="empty"
        )
    if len(data) > MAX_BYTES:
        raise ImageError(
            f"The file is {len(data) / 1e6:.1f} MB; the limit is {MAX_BYTES / 1e6:.0f} MB. "
            f"Upload a smaller {_FORMATS_TEXT} image.",
            code="too_many_bytes",
            size=len(data),
            limit=MAX_BYTES,
        )
    promised = _check_filename(filename) if filename is not None else None

    # libwebp allocates its canvas buffers while Pillow opens the file (Pillow only refuses
    # canvases over twice its global limit there), so check WebP dimensions before opening.
    webp_size = _webp_canvas_size(data)
    if webp_size is not None:
        _check_pixels(*webp_size)

    try:
        with warnings.catch_warnings():  # the limits here are checked right after opening
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(
            f"The image declares far more pixels than the {MAX_PIXELS / 1e6:.0f}-megapixel "
            f"limit (a 'decompression bomb'), so it was not decoded.",
            code="too_many_pixels",
            limit=MAX_PIXELS,
        ) from exc
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
        struct.error,
    ) as exc:
        claimed = _claimed_format(data)
        if claimed is not None:
            raise ImageError(
                f"The file starts like a {claimed} image but could not be read ({exc}). It is "
                f"damaged or incomplete; upload the complete file.",
                code="damaged",
                format=claimed,
            ) from exc
        what = _describe_unknown(data)
        known = not what.startswith(("text", "HTML", "SVG", "an unknown"))
        raise ImageError(
            f"This file is not a {_FORMATS_TEXT} image: it looks like {what}.",
            code="unsupported_format" if known else "not_an_image",
            detected=what,
        ) from exc

    with im:
        fmt = "JPEG" if im.format == "MPO" else str(im.format)
        if promised is not None and fmt != promised:
            raise ImageError(
                f"The file is named '{filename}' but its content is a {fmt} image, not {promised}. "
                f"Rename it with the right extension or save it again as {promised}.",
                code="extension_mismatch",
                filename=filename,
                content=fmt,
                extension_format=promised,
            )
        width, height = im.size
        _check_pixels(width, height, MAX_JPEG_PIXELS if fmt == "JPEG" else MAX_PIXELS)
        target = _target_size(width, height, max_side)
        if fmt == "JPEG" and target != (width, height):
            # DCT-domain downscale by 1/2, 1/4 or 1/8 while decoding; keep 2× the target so the
            # Lanczos pass below still has detail to work with (as Image.thumbnail does).
            im.draft(None, (target[0] * 2, target[1] * 2))
        try:
            im.load()
        except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
            raise ImageError(
                f"The {fmt} file is damaged or incomplete ({exc}). Upload the complete file.",
                code="damaged",
                format=fmt,
            ) from exc
        # Unreadable EXIF: show the pixels as stored rather than refuse a good image.
        with contextlib.suppress(SyntaxError, ValueError, KeyError, TypeError, struct.error):
            ImageOps.exif_transpose(im, in_place=True)
        rgb = _as_8bit(_shrink_early(im, max_side))
        out_size = _target_size(rgb.width, rgb.height, max_side)
        if out_size != rgb.size:
            rgb = _resize(rgb, out_size)
        return _composite_on_white(rgb)


def _check_rgb_uint8(rgb: np.ndarray, name: str = "rgb") -> np.ndarray:
    arr = np.asarray(rgb)
    if arr.dtype != np.uint8:
        raise ValueError(f"{name} must be a uint8 array, got dtype {arr.dtype}")
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must have shape (H, W, 3), got {arr.shape}")
    return arr


def to_model(rgb_uint8: np.ndarray) -> np.ndarray:
    """Map 8-bit pixels to the model's range: x = v / 127.5 - 1 ∈ [-1, 1], float32.

    Args:
        rgb_uint8: any-shaped uint8 array (usually (H, W, 3) from :func:`load_image`).

    Returns:
        float32 array of the same shape; 0 → -1, 255 → 1.
    """
    arr = np.asarray(rgb_uint8)
    if arr.dtype != np.uint8:
        raise ValueError(f"to_model expects uint8 pixels (0..255), got dtype {arr.dtype}")
    # float32 is exact enough: 255 levels need 8 bits of mantissa, float32 has 24.
    return arr.astype(np.float32) / np.float32(127.5) - np.float32(1.0)


def _as_numpy(x: Any) -> np.ndarray:
    # Accept torch tensors without importing torch here.
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"expected a real-valued array, got dtype {arr.dtype}")
    return arr


def from_model(x: Any) -> np.ndarray:
    """Map model values back to 8-bit pixels: v = round((clip(x, -1, 1) + 1) · 127.5), uint8.

    Args:
        x: numpy array or torch tensor of any shape, values nominally in [-1, 1]. Noisy x_t
            exceeds that range; those values are clipped (see :func:`clipped_fraction`).

    Raises:
        ValueError: ``x`` contains NaN or infinity.
    """
    arr = _as_numpy(x).astype(np.float64, copy=False)
    if not np.isfinite(arr).all():
        raise ValueError("from_model got NaN or infinite values; cannot turn them into pixels")
    return np.rint((np.clip(arr, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)


def clipped_fraction(x: Any) -> float:
    """Fraction (0..1) of the values of ``x`` outside [-1, 1], i.e. changed by :func:`from_model`.

    An empty array gives 0.0. NaN counts as clipped.
    """
    arr = _as_numpy(x)
    if arr.size == 0:
        return 0.0
    inside = (arr >= -1.0) & (arr <= 1.0)
    return float(1.0 - np.count_nonzero(inside) / arr.size)


def encode_png(rgb_uint8: np.ndarray) -> bytes:
    """PNG bytes of an (H, W, 3) uint8 image (lossless, for the pages, downloads and tests).

    zlib's run-length strategy: noisy pictures do not compress whatever zlib tries, smooth ones
    compress as well as with its default, and a 320×320 picture encodes 25–35 % faster.
    """
    arr = _check_rgb_uint8(rgb_uint8, "rgb_uint8")
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr)).save(
        buf, format="PNG", compress_level=6, compress_type=zlib.Z_RLE
    )
    return buf.getvalue()


def encode_animation(
    frames: list[np.ndarray] | np.ndarray,
    *,
    format: Literal["GIF", "WEBP"],
    duration_ms: int,
    max_side: int | None = None,
) -> bytes:
    """Encode frames as a looping animated GIF or WebP, e.g. x_t for t = 0..T for a slide.

    Args:
        frames: a list of (H, W, 3) uint8 arrays of one size, or an (N, H, W, 3) array; N ≥ 1.
        format: "GIF" (plays everywhere, 256 colours per frame) or "WEBP" (smaller, full colour).
        duration_ms: how long each frame shows, 20..60000 ms. GIF stores 10 ms units, so it is
            rounded there.
        max_side: if given (8..4096), frames are downscaled with Lanczos to this long side.

    Returns:
        the file's bytes; Pillow reads them back with ``n_frames == N`` (GIF merges identical
        consecutive frames into one longer frame, as the format allows).
    """
    if format not in ("GIF", "WEBP"):
        raise ValueError(f"format must be 'GIF' or 'WEBP', got {format!r}")
    if isinstance(duration_ms, bool) or not isinstance(duration_ms, int | np.integer):
        raise TypeError(f"duration_ms must be an int, got {type(duration_ms).__name__}")
    if not 20 <= duration_ms <= 60_000:
        raise ValueError(f"duration_ms must be in 20..60000, got {duration_ms}")
    if max_side is not None:
        _validate_max_side(max_side)
    seq = list(frames) if isinstance(frames, list) else list(np.asarray(frames))
    if not seq:
        raise ValueError("encode_animation needs at least one frame")
    arrays = [_check_rgb_uint8(f, f"frames[{i}]") for i, f in enumerate(seq)]
    shape = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != shape:
            raise ValueError(
                f"all frames must have one shape; frames[{i}] is {a.shape}, not {shape}"
            )
    size = (shape[1], shape[0])
    out_size = _target_size(*size, max_side) if max_side is not None else size
    images = []
    for a in arrays:
        im = Image.fromarray(np.ascontiguousarray(a))
        if out_size != size:
            im = im.resize(out_size, Image.Resampling.LANCZOS)
        if format == "GIF":
            # A palette of 256 colours per frame by octree: ~3 ms a 256×256 frame. Pillow's
            # own choice for RGB frames (median cut) took ~0.2 s a frame, 17 s for the image
            # page's 81, for colours within about one level more of the frame's.
            im = im.quantize(256, method=Image.Quantize.FASTOCTREE)
        images.append(im)
    buf = io.BytesIO()
    options: dict[str, Any] = {"save_all": True, "append_images": images[1:], "loop": 0}
    if format == "GIF":
        options |= {"duration": duration_ms, "optimize": False, "disposal": 1}
    else:
        options |= {"duration": duration_ms, "quality": 80, "method": 4}
    images[0].save(buf, format=format, **options)
    return buf.getvalue()


def image_sha256(data: bytes) -> str:
    """Hex SHA-256 of the uploaded bytes: a cache key that never collides on similar images."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    return hashlib.sha256(data).hexdigest()


def is_animated(data: bytes) -> bool:
    """Whether the image file has more than one frame (:func:`load_image` uses the first);
    False for anything that does not open."""
    try:
        with Image.open(io.BytesIO(bytes(data)), formats=ACCEPTED_FORMATS) as im:
            return bool(getattr(im, "is_animated", False))
    except Exception:  # damaged or not an image: load_image says why
        return False
