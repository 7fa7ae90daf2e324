"""`edgelint model --format html`: one self-contained page, opened in headless Chromium; the
screenshot shows the diagram (route and hot-spot boxes) and the tables (their header cells)."""
from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from typing import Counter, Tuple

import pytest

from tests.helpers import FIXTURES

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
# Colours the page draws with (edgelint/costmodel/render_html.py), and the least area each must cover.
ROUTE_BOX, HOT_BOX, TABLE_HEADER = (0xE8, 0xF0, 0xFE), (0xFD, 0xE8, 0xE8), (0xDA, 0xDC, 0xE0)


def test_page_is_self_contained(tmp_path, run_cli):
    page = tmp_path / "model.html"
    code, _, err = run_cli("model", str(FIXTURES / "demo-worker"), "--format", "html", "-o", str(page))
    assert code == 0, err
    html = page.read_text(encoding="utf-8")
    assert "<svg" in html and "<table>" in html and "/views/*" in html
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "") \
        and "https://" not in html


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (.ci/run installs Debian's chromium)")
def test_chromium_screenshot_shows_the_diagram_and_the_tables(tmp_path, run_cli):
    page, shot = tmp_path / "model.html", tmp_path / "model.png"
    code, _, err = run_cli("model", str(FIXTURES / "demo-worker"), "--format", "html", "--traffic", "100",
                           "-o", str(page))
    assert code == 0, err
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={shot}", "--window-size=1700,1400", page.as_uri()],
                   capture_output=True, timeout=180, check=True)
    colours = pixel_colours(shot.read_bytes())
    assert colours[ROUTE_BOX] > 20 * 300  # the route boxes (300 x 34 pixels each, 18 routes)
    assert colours[HOT_BOX] > 4 * 300  # the hot keys and single objects
    assert colours[TABLE_HEADER] > 2_000  # the header row of the first tables


def pixel_colours(png: bytes) -> Counter[Tuple[int, int, int]]:
    """How many pixels of each RGB colour an 8-bit RGB or RGBA PNG has (no imaging library needed)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, data, header = 8, b"", None
    while position < len(png):
        length, kind = struct.unpack(">I4s", png[position:position + 8])
        chunk = png[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            data += chunk
        position += 12 + length
    width, height, depth, colour_type = header[:4]
    assert depth == 8 and colour_type in (2, 6), header
    channels = 3 if colour_type == 2 else 4
    rows = _unfiltered(zlib.decompress(data), width * channels, height, channels)
    counts: Counter[Tuple[int, int, int]] = Counter()
    for row in rows:
        counts.update(zip(row[0::channels], row[1::channels], row[2::channels]))
    return counts


def _unfiltered(raw: bytes, stride: int, height: int, bpp: int):
    """The scanlines with PNG's per-line filters (none, sub, up, average, Paeth) undone."""
    previous = bytearray(stride)
    for index in range(height):
        start = index * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                line[i] = (line[i] + _paeth(left, up, corner)) & 0xFF
        yield bytes(line)
        previous = line


def _paeth(left: int, up: int, corner: int) -> int:
    estimate = left + up - corner
    distances = (abs(estimate - left), abs(estimate - up), abs(estimate - corner))
    return (left, up, corner)[distances.index(min(distances))]
