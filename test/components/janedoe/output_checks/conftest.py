import struct
import zlib

import pyarrow as pa
import pytest
from janedoe.output_checks import IdentifierIndex

REAL = pa.table({
    "patient_id": pa.array([48213377, 48213378, 48213379, 48213380], pa.int64()),
    "full_name": ["Amélie Durand", "Jonas Becker", "Priya Raman", "Tomasz Wójcik"],
    "email": ["amelie.durand@example.org", "jonas.b@example.net", "priya.raman@example.com", "t.wojcik@example.pl"],
    "phone": ["0612345678", "0698765432", "0711223344", "0755667788"],
    "region": ["north", "north", "south", "south"],
    "age": [34, 51, 28, 45],
})


@pytest.fixture(scope="session")
def identifiers() -> IdentifierIndex:
    return IdentifierIndex.from_table(REAL, ["patient_id", "full_name", "email", "phone"])


def png_bytes(*extra_chunks: tuple[bytes, bytes], trailer: bytes = b"") -> bytes:
    """A valid 1x1 grey PNG, with extra chunks before the image data and bytes after its end."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    extras = b"".join(chunk(kind, body) for kind, body in extra_chunks)
    image = chunk(b"IDAT", zlib.compress(b"\x00\x80"))
    return b"\x89PNG\r\n\x1a\n" + header + extras + image + chunk(b"IEND", b"") + trailer
