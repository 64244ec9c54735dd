"""Image previews: JPEGs of a few sizes, upright, sRGB, without metadata, never upscaled.

Two engines render the same set of previews. libvips (the default) decodes JPEG, HEIC
and WebP at a reduced size directly ("shrink on load"), so the largest preview costs a
fraction of a full decode; each smaller size is then made from the one above it rather
than from the original. Pillow is the portable alternative (and the baseline the
benchmark compares with); it uses JPEG DCT scaling (``draft``) for the same effect on
JPEGs. RAW files are previewed from the JPEG their camera embedded, which is what the
camera showed on its screen: decoding the raw sensor data would take seconds per file
and give colours no better than the camera's own rendering.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

from homegallery.config import PreviewJpeg
from homegallery.errors import HomeGalleryError
from homegallery.extract.meta_blocks import exif_orientation, is_heif, png_exif

Source = Path | bytes
EngineName = Literal["pyvips", "pillow"]


class PreviewError(HomeGalleryError):
    """A preview cannot be made; ``reason`` groups failures in the run summary."""

    def __init__(self, message: str, reason: str = "decode") -> None:
        super().__init__(message)
        self.reason = reason


def sizes_for(longest_side: int, sizes: Sequence[int]) -> list[int]:
    """The preview sizes an image gets, largest first: never one larger than the image.

    An image smaller than every size still gets the smallest size's file, at its own
    size, so that every image has something to show in the grid.
    """
    fitting = sorted({size for size in sizes if size <= longest_side}, reverse=True)
    return fitting or [min(sizes)]


class Engine(Protocol):
    def render(self, source: Source, sizes: Sequence[int], quality: int) -> list[tuple[int, bytes]]:
        """JPEG bytes per preview size, largest first, for ``sizes_for(...)`` of the image."""
        ...


def _name(source: Source) -> str:
    return str(source) if isinstance(source, Path) else "(image in memory)"


def _too_large(source: Source, width: int, height: int, max_pixels: int) -> PreviewError:
    megapixels = width * height / 1e6
    return PreviewError(
        f"{_name(source)}: {width}x{height} pixels ({megapixels:,.0f} MP) exceed the limit of"
        f" {max_pixels / 1e6:,.0f} MP (extractor.image.maxMegapixels); refusing to decode",
        "too-large",
    )


# --- RAW ------------------------------------------------------------------------------------

# libraw's "flip" of the raw data → the EXIF orientation of the embedded preview.
_FLIP_TO_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}


def embedded_raw_preview(path: Path) -> tuple[bytes, int]:
    """(embedded JPEG, EXIF orientation to apply) of a RAW file."""
    import rawpy

    try:
        with rawpy.imread(str(path)) as raw:
            flip = int(raw.sizes.flip)
            thumb = raw.extract_thumb()
    except (rawpy.LibRawError, OSError) as error:
        raise PreviewError(f"{path}: cannot read the RAW file: {error}") from None
    if thumb.format != rawpy.ThumbFormat.JPEG:
        raise PreviewError(f"{path}: the RAW file embeds no JPEG preview", "unsupported")
    return bytes(thumb.data), _FLIP_TO_ORIENTATION.get(flip, 1)


# --- libvips --------------------------------------------------------------------------------


class VipsEngine:
    """Previews with libvips: shrink-on-load, colour managed, low memory."""

    def __init__(self, max_pixels: int = 250_000_000, jpeg: PreviewJpeg | None = None) -> None:

        self.max_pixels = max_pixels
        self.jpeg = jpeg or PreviewJpeg()
        self._jpeg_options = vips_jpeg_options(self.jpeg)
        self._plain_options = vips_jpeg_options(self.jpeg, optimized=False)
        # The libvips wheel leaves out the (patent-encumbered) HEVC decoder and the
        # pillow-heif wheel the AV1 one: a HEIF goes to the other library whenever one
        # refuses it, for whatever reason. Which one goes first is learnt from the first
        # HEIC, to save the futile try; the outcome does not depend on it.
        self._hevc_in_vips = True

    def render(
        self, source: Source, sizes: Sequence[int], quality: int, orientation: int = 0
    ) -> list[tuple[int, bytes]]:
        """``orientation`` forces one (RAW previews carry none); 0 reads it from the file."""
        if isinstance(source, Path) and is_heif(source):
            return self._render_heif(source, sizes, quality)
        return self._render(source, sizes, quality, orientation)

    def _render_heif(
        self, path: Path, sizes: Sequence[int], quality: int
    ) -> list[tuple[int, bytes]]:
        """libvips (which shrinks while decoding) and pillow-heif, told by content not name."""

        def with_vips() -> list[tuple[int, bytes]]:
            return self._render(path, sizes, quality, 0)

        def with_pillow_heif() -> list[tuple[int, bytes]]:
            return self._render_image(path, _decode_heif(path, self.max_pixels), sizes, quality)

        order = (
            (with_vips, with_pillow_heif) if self._hevc_in_vips else (with_pillow_heif, with_vips)
        )
        refusals: list[PreviewError] = []
        for attempt in order:
            try:
                return attempt()
            except PreviewError as error:
                if error.reason == "too-large":
                    raise
                if attempt is with_vips and "HEVC" in str(error):
                    self._hevc_in_vips = False
                refusals.append(error)
        # Both refused: the reason that is not a missing codec says what is wrong
        raise next(
            (error for error in refusals if not _MISSING_CODEC.search(str(error))), refusals[0]
        )

    def _render(
        self, source: Source, sizes: Sequence[int], quality: int, orientation: int
    ) -> list[tuple[int, bytes]]:
        import pyvips

        try:
            vips_source = (
                pyvips.Source.new_from_file(str(source))
                if isinstance(source, Path)
                else pyvips.Source.new_from_memory(source)
            )
            header = pyvips.Image.new_from_source(vips_source, "", access="sequential")
            if header.width * header.height > self.max_pixels:
                raise _too_large(source, header.width, header.height, self.max_pixels)
            if orientation == 0 and isinstance(source, Path):
                orientation = _png_orientation(source, header)
            targets = sizes_for(max(header.width, header.height), sizes)
            image = pyvips.Image.thumbnail_source(
                vips_source,
                targets[0],
                height=targets[0],
                size="down",
                no_rotate=orientation > 1,
                option_string="fail_on=truncated",
            )
            if orientation > 1:
                image = _orient(image, orientation)
            return self._encode(image, targets, quality)
        except pyvips.Error as error:
            raise _vips_error(source, error) from None

    def _render_image(
        self, source: Source, image: Any, sizes: Sequence[int], quality: int
    ) -> list[tuple[int, bytes]]:
        """Previews of an image decoded by another library (already upright)."""
        import pyvips

        assert isinstance(image, pyvips.Image)
        try:
            targets = sizes_for(max(image.width, image.height), sizes)
            image = image.thumbnail_image(targets[0], height=targets[0], size="down")
            return self._encode(image, targets, quality)
        except pyvips.Error as error:
            raise _vips_error(source, error) from None

    def _encode(self, image: Any, targets: list[int], quality: int) -> list[tuple[int, bytes]]:
        """The largest preview from ``image``, then each smaller one from the one above."""
        image = as_srgb(image).copy_memory()
        results = [(targets[0], self._save(image, targets[0], quality))]
        for size in targets[1:]:
            image = image.thumbnail_image(size, height=size, size="down").copy_memory()
            results.append((size, self._save(image, size, quality)))
        return results

    def _save(self, image: Any, size: int, quality: int) -> bytes:
        limit = self.jpeg.optimize_max_size
        options = self._jpeg_options if not limit or size <= limit else self._plain_options
        data: bytes = image.jpegsave_buffer(Q=quality, **options)
        return data


# How libheif says that its build lacks the file's codec (HEVC, AV1)
_MISSING_CODEC = re.compile(r"has not been built in|no decoder|decoder plugin", re.IGNORECASE)


def _png_orientation(path: Path, header: Any) -> int:
    """A PNG's orientation from an ``eXIf`` chunk libvips did not read; 0 if none to apply."""
    fields = header.get_fields()
    if "orientation" in fields or not str(header.get("vips-loader")).startswith("png"):
        return 0
    return exif_orientation(png_exif(path)) or 0


