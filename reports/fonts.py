"""The CJK font embedded in every printed document.

A notice must print the same on any printer and open in any viewer, so the font is embedded,
and reportlab embeds only TrueType outlines (it refuses CFF/OpenType-outline fonts such as
Noto CJK). The font comes from `[reports] font_file`, else the first of the standard places
below that exists (Debian packages named beside each).
"""
from __future__ import annotations

from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from ledger.core.errors import LedgerError

FONT_NAME = "FundtrailCJK"
STANDARD_PLACES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",    # fonts-wqy-microhei (Apache-2.0)
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",      # fonts-wqy-zenhei
    "/usr/share/fonts/truetype/arphic/uming.ttc",        # fonts-arphic-uming
    "/usr/share/fonts/truetype/lxgw/LXGWWenKai-Regular.ttf",  # fonts-lxgw-wenkai
)
# Every notice needs these: digits, the yuan sign, 大写 digits and full-width punctuation.
REQUIRED_GLYPHS = "0123456789,.¥元零壹贰叁肆伍陆柒捌玖拾佰仟万亿整角分（）：；、"


class FontError(LedgerError):
    """No usable TrueType CJK font."""


_registered: dict[str, str] = {}


def find_font(configured: str = "") -> Path:
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise FontError(f"[reports] font_file {configured!r} does not exist")
        return path
    for place in STANDARD_PLACES:
        if Path(place).is_file():
            return Path(place)
    raise FontError("no TrueType CJK font found: install the Debian package fonts-wqy-microhei "
                    "(apt-get install fonts-wqy-microhei) or set [reports] font_file to a "
                    "TrueType (not CFF/OpenType-outline) font such as wqy-microhei.ttc")


def register_font(configured: str = "") -> str:
    """Register the font once per process and return its reportlab name."""
    path = find_font(configured)
    key = str(path.resolve())
    if key in _registered:
        return _registered[key]
    try:
        font = TTFont(FONT_NAME + str(len(_registered)), str(path), subfontIndex=0)
    except TTFError as exc:
        raise FontError(f"{path} cannot be embedded: {exc} (use a TrueType-outline font such "
                        "as wqy-microhei.ttc)") from None
    missing = [ch for ch in REQUIRED_GLYPHS if ord(ch) not in font.face.charToGlyph]
    if missing:
        raise FontError(f"{path} lacks glyphs for {''.join(missing)}: amounts would print blank")
    pdfmetrics.registerFont(font)
    _registered[key] = font.fontName
    return font.fontName
