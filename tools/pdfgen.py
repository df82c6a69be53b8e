#!/usr/bin/env python3
"""pdfgen.py - generate simple text PDFs (PDF 1.4) with the Python standard library only.

Usage:
    python3 tools/pdfgen.py SOURCE.txt OUTPUT.pdf [--compress] [--font-size N]

Source format (UTF-8 text):
    * The first line is the document title. It is drawn in bold at the top of
      page 1 and stored as /Title in the document information dictionary.
    * A line consisting of exactly "=== page ===" starts a new page.
    * Paragraphs are separated by blank lines; the lines of a paragraph are
      joined with single spaces and re-wrapped to the page width.
    * A line starting with "## " is a heading (bold, on its own line).
    * A line starting with "- " is a bullet item (its own paragraph, indented).

Output details:
    * Fonts are the standard Type1 fonts Helvetica and Helvetica-Bold with
      /WinAnsiEncoding, so nothing is embedded. Text is converted to cp1252;
      characters outside it become "?".
    * Every page gets a "Page N of M" footer.
    * Content streams are uncompressed unless --compress is given (FlateDecode).
    * The xref table is written with exact byte offsets; output is deterministic
      (no dates, no random /ID) so regenerating gives identical bytes.
    * A source page that does not fit on one physical page is an error: page
      numbers must stay under the author's control so that tests can rely on
      "fact X is on page 2".

The PdfWriter class is also used by tools/make_fixtures.py.
"""

import argparse
import sys
import unicodedata
import zlib

PAGE_BREAK = "=== page ==="

# A4 portrait, in points.
PAGE_WIDTH = 595
PAGE_HEIGHT = 842
MARGIN_LEFT = 72
MARGIN_RIGHT = 72
MARGIN_TOP = 72
MARGIN_BOTTOM = 80
FOOTER_Y = 40

# Advance widths (1/1000 em) of the standard Helvetica faces for the
# characters this tool is likely to meet. Unknown characters fall back to
# the width of their base letter (for accented letters) or DEFAULT_WIDTH.
DEFAULT_WIDTH = 556

_REGULAR = {
    " ": 278, "!": 278, '"': 355, "#": 556, "$": 556, "%": 889, "&": 667,
    "'": 191, "(": 333, ")": 333, "*": 389, "+": 584, ",": 278, "-": 333,
    ".": 278, "/": 278, ":": 278, ";": 278, "<": 584, "=": 584, ">": 584,
    "?": 556, "@": 1015, "[": 278, "\\": 278, "]": 278, "^": 469, "_": 556,
    "`": 333, "{": 334, "|": 260, "}": 334, "~": 584,
    "\u2018": 222, "\u2019": 222, "\u201c": 333, "\u201d": 333,
    "\u2013": 556, "\u2014": 1000, "\u2022": 350, "\u2026": 1000, "\u20ac": 556,
    "\u00a3": 556, "\u00b0": 400,
}
_REGULAR.update(dict(zip("0123456789", [556] * 10)))
_REGULAR.update(dict(zip(
    "abcdefghijklmnopqrstuvwxyz",
    [556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833,
     556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500])))
_REGULAR.update(dict(zip(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    [667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833,
     722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611])))

_BOLD = dict(_REGULAR)
_BOLD.update({
    "!": 333, '"': 474, "'": 238, ":": 333, ";": 333, "?": 611,
    "\u2018": 278, "\u2019": 278, "\u201c": 500, "\u201d": 500,
})
_BOLD.update(dict(zip(
    "abcdefghijklmnopqrstuvwxyz",
    [556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889,
     611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500])))
_BOLD.update(dict(zip(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    [722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833,
     722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611])))

FONTS = {
    # resource name: (BaseFont, width table)
    "F1": ("Helvetica", _REGULAR),
    "F2": ("Helvetica-Bold", _BOLD),
}


def char_width(ch, table):
    if ch in table:
        return table[ch]
    base = unicodedata.normalize("NFD", ch)[:1]
    if base and base in table:
        return table[base]
    return DEFAULT_WIDTH


