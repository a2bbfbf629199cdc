"""Cover art: checking a user's upload, and drawing a clean default from a title (Pillow).

Podcast directories want square artwork of 1400 to 3000 pixels, JPEG or PNG, RGB. An
upload outside that is refused, not silently fixed, so the user knows what the apps will
show. The default is drawn at 1400 px with the font Pillow ships (`load_default(size=)`
is a FreeType font in Pillow >= 10.1), so no font file has to be installed.
"""

from __future__ import annotations

import hashlib
import io
import textwrap
import warnings

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

MIN_SIDE = 1400
MAX_SIDE = 3000
DEFAULT_SIDE = 1400
FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png")}

# Background, accent: calm colours with white text readable on all of them.
PALETTES = [
    ((43, 89, 195), (255, 196, 61)),
    ((24, 110, 96), (250, 214, 120)),
    ((120, 45, 110), (255, 170, 120)),
    ((32, 40, 64), (110, 200, 255)),
    ((160, 62, 40), (255, 226, 160)),
    ((60, 60, 60), (240, 120, 90)),
]


class ImageRejected(Exception):
    """An upload is not usable cover art; the message says why."""


def image_inspect(data: bytes) -> tuple[bytes, str, str]:
    """Check an upload; return (stored bytes, extension, content type).

    The stored image is re-encoded as an RGB JPEG without metadata: a PNG with
    transparency or a palette, or a CMYK JPEG, would reach apps that cannot show them, and
    one format keeps every artwork URL ending in .jpg as Apple asks.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            kind = image.format
            width, height = image.size
            if kind not in FORMATS:
                raise ImageRejected("The image must be a JPEG or PNG file")
            if width != height:
                raise ImageRejected(f"The image must be square (it is {width}x{height})")
            if not MIN_SIDE <= width <= MAX_SIDE:
                raise ImageRejected(
                    f"The image must be {MIN_SIDE} to {MAX_SIDE} pixels wide (it is {width})"
                )
            image.load()  # decodes every pixel: a truncated or damaged file fails here
    except ImageRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Warning) as exc:
        raise ImageRejected("The file is not a readable JPEG or PNG image") from exc
    except Image.DecompressionBombError as exc:
        raise ImageRejected("The image is too large") from exc
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent parts over white, as most apps would show them, not over black.
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        image = background
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=92, optimize=True)
    return out.getvalue(), "jpg", "image/jpeg"


def _fit_text(
    draw: ImageDraw.ImageDraw, title: str, box: int
) -> tuple[ImageFont.FreeTypeFont, str]:
    """The largest font size at which the wrapped title fits a `box`-pixel square."""
    for size in range(180, 40, -10):
        font = ImageFont.load_default(size=size)
        average = font.getlength("abcdefghijklmnopqrstuvwxyz") / 26
        width = max(int(box / average), 4)
        text = "\n".join(textwrap.wrap(title, width=width, break_long_words=True)[:6])
        left, top, right, bottom = draw.multiline_textbbox((0, 0), text, font=font, spacing=20)
        if right - left <= box and bottom - top <= box:
            return font, text
    return font, text


def artwork_draw(title: str, *, brand: str = "PodNex", side: int = DEFAULT_SIDE) -> bytes:
    """A square JPEG: the title in large white type on a colour picked from the title."""
    title = " ".join((title or "Podcast").split()) or "Podcast"
    digest = hashlib.sha256(title.encode("utf-8")).digest()
    background, accent = PALETTES[digest[0] % len(PALETTES)]
    image = Image.new("RGB", (side, side), background)
    draw = ImageDraw.Draw(image)
    margin = side // 10
    # A bold accent band at the top and a thin one under the brand: calm and recognisable.
    draw.rectangle((0, 0, side, margin // 2), fill=accent)
    font, text = _fit_text(draw, title, side - 2 * margin)
    left, top, right, bottom = draw.multiline_textbbox((0, 0), text, font=font, spacing=20)
    x = margin - left
    y = (side - (bottom - top)) // 2 - top
    draw.multiline_text((x, y), text, font=font, fill=(255, 255, 255), spacing=20)
    brand_font = ImageFont.load_default(size=side // 20)
    draw.text((margin, side - margin - side // 20), brand, font=brand_font, fill=accent)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88, optimize=True)
    return out.getvalue()


def content_type_of(data: bytes) -> str:
    """image/png or image/jpeg, from the bytes (the only two kinds PodNex stores)."""
    return "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
