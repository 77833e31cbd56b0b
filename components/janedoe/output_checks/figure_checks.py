"""A figure: a PNG (its checked copy keeps only the chunks that draw the image: text chunks, EXIF and bytes after the
end, which can carry anything, are dropped) or an SVG with no script, event handler, foreign object or external
reference, and no real identifier in its text. Pixels themselves can still hide data: that is for the reviewers."""

import re
import struct
import xml.etree.ElementTree as ElementTree
import zlib

from janedoe.output_checks.checked_files import write_bytes_atomic
from janedoe.output_checks.file_types import PNG_SIGNATURE
from janedoe.output_checks.identifier_index import IdentifierIndex
from janedoe.output_checks.kind_result import KindResult
from janedoe.output_checks.text_checks import identifier_lines
from janedoe.tabular import write_text_atomic

_DRAWING_CHUNKS = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"bKGD",
                   b"pHYs"}
_EXTERNAL_URL = re.compile(r"url\(\s*['\"]?\s*(?!#)", re.IGNORECASE)
_REFUSED_TAGS = {"script", "foreignobject", "iframe", "embed", "object", "audio", "video"}


def _png_drawing(data: bytes) -> bytes:
    """The image's drawing chunks, in order, with valid CRCs; ValueError on a malformed file."""
    position, kept = len(PNG_SIGNATURE), [PNG_SIGNATURE]
    while position + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        end = position + 12 + length
        if end > len(data):
            break
        crc = struct.unpack(">I", data[end - 4:end])[0]
        if zlib.crc32(data[position + 4:end - 4]) != crc:
            raise ValueError("bad chunk checksum")
        if kind in _DRAWING_CHUNKS:
            kept.append(data[position:end])
        if kind == b"IEND":
            if len(kept) < 3 or kept[1][4:8] != b"IHDR":
                raise ValueError("no image header")
            return b"".join(kept)
        position = end
    raise ValueError("truncated")


def check_png(data: bytes) -> KindResult:
    result = KindResult()
    try:
        drawing = _png_drawing(data)
    except (ValueError, struct.error):
        return result.block("file_type", "not a readable PNG image (malformed chunks)")
    result.write = lambda target: write_bytes_atomic(drawing, target)
    return result


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def _svg_problem(root: ElementTree.Element) -> str | None:
    if _local(root.tag) != "svg":
        return "not an SVG image (the root element is not svg)"
    for element in root.iter():
        tag = _local(element.tag) if isinstance(element.tag, str) else ""
        if tag in _REFUSED_TAGS:
            return f"an SVG may not hold a <{tag}> element"
        if tag == "style" and (_EXTERNAL_URL.search(element.text or "") or "@import" in (element.text or "")):
            return "an SVG style may not load anything from outside"
        for name, value in element.attrib.items():
            attribute = _local(name)
            if attribute.startswith("on"):
                return f"an SVG may not carry an event handler ({attribute})"
            if attribute == "href" and not (value.startswith("#") or value.startswith("data:image/")):
                return "an SVG may not reference anything outside itself"
            if _EXTERNAL_URL.search(value):
                return "an SVG may not reference anything outside itself"
    return None


def check_svg(data: bytes, identifiers: IdentifierIndex | None) -> KindResult:
    result = KindResult()
    text = data.decode("utf-8")
    if re.search(r"<!(DOCTYPE|ENTITY)", text, re.IGNORECASE):
        return result.block("file_type", "an SVG may not declare a DOCTYPE or entities")
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return result.block("file_type", "not a readable SVG image (malformed XML)")
    problem = _svg_problem(root)
    if problem:
        return result.block("file_type", problem)
    strings = [s for element in root.iter() for s in (element.text, element.tail, *element.attrib.values()) if s]
    found = identifier_lines(strings, identifiers)
    if found:
        return result.block("identifier_values", f"{found} real identifier value(s) in the figure's text")
    result.write = lambda target: write_text_atomic(text, target)
    return result