def text_width(text, font, size):
    table = FONTS[font][1]
    return sum(char_width(c, table) for c in text) * size / 1000.0


def pdf_string(text):
    """Encode text as a PDF literal string in WinAnsiEncoding.

    ( ) and backslash are escaped; bytes outside printable ASCII are written
    as octal escapes so the file body stays 7-bit clean.
    """
    raw = text.encode("cp1252", errors="replace")
    out = bytearray(b"(")
    for b in raw:
        if b in (0x28, 0x29, 0x5C):  # ( ) \
            out += b"\\" + bytes([b])
        elif b < 0x20 or b > 0x7E:
            out += b"\\%03o" % b
        else:
            out.append(b)
    out += b")"
    return bytes(out)


def pdf_name_string(text):
    """A PDF text string for the info dictionary (PDFDocEncoding ~ Latin-1)."""
    return pdf_string(text)


def wrap(text, font, size, max_width):
    """Greedy word wrap. Words longer than a line are put on a line alone."""
    lines = []
    current = ""
    for word in text.split():
        candidate = word if not current else current + " " + word
        if current and text_width(candidate, font, size) > max_width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


class PdfWriter:
    """Minimal PDF object writer: numbered indirect objects, xref, trailer."""

    def __init__(self, version="1.4"):
        self.version = version
        self.objects = []

    def reserve(self):
        self.objects.append(None)
        return len(self.objects)

    def set(self, num, body):
        self.objects[num - 1] = body

    def add(self, body):
        self.objects.append(body)
        return len(self.objects)

    @staticmethod
    def stream(data, extra=b"", compress=False):
        if compress:
            data = zlib.compress(data, 9)
            extra = extra + b" /Filter /FlateDecode"
        head = b"<<" + extra + b" /Length %d >>\nstream\n" % len(data)
        return head + data + b"\nendstream"

    def serialize(self, root, info=None):
        if any(body is None for body in self.objects):
            raise ValueError("reserved object never filled in")
        out = bytearray(b"%PDF-" + self.version.encode("ascii") + b"\n")
        # Binary comment line so transfer tools treat the file as binary.
        out += b"%\xe2\xe3\xcf\xd3\n"
        offsets = []
        for num, body in enumerate(self.objects, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % num
            out += body
            out += b"\nendobj\n"
        xref_at = len(out)
        count = len(self.objects) + 1
        out += b"xref\n0 %d\n" % count
        out += b"0000000000 65535 f \n"  # every entry is exactly 20 bytes
        for off in offsets:
            out += b"%010d 00000 n \n" % off
        out += b"trailer\n<< /Size %d /Root %d 0 R" % (count, root)
        if info is not None:
            out += b" /Info %d 0 R" % info
        out += b" >>\nstartxref\n%d\n%%%%EOF\n" % xref_at
        return bytes(out)


def parse_source(text):
    """Return (title, pages); each page is a list of blocks (kind, text)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not lines or not lines[0].strip():
        raise ValueError("the first line of the source must be the title")
    title = lines[0].strip()
    pages = [[]]
    para = []

    def flush():
        if para:
            pages[-1].append(("para", " ".join(para)))
            para.clear()

    for line in lines[1:]:
        stripped = line.strip()
        if stripped == PAGE_BREAK:
            flush()
            pages.append([])
        elif not stripped:
            flush()
        elif stripped.startswith("## "):
            flush()
            pages[-1].append(("heading", stripped[3:].strip()))
        elif stripped.startswith("- "):
            flush()
            pages[-1].append(("bullet", stripped[2:].strip()))
        else:
            para.append(stripped)
    flush()
    # A separator right after the title would otherwise give an empty page 1.
    if not pages[0] and len(pages) > 1:
        pages.pop(0)
    return title, pages


def layout_page(blocks, page_no, page_count, title=None, body_size=11):
    """Build the content stream for one page. Raises if it overflows."""
    ops = []
    y = PAGE_HEIGHT - MARGIN_TOP
    width = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    leading = body_size * 1.35

    def line(font, size, x, text):
        ops.append(b"BT /%s %g Tf %g %g Td %s Tj ET" % (
            font.encode(), size, x, y, pdf_string(text)))

    if title is not None:
        for t in wrap(title, "F2", 16, width):
            line("F2", 16, MARGIN_LEFT, t)
            y -= 21
        y -= 10

    for kind, text in blocks:
        if kind == "heading":
            y -= 4
            for t in wrap(text, "F2", body_size + 1, width):
                line("F2", body_size + 1, MARGIN_LEFT, t)
                y -= leading + 1
            y -= 3
        elif kind == "bullet":
            indent = 16
            wrapped = wrap(text, "F1", body_size, width - indent)
            for i, t in enumerate(wrapped):
                if i == 0:
                    line("F1", body_size, MARGIN_LEFT + 4, "\u2022")
                line("F1", body_size, MARGIN_LEFT + indent, t)
                y -= leading
            y -= 3
        else:
            for t in wrap(text, "F1", body_size, width):
                line("F1", body_size, MARGIN_LEFT, t)
                y -= leading
            y -= 7
        if y + leading < MARGIN_BOTTOM:
            raise ValueError(
                "source page %d does not fit on one PDF page; "
                "split it with another '%s' line" % (page_no, PAGE_BREAK))

    footer = "Page %d of %d" % (page_no, page_count)
    fx = (PAGE_WIDTH - text_width(footer, "F1", 9)) / 2
    ops.append(b"BT /F1 9 Tf %g %g Td %s Tj ET" % (fx, FOOTER_Y, pdf_string(footer)))
    return b"\n".join(ops) + b"\n"


def build_pdf(title, pages, compress=False, body_size=11):
    w = PdfWriter()
    catalog = w.reserve()
    pages_obj = w.reserve()
    font_objs = {}
    for res, (base, _) in FONTS.items():
        font_objs[res] = w.add(
            b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>"
            % base.encode())
    font_dict = b"<< " + b" ".join(
        b"/%s %d 0 R" % (res.encode(), num) for res, num in font_objs.items()) + b" >>"

    kids = []
    for i, blocks in enumerate(pages, start=1):
        content = layout_page(blocks, i, len(pages),
                              title=title if i == 1 else None, body_size=body_size)
        content_obj = w.add(PdfWriter.stream(content, compress=compress))
        page_obj = w.add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] "
            b"/Resources << /Font %s /ProcSet [/PDF /Text] >> /Contents %d 0 R >>"
            % (pages_obj, PAGE_WIDTH, PAGE_HEIGHT, font_dict, content_obj))
        kids.append(page_obj)

    w.set(pages_obj, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids)))
    w.set(catalog, b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj)
    info = w.add(b"<< /Title %s /Producer (SocioGraph tools/pdfgen.py) >>"
                 % pdf_name_string(title))
    return w.serialize(catalog, info)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Generate a simple text PDF from a source .txt file.")
    ap.add_argument("source", help="UTF-8 source file (first line = title, '=== page ===' separates pages)")
    ap.add_argument("output", help="PDF file to write")
    ap.add_argument("--compress", action="store_true", help="Flate-compress the page content streams")
    ap.add_argument("--font-size", type=float, default=11, help="body text size in points (default 11)")
    args = ap.parse_args(argv)

    with open(args.source, encoding="utf-8") as f:
        title, pages = parse_source(f.read())
    if not any(pages):
        print("pdfgen: source has no body text", file=sys.stderr)
        return 1
    try:
        data = build_pdf(title, pages, compress=args.compress, body_size=args.font_size)
    except ValueError as e:
        print("pdfgen: %s: %s" % (args.source, e), file=sys.stderr)
        return 1
    with open(args.output, "wb") as f:
        f.write(data)
    print("pdfgen: wrote %s (%d pages, %d bytes)" % (args.output, len(pages), len(data)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