# "VipsJpeg: ", "VipsForeignLoad: ", "heifload: ": which part of libvips speaks, not why
_VIPS_SPEAKER = re.compile(r"^(?:Vips[A-Za-z]*|[a-z0-9_]+(?:load|save)[a-z0-9_]*):\s*")


def mozjpeg_available() -> bool:
    """True when libvips' JPEG library is mozjpeg (trellis quantisation, more tables).

    libvips takes the mozjpeg-only options from any build and ignores them (with a
    warning) under libjpeg-turbo, so the settings stay valid everywhere; this says
    whether they have an effect.
    """
    import pyvips

    image = pyvips.Image.gaussnoise(64, 64, sigma=40, mean=128).cast("uchar")
    try:
        plain = image.jpegsave_buffer(Q=80, optimize_coding=True)
        trellis = image.jpegsave_buffer(Q=80, optimize_coding=True, trellis_quant=True)
    except pyvips.Error:
        return False
    return bool(plain != trellis)


def vips_jpeg_options(jpeg: PreviewJpeg, optimized: bool = True) -> dict[str, object]:
    """libvips ``jpegsave`` arguments for the configured settings, metadata stripped;
    ``optimized=False`` leaves out progressive and optimised coding (large previews)."""
    import pyvips

    options: dict[str, object] = {"keep": 0} if pyvips.at_least_libvips(8, 15) else {"strip": True}
    options.update(
        interlace=jpeg.progressive and optimized,
        optimize_coding=jpeg.optimize_coding and optimized,
        subsample_mode=jpeg.subsample,
    )
    if jpeg.trellis_quant:
        options["trellis_quant"] = True
    if jpeg.overshoot_deringing:
        options["overshoot_deringing"] = True
    if jpeg.optimize_scans:
        options["optimize_scans"] = True
    if jpeg.quant_table:
        options["quant_table"] = jpeg.quant_table
    return options


