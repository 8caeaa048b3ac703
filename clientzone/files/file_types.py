"""What an uploaded file really is, from its first bytes.

The content type a browser declares is whatever the file's name suggests (or
whatever a forger wrote): uploads are recognised by content and stored and
served with the recognised type only.
"""

from __future__ import annotations

MAGIC: dict[bytes, str] = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}


def sniff(content: bytes) -> str | None:
    """The recognised content type, or None for anything else (executables,
    archives, office files...). Plain text must be UTF-8 without NUL bytes."""
    for magic, kind in MAGIC.items():
        if content.startswith(magic):
            return kind
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if content and _is_text(content):
        return "text/plain"
    return None


def _is_text(sample: bytes) -> bool:
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
