"""
Reading the PDFs the portal makes, for tests: their text (pdftotext, from poppler-utils), page sizes, and
the fonts embedded in them with the glyph each character is drawn with.

The PDF reading is a small parser for what WeasyPrint (pydyf) writes: numbered objects, Flate streams and
object streams. It is enough to follow a font's ToUnicode map to its embedded font file, which the test
of "no missing-glyph boxes" needs: pdftotext alone cannot tell, since WeasyPrint maps even a character
the font lacks to its Unicode value while drawing the font's empty .notdef box.
"""

import io
import re
import shutil
import subprocess
import zlib
from dataclasses import dataclass, field
from functools import cached_property

import pytest
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont


def pdf_text(pdf, *, layout=True):
    """The PDF's text as pdftotext reads it; with `layout`, a table row stays on one line."""
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: apt-get install poppler-utils (.ci/run installs it)")
    command = ["pdftotext", "-enc", "UTF-8", *(["-layout"] if layout else []), "-", "-"]
    return subprocess.run(command, input=pdf, capture_output=True, check=True).stdout.decode()


@dataclass
class EmbeddedFont:
    """A font the PDF draws text with: its name, its embedded font file, and character → glyph id."""

    name: str
    font_file: bytes | None
    glyphs: dict = field(default_factory=dict)

    @cached_property
    def font(self):
        return TTFont(io.BytesIO(self.font_file))

    def inked(self, glyph_id):
        """Whether the embedded font has a glyph with an outline at `glyph_id` (not .notdef, not empty)."""
        if glyph_id == 0 or glyph_id >= self.font["maxp"].numGlyphs:
            return False
        glyph_set = self.font.getGlyphSet()
        pen = BoundsPen(glyph_set)
        glyph_set[self.font.getGlyphName(glyph_id)].draw(pen)
        return pen.bounds is not None


OBJECT_START = re.compile(rb"(\d+) 0 obj\s*")


def pdf_objects(pdf):
    """{object number: (dictionary bytes, decoded stream bytes or None)}, object streams unpacked."""
    objects = {}
    position = 0
    while match := OBJECT_START.search(pdf, position):
        start = match.end()
        end = pdf.index(b"endobj", start)
        stream_at = pdf.find(b"stream", start, end)
        if stream_at == -1:
            objects[int(match[1])] = (pdf[start:end].strip(), None)
            position = end
            continue
        dictionary = pdf[start:stream_at].strip()
        data_start = stream_at + len(b"stream") + (2 if pdf[stream_at + 6 : stream_at + 8] == b"\r\n" else 1)
        length = int(re.search(rb"/Length (\d+)", dictionary)[1])
        data = pdf[data_start : data_start + length]
        if b"/FlateDecode" in dictionary:
            data = zlib.decompress(data)
        objects[int(match[1])] = (dictionary, data)
        position = data_start + length
    for dictionary, data in list(objects.values()):
        if b"/Type /ObjStm" in dictionary:
            first = int(re.search(rb"/First (\d+)", dictionary)[1])
            numbers = [int(number) for number in data[:first].split()]
            pairs = list(zip(numbers[::2], numbers[1::2], strict=True))
            for index, (number, offset) in enumerate(pairs):
                end = first + pairs[index + 1][1] if index + 1 < len(pairs) else len(data)
                objects[number] = (data[first + offset : end].strip(), None)
    return objects


def _reference(dictionary, key):
    match = re.search(rb"/" + key + rb" \[?(\d+) 0 R", dictionary)
    return int(match[1]) if match else None


def _to_unicode(cmap):
    """glyph id → text, from a ToUnicode CMap's bfchar entries (what WeasyPrint writes)."""
    glyphs = {}
    for glyph, text in re.findall(rb"<([0-9a-fA-F]+)> <([0-9a-fA-F]+)>", cmap):
        if glyph != b"0000" or text != b"ffff":  # the codespace range
            glyphs[int(glyph, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    return glyphs


def pdf_fonts(pdf):
    """The PDF's Type 0 fonts, each with its embedded font file and its character → glyph id map."""
    objects = pdf_objects(pdf)
    fonts = []
    for dictionary, _ in objects.values():
        if b"/Subtype /Type0" not in dictionary:
            continue
        name = re.search(rb"/BaseFont /([^\s/<>\[\]]+)", dictionary)[1].decode()
        descendant = objects[_reference(dictionary, b"DescendantFonts")][0]
        descriptor = objects[_reference(descendant, b"FontDescriptor")][0]
        file_numbers = [_reference(descriptor, key) for key in (b"FontFile3", b"FontFile2", b"FontFile")]
        file_number = next((number for number in file_numbers if number is not None), None)
        font_file = objects[file_number][1] if file_number is not None else None
        to_unicode = _to_unicode(objects[_reference(dictionary, b"ToUnicode")][1])
        glyphs = {text: glyph for glyph, text in to_unicode.items()}
        fonts.append(EmbeddedFont(name=name, font_file=font_file, glyphs=glyphs))
    return fonts


def drawn_without_glyph(pdf):
    """
    The characters the PDF draws with no glyph of their own: a box (.notdef) or nothing. Spaces have no
    outline and are left out. An empty set means every character is really there.
    """
    return {
        character
        for font in pdf_fonts(pdf)
        for character, glyph_id in font.glyphs.items()
        if not character.isspace() and (font.font_file is None or not font.inked(glyph_id))
    }


def page_sizes(pdf):
    """Each page's MediaBox width and height, in points."""
    sizes = []
    for dictionary, _ in pdf_objects(pdf).values():
        if re.search(rb"/Type /Page(?!s)", dictionary):
            box = re.search(rb"/MediaBox \[([^\]]+)\]", dictionary)[1].split()
            sizes.append((float(box[2]) - float(box[0]), float(box[3]) - float(box[1])))
    return sizes
