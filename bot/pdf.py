"""A one-page PDF writer: enough for a printable card (text, rectangles, a QR code).

Written by hand because the card needs only a handful of PDF operators and no
dependency beyond segno is installed for it. Text uses the standard Type 1
fonts with WinAnsiEncoding (cp1252), which every PDF reader has built in and
which covers Italian accented letters and the euro sign.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

A4 = (595.28, 841.89)
MM = 72 / 25.4

FONTS = {"regular": b"Helvetica", "bold": b"Helvetica-Bold", "mono": b"Courier-Bold"}
_FONT_NAMES = {"regular": b"F1", "bold": b"F2", "mono": b"F3"}
# Average advance of a character, as a fraction of the font size: used only to
# wrap lines, so it errs on the wide side (Helvetica's widest common letters).
_AVERAGE_WIDTH = {"regular": 0.52, "bold": 0.56, "mono": 0.60}


def _number(value: float) -> bytes:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return (text if text not in ("", "-0") else "0").encode()


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    out = bytearray(b"(")
    for byte in raw:
        if byte in b"()\\":
            out += b"\\" + bytes([byte])
        elif byte < 32 or byte == 127:
            out += b"\\%03o" % byte
        else:
            out.append(byte)
    return bytes(out + b")")


def text_width(text: str, font: str, size: float) -> float:
    return len(text) * size * _AVERAGE_WIDTH[font]


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}".strip()
            if line and text_width(candidate, font, size) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


@dataclass
class Page:
    """Drawing operations in PDF user space (points, origin at the bottom left)."""

    width: float = A4[0]
    height: float = A4[1]
    title: str = ""
    _ops: list[bytes] = field(default_factory=list)

    def text(
        self, x: float, y: float, text: str, *, font: str = "regular", size: float = 10
    ) -> None:
        self._ops.append(
            b"BT /%s %s Tf %s %s Td %s Tj ET"
            % (_FONT_NAMES[font], _number(size), _number(x), _number(y), _pdf_string(text))
        )

    def fill_rect(self, x: float, y: float, w: float, h: float) -> None:
        self._ops.append(b"%s %s %s %s re f" % (_number(x), _number(y), _number(w), _number(h)))

    def stroke_rect(
        self, x: float, y: float, w: float, h: float, *, dash: float = 0, line: float = 0.5
    ) -> None:
        pattern = b"[%s] 0 d" % _number(dash) if dash else b"[] 0 d"
        self._ops.append(
            b"q %s w %s %s %s %s %s re S Q"
            % (_number(line), pattern, _number(x), _number(y), _number(w), _number(h))
        )

    def content(self) -> bytes:
        return b"\n".join(self._ops)

    def to_pdf(self) -> bytes:
        stream = zlib.compress(self.content(), 9)
        fonts = b" ".join(
            b"/%s %d 0 R" % (_FONT_NAMES[name], 4 + index) for index, name in enumerate(FONTS)
        )
        objects = [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Resources << /Font << %s >> >>"
            b" /Contents 7 0 R >>" % (_number(self.width), _number(self.height), fonts),
            *(
                b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>" % base
                for base in FONTS.values()
            ),
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream),
            b"<< /Title %s /Producer (buonispesa) >>" % _pdf_string(self.title),
        ]
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(objects, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        for offset in offsets:
            out += b"%010d 00000 n \n" % offset
        out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
            len(objects) + 1,
            len(objects),
            xref,
        )
        return bytes(out)