def _vips_error(source: Source, error: Exception) -> PreviewError:
    """The causes libvips gives, each once and without its operation names; a file it
    gives none for is said to be damaged or of a kind it does not read."""
    causes: list[str] = []
    for line in str(error).splitlines()[1:]:
        cause = _VIPS_SPEAKER.sub("", line.strip()).strip()
        cause = cause.replace("source is not in a known format", "not in a format libvips reads")
        if cause and cause not in causes:
            causes.append(cause)
    reason = "; ".join(causes[-3:]) or "libvips gives no cause: damaged, or a kind it does not read"
    return PreviewError(f"{_name(source)}: cannot decode: {reason}")


def _decode_heif(path: Path, max_pixels: int) -> Any:
    """A HEIC/HEIF image decoded by pillow-heif (with its HEVC decoder), as a libvips image.

    libheif decodes the whole picture (HEIF has no reduced-size decode): its planes and
    RGB buffer take about 4.5 bytes a pixel, 0.9 GiB for 200 MP. libvips reads that
    buffer in place (any row padding cropped away as a view, not packed into a copy),
    and the size is checked before decoding, so ``maxMegapixels`` bounds the memory.
    """
    import pillow_heif
    import pyvips

    try:
        heif = pillow_heif.open_heif(str(path), convert_hdr_to_8bit=True)
        width, height = heif.size
        if width * height > max_pixels:
            raise _too_large(path, width, height, max_pixels)
        bands = len(heif.mode)
        data = heif.data
        stride = heif.stride
    except (ValueError, OSError, RuntimeError) as error:
        raise PreviewError(f"{path}: cannot decode: {error}") from None
    rows = pyvips.Image.new_from_memory(data, stride, height, 1, "uchar")
    image = rows.crop(0, 0, width * bands, height).bandfold(factor=bands)
    image = image.copy(interpretation="srgb" if bands >= 3 else "b-w")
    icc = heif.info.get("icc_profile")
    if icc:
        image.set_type(pyvips.GValue.blob_type, "icc-profile-data", bytes(icc))
    return image


def _is_srgb_profile(profile: bytes) -> bool:
    """True for the sRGB profiles cameras embed: converting sRGB to sRGB is a costly no-op.

    A colour transform costs more than the whole rest of the preview pipeline, so it is
    done only for the profiles that need it (Display P3 of phones, Adobe RGB of cameras).
    """
    return b"sRGB" in profile or "sRGB".encode("utf-16-be") in profile


def _orient(image: Any, orientation: int) -> Any:
    """Applies an EXIF orientation (1-8) to a libvips image."""
    rotations = {3: "d180", 6: "d90", 8: "d270", 5: "d90", 7: "d270"}
    result = image
    if orientation in rotations:
        result = result.rot(rotations[orientation])
    if orientation in (2, 4, 5, 7):
        result = result.fliphor() if orientation != 4 else result.flipver()
    return result


def as_srgb(image: Any) -> Any:
    """8-bit sRGB without alpha: what every browser shows the same way."""
    import pyvips

    assert isinstance(image, pyvips.Image)
    if "icc-profile-data" in image.get_fields() and not _is_srgb_profile(
        image.get("icc-profile-data")
    ):
        image = image.icc_transform("srgb", embedded=True, intent="perceptual")
    if image.hasalpha():
        image = image.flatten(background=[255] * (image.bands - 1))
    if image.interpretation != "srgb" or image.format != "uchar":
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    if image.bands > 3:
        image = image.extract_band(0, n=3)
    return image


# --- Pillow ---------------------------------------------------------------------------------


