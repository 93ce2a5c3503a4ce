"""Real tools on real PDFs: poppler renders and extracts, zbar reads the QR from the image."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path


def flat(value: str) -> str:
    """Without whitespace: pdftotext adds and drops spaces between CJK and digits freely."""
    return re.sub(r"\s", "", value)


def text(pdf: Path, page: int | None = None, layout: bool = True) -> str:
    args = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else [])
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    return subprocess.run([*args, str(pdf), "-"], capture_output=True, check=True,
                          timeout=120).stdout.decode("utf-8")


def pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True, text=True,
                          timeout=60).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M)[1])


def page_size_pt(pdf: Path) -> tuple[float, float]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True, text=True,
                          timeout=60).stdout
    m = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
    return float(m[1]), float(m[2])


def png(pdf: Path, page: int, dpi: int = 150) -> Path:
    prefix = pdf.with_name(f"{pdf.stem}-p{page}")
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", "-f", str(page),
                    "-l", str(page), str(pdf), str(prefix)], check=True, timeout=120)
    return prefix.with_suffix(".png")


def qr_text(image: Path) -> str:
    """The QR's text as zbar reads it from the rendered page ('' if there is none)."""
    result = subprocess.run(["zbarimg", "--raw", "-q", "-Sdisable", "-Sqrcode.enable",
                             str(image)], capture_output=True, timeout=120)
    return result.stdout.decode("utf-8").strip()


def word_heights(pdf: Path, page: int = 1) -> list[tuple[str, float]]:
    """(word, box height in points) of every word on a page, from pdftotext -bbox."""
    html = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf),
                           "-"], capture_output=True, check=True, timeout=120).stdout.decode()
    return [(w, float(y2) - float(y1)) for y1, y2, w in re.findall(
        r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>',
        html)]
