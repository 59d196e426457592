"""Labels of several orders as one PDF to print: the marketplaces' PDFs page by page (pypdf), WB's
PNG stickers each on a page of their own (58 x 40 mm).

A PNG becomes a PDF image as it is: its IDAT stream is zlib data with PNG row filters, which PDF's
FlateDecode reads with /Predictor 15, so no image library is needed. Greyscale, RGB and palette
PNGs without interlacing are covered (what WB's stickers are); others are refused by name.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable
from dataclasses import dataclass

import pypdf

PDF = "application/pdf"
PNG = "image/png"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
STICKER_PAGE = (164.4, 113.4)  # 58 x 40 mm in points
COLOUR_SPACES = {0: ("/DeviceGray", 1), 2: ("/DeviceRGB", 3), 3: ("", 1)}


class LabelFormatError(ValueError):
    """A label file this module cannot put into the PDF."""


@dataclass(frozen=True)
class _Png:
    width: int
    height: int
    bit_depth: int
    colour_type: int
    palette: bytes
    data: bytes


def _read_png(content: bytes) -> _Png:
    if not content.startswith(PNG_SIGNATURE):
        raise LabelFormatError("not a PNG file")
    position, header, palette, data = len(PNG_SIGNATURE), b"", b"", bytearray()
    while position + 8 <= len(content):
        length, kind = struct.unpack(">I4s", content[position : position + 8])
        body = content[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"PLTE":
            palette = body
        elif kind == b"IDAT":
            data += body
        elif kind == b"IEND":
            break
    if len(header) != 13 or not data:
        raise LabelFormatError("a PNG without its header or image data")
    width, height, bit_depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if colour_type not in COLOUR_SPACES or interlace or bit_depth not in (1, 2, 4, 8):
        raise LabelFormatError(f"PNG colour type {colour_type} / interlace {interlace} is not supported")
    return _Png(width, height, bit_depth, colour_type, palette, bytes(data))


def png_to_pdf(content: bytes, page: tuple[float, float] = STICKER_PAGE) -> bytes:
    """A one-page PDF showing the PNG fitted into `page` (width, height in points)."""
    png = _read_png(content)
    space, colours = COLOUR_SPACES[png.colour_type]
    if png.colour_type == 3:
        space = f"[/Indexed /DeviceRGB {len(png.palette) // 3 - 1} <{png.palette.hex()}>]"
    scale = min(page[0] / png.width, page[1] / png.height)
    shown_w, shown_h = png.width * scale, png.height * scale
    left, bottom = (page[0] - shown_w) / 2, (page[1] - shown_h) / 2
    drawing = f"q {shown_w:.2f} 0 0 {shown_h:.2f} {left:.2f} {bottom:.2f} cm /Im1 Do Q".encode()
    image = (
        f"<< /Type /XObject /Subtype /Image /Width {png.width} /Height {png.height} /ColorSpace {space} "
        f"/BitsPerComponent {png.bit_depth} /Filter /FlateDecode /DecodeParms << /Predictor 15 "
        f"/Colors {colours} /BitsPerComponent {png.bit_depth} /Columns {png.width} >> "
        f"/Length {len(png.data)} >>\nstream\n"
    ).encode() + png.data + b"\nendstream"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {page[0]} {page[1]}] "
        f"/Resources << /XObject << /Im1 4 0 R >> >> /Contents 5 0 R >>".encode(),
        image,
        b"<< /Length %d >>\nstream\n" % len(drawing) + drawing + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def merge_labels(files: Iterable[tuple[bytes, str]]) -> tuple[bytes, int]:
    """One PDF of every (content, content type) in order, and its page count."""
    writer = pypdf.PdfWriter()
    for content, content_type in files:
        pdf = png_to_pdf(content) if content_type == PNG else content
        if not pdf.startswith(b"%PDF"):
            raise LabelFormatError(f"a label of type {content_type or 'unknown'} is neither PDF nor PNG")
        writer.append(pypdf.PdfReader(io.BytesIO(pdf)))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue(), len(writer.pages)
