#!/usr/bin/env python3
"""make_fixtures.py - (re)build the files in testdata/good/ and testdata/bad/.

Usage (from the repository root):
    python3 tools/make_fixtures.py

Standard library only, except that encrypted.pdf needs the `qpdf` command
(Debian package qpdf). If qpdf is missing, that one file is skipped and the
existing copy is left alone. Everything else is deterministic, so re-running
the script reproduces identical bytes (qpdf output differs on every run
because the encryption key and /ID are random).
"""

import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import pdfgen  # noqa: E402

GOOD = os.path.join(ROOT, "testdata", "good")
BAD = os.path.join(ROOT, "testdata", "bad")


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    print("wrote %s (%d bytes)" % (os.path.relpath(path, ROOT), len(data)))


def three_pages():
    with open(os.path.join(GOOD, "three-pages.txt"), encoding="utf-8") as f:
        title, pages = pdfgen.parse_source(f.read())
    return pdfgen.build_pdf(title, pages)


def blank_pdf():
    """One A4 page with no /Contents at all and empty resources."""
    w = pdfgen.PdfWriter()
    catalog = w.reserve()
    pages = w.reserve()
    page = w.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Resources << >> >>" % pages)
    w.set(pages, b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page)
    w.set(catalog, b"<< /Type /Catalog /Pages %d 0 R >>" % pages)
    return w.serialize(catalog)


def image_only_pdf():
    """One page that paints a 64x64 grey gradient image and has no text operators."""
    size = 64
    pixels = bytes(
        (80 + (x + y) * 80 // (2 * size - 2)) & 0xFF
        for y in range(size) for x in range(size))
    w = pdfgen.PdfWriter()
    catalog = w.reserve()
    pages = w.reserve()
    image = w.add(pdfgen.PdfWriter.stream(
        pixels,
        extra=b" /Type /XObject /Subtype /Image /Width %d /Height %d"
              b" /ColorSpace /DeviceGray /BitsPerComponent 8" % (size, size),
        compress=True))
    # Scale the unit square to a 300x300 pt box roughly centred on the page.
    content = w.add(pdfgen.PdfWriter.stream(b"q 300 0 0 300 147 271 cm /Im1 Do Q\n"))
    page = w.add(
        b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /XObject << /Im1 %d 0 R >> /ProcSet [/PDF /ImageB] >> "
        b"/Contents %d 0 R >>" % (pages, image, content))
    w.set(pages, b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page)
    w.set(catalog, b"<< /Type /Catalog /Pages %d 0 R >>" % pages)
    return w.serialize(catalog)


def self_form_pdf():
    """One page drawing a Form XObject whose own resources name itself: `/Fm0 Do` inside /Fm0.
    A renderer that follows forms without a cycle check recurses until the stack overflows."""
    w = pdfgen.PdfWriter()
    catalog = w.reserve()
    pages = w.reserve()
    form = w.reserve()
    body = b"BT /F1 12 Tf 72 720 Td (loop) Tj ET /Fm0 Do\n"
    w.set(form, b"<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] "
                b"/Resources << /XObject << /Fm0 %d 0 R >> >> /Length %d >>\nstream\n%s\nendstream"
          % (form, len(body), body))
    content = w.add(pdfgen.PdfWriter.stream(b"/Fm0 Do\n"))
    page = w.add(
        b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /XObject << /Fm0 %d 0 R >> >> /Contents %d 0 R >>" % (pages, form, content))
    w.set(pages, b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page)
    w.set(catalog, b"<< /Type /Catalog /Pages %d 0 R >>" % pages)
    return w.serialize(catalog)


INVALID_UTF8 = (
    b"Port Halvard council notes (this file is deliberately not valid UTF-8).\n"
    b"Harbour fee: 12 crowns \xff\xfe per container, set in January.\n"
    b"Latin-1 accents: caf\xe9 on the Northern Quay, na\xefve r\xe9sum\xe9, se\xf1or.\n"
    b"Truncated three-byte sequence: \xe2\x82 then more text.\n"
    b"Overlong encoding of '/': \xc0\xaf and a lone continuation byte \x80.\n"
    b"Surrogate encoded in UTF-8: \xed\xa0\x80 end.\n"
    b"The last line is plain ASCII and should still be readable.\n"
)


def main():
    os.makedirs(GOOD, exist_ok=True)
    os.makedirs(BAD, exist_ok=True)

    good = three_pages()
    write(os.path.join(GOOD, "three-pages.pdf"), good)

    write(os.path.join(BAD, "truncated.pdf"), good[: len(good) // 2])
    write(os.path.join(BAD, "blank.pdf"), blank_pdf())
    write(os.path.join(BAD, "image-only.pdf"), image_only_pdf())
    write(os.path.join(BAD, "self-form.pdf"), self_form_pdf())
    write(os.path.join(BAD, "empty.txt"), b"")
    write(os.path.join(BAD, "invalid-utf8.txt"), INVALID_UTF8)

    program = os.path.join(BAD, "program.pdf")
    shutil.copyfile("/bin/true", program)
    os.chmod(program, 0o644)
    print("wrote %s (copy of /bin/true)" % os.path.relpath(program, ROOT))

    qpdf = shutil.which("qpdf")
    if qpdf:
        out = os.path.join(BAD, "encrypted.pdf")
        subprocess.run([qpdf, "--encrypt", "secret", "owner", "128", "--use-aes=y", "--",
                        os.path.join(GOOD, "three-pages.pdf"), out], check=True)
        print("wrote %s (qpdf AES-128, user password 'secret')" % os.path.relpath(out, ROOT))
    else:
        print("qpdf not found: encrypted.pdf left unchanged", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