class PillowEngine:
    """Previews with Pillow (or Pillow-SIMD where installed in its place).

    Pillow's libjpeg is libjpeg-turbo: of the JPEG settings it follows progressive,
    optimised coding and subsampling; trellis quantisation and the other quantisation
    tables need mozjpeg and are left out.
    """

    def __init__(self, max_pixels: int = 250_000_000, jpeg: PreviewJpeg | None = None) -> None:
        self.max_pixels = max_pixels
        self.jpeg = jpeg or PreviewJpeg()
        try:  # HEIC/AVIF support when the optional pillow-heif plugin is installed
            from pillow_heif import register_heif_opener

            register_heif_opener()
        except ImportError:
            pass

    def render(
        self, source: Source, sizes: Sequence[int], quality: int, orientation: int = 0
    ) -> list[tuple[int, bytes]]:
        """Pillow's pixel limit is a global: it is this engine's only while it renders."""
        from PIL import Image

        previous = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = self.max_pixels
        try:
            return self._render(source, sizes, quality, orientation)
        finally:
            Image.MAX_IMAGE_PIXELS = previous

    def _render(
        self, source: Source, sizes: Sequence[int], quality: int, orientation: int
    ) -> list[tuple[int, bytes]]:
        from PIL import Image, ImageOps, UnidentifiedImageError

        stream = io.BytesIO(source) if isinstance(source, bytes) else source
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(stream) as original:
                    width, height = original.size
                    targets = sizes_for(max(width, height), sizes)
                    first = targets[0]
                    scale = first / max(width, height)
                    original.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
                    original.load()
                    icc = original.info.get("icc_profile")
                    if orientation > 1:
                        original.getexif()[0x0112] = orientation
                    image = ImageOps.exif_transpose(original)
                    if icc and not _is_srgb_profile(icc):
                        image = _pillow_srgb(image, icc)
                    image = _pillow_rgb(image)
                    image.thumbnail((first, first), Image.Resampling.LANCZOS, reducing_gap=3.0)
                    results = [(first, _pillow_jpeg(image, quality, self.jpeg))]
                    for size in targets[1:]:
                        image = image.copy()
                        image.thumbnail((size, size), Image.Resampling.LANCZOS)
                        results.append((size, _pillow_jpeg(image, quality, self.jpeg)))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_large(source, *_pillow_size(source), self.max_pixels) from None
        except UnidentifiedImageError:
            raise PreviewError(
                f"{_name(source)}: not an image Pillow can read", "unsupported"
            ) from None
        except (OSError, SyntaxError, ValueError) as error:
            raise PreviewError(f"{_name(source)}: cannot decode: {error}") from None
        return results


def _pillow_size(source: Source) -> tuple[int, int]:
    from PIL import Image

    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            width, height = image.size
            return int(width), int(height)
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _pillow_srgb(image: Any, icc: bytes) -> Any:
    from PIL import Image, ImageCms

    assert isinstance(image, Image.Image)
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = "RGB" if image.mode not in ("RGBA", "LA") else "RGBA"
        converted = ImageCms.profileToProfile(
            image, profile, ImageCms.createProfile("sRGB"), outputMode=mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken profile: the pixels are still better shown than refused
    return converted if converted is not None else image


def _pillow_rgb(image: Any) -> Any:
    from PIL import Image

    assert isinstance(image, Image.Image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.point(lambda value: value / 256).convert("L")
    return image.convert("RGB") if image.mode != "RGB" else image


def _pillow_jpeg(image: Any, quality: int, jpeg: PreviewJpeg) -> bytes:
    from PIL import Image

    assert isinstance(image, Image.Image)
    limit = jpeg.optimize_max_size
    optimized = not limit or max(image.size) <= limit
    buffer = io.BytesIO()
    subsampling = {"auto": -1, "on": 2, "off": 0}[jpeg.subsample]
    image.save(
        buffer,
        "JPEG",
        quality=quality,
        optimize=jpeg.optimize_coding and optimized,
        progressive=jpeg.progressive and optimized,
        subsampling=subsampling,
    )
    return buffer.getvalue()


def make_engine(
    name: EngineName, max_pixels: int, jpeg: PreviewJpeg | None = None
) -> VipsEngine | PillowEngine:
    if name == "pillow":
        return PillowEngine(max_pixels, jpeg)
    return VipsEngine(max_pixels, jpeg)


def render_previews(
    engine: VipsEngine | PillowEngine,
    path: Path,
    sizes: Sequence[int],
    quality: int,
    raw: bool = False,
) -> list[tuple[int, bytes]]:
    """Previews of one file; RAW files go through their embedded JPEG."""
    if raw:
        data, orientation = embedded_raw_preview(path)
        return engine.render(data, sizes, quality, orientation)
    return engine.render(path, sizes, quality)
