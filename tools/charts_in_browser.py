#!/usr/bin/env python3
"""charts_in_browser.py SNAPSHOT_DIR [SCREENSHOT.png]

Loads every committed widget chart (the SVG snapshots the unit tests pin) in
headless Chromium, one page showing them all, and checks that each one loaded
(a malformed SVG fails to load as an image, and its natural width is 0) and
that the screenshot is not blank. Writes the screenshot where asked (the one
in docs/ is made this way), else to a temporary folder. Exit 1 on any failure.
"""
import glob
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser():
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    sys.exit("no Chromium found (apt-get install -y chromium)")


def page(names):
    imgs = "\n".join(
        f'<figure><img src="{n}" width="640" height="400" alt="{n}"><figcaption>{n}</figcaption></figure>'
        for n in names
    )
    return f"""<!doctype html><html><head><meta charset="utf-8"><style>
body {{ margin: 0; background: #eeeeee; font: 14px sans-serif; }}
main {{ display: grid; grid-template-columns: repeat(2, 640px); gap: 12px; padding: 12px; }}
figure {{ margin: 0; }} figcaption {{ color: #555; padding: 4px 0; }}
</style></head><body><main>{imgs}</main><p id="verdict">waiting</p><script>
addEventListener("load", () => {{
  const imgs = [...document.images];
  const bad = imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.alt);
  document.getElementById("verdict").textContent =
    bad.length ? "charts-failed " + bad.join(",") : "charts-ok " + imgs.length;
}});
</script></body></html>"""


def png_pixels(path):
    """(width, height, fraction of pixels that are not background): a
    minimal PNG reader for Chromium's 8-bit RGB(A) non-interlaced output."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, "unexpected PNG kind"
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    prev = bytearray(stride)
    drawn = 0
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        # Ink: a pixel far from both the page's grey and the charts' white.
        for px in range(0, stride, channels):
            r, g, b = line[px], line[px + 1], line[px + 2]
            if min(r, g, b) < 200:
                drawn += 1
        prev = line
    return width, height, drawn / (width * height)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    snapshots = sorted(glob.glob(os.path.join(sys.argv[1], "*.svg")))
    if not snapshots:
        sys.exit(f"no SVG snapshots in {sys.argv[1]}")
    work = tempfile.mkdtemp(prefix="charts-")
    try:
        names = []
        for path in snapshots:
            name = os.path.basename(path)
            shutil.copy(path, os.path.join(work, name))
            names.append(name)
        html = os.path.join(work, "charts.html")
        open(html, "w").write(page(names))
        shot = sys.argv[2] if len(sys.argv) == 3 else os.path.join(work, "charts.png")
        rows = (len(names) + 1) // 2
        size = f"--window-size=1308,{rows * 442 + 60}"
        common = [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                  "--allow-file-access-from-files", "--virtual-time-budget=5000", size]
        dom = subprocess.run(common + ["--dump-dom", "file://" + html],
                             capture_output=True, text=True, timeout=120).stdout
        verdict = next((l for l in dom.splitlines() if "charts-" in l and "verdict" in l), "")
        if f"charts-ok {len(names)}" not in verdict:
            sys.exit(f"charts did not all load: {verdict or dom[-500:]}")
        subprocess.run(common + ["--screenshot=" + os.path.abspath(shot), "file://" + html],
                       capture_output=True, timeout=120, check=True)
        width, height, ink = png_pixels(shot)
        if ink < 0.02:
            sys.exit(f"the screenshot {shot} is blank ({ink:.1%} drawn)")
        print(f"{len(names)} charts loaded in Chromium; screenshot {width}x{height}, {ink:.1%} drawn: {shot}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
