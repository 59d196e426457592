"""Small real documents the sandbox answers with: a one-page PDF label per parcel and a PNG sticker.

Written by hand (no PDF or image library): a PDF of a few objects with a correct xref table, and
an 8-bit greyscale PNG, both valid for any reader and small enough for tests.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence


def _escape(text: str) -> str:
    ascii_only = text.encode("ascii", "replace").decode()  # the base-14 fonts have no Cyrillic
    return ascii_only.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def label_pdf(pages: Sequence[Sequence[str]], width: int = 283, height: int = 425) -> bytes:
    """A PDF with one page (75 x 120 mm by default) per entry, each showing its lines of text."""
    objects: list[bytes] = []
    page_ids = [3 + 2 * n for n in range(len(pages))]
    font_id = 3 + 2 * len(pages)
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    for pid, lines in zip(page_ids, pages, strict=True):
        text = "".join(f"1 0 0 1 20 {height - 40 - 24 * n} Tm ({_escape(line)}) Tj " for n, line in enumerate(lines))
        stream = f"BT /F1 14 Tf {text}ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {pid + 1} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def sticker_png(number: int, width: int = 58 * 4, height: int = 40 * 4) -> bytes:
    """A greyscale PNG with a bar pattern drawn from `number` (a stand-in for WB's barcode sticker)."""
    bits = f"{number:b}".rjust(32, "0")
    bar = max(1, width // (len(bits) + 4))
    row = bytearray(255 for _ in range(width))
    for n, bit in enumerate(bits):
        if bit == "1":
            start = (n + 2) * bar
            row[start : start + bar] = bytes(min(bar, width - start))
    raw = b"".join(b"\x00" + bytes(row) if 8 <= y < height - 8 else b"\x00" + b"\xff" * width for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b"")
