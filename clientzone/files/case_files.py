"""Where case attachments' bytes live: files named by their SHA-256 under
CASE_ATTACHMENTS_DIR, or the database when that is not set.

Files are content-addressed: the same file uploaded twice is kept once, and a
file written for a change that then rolled back is harmless (nothing refers
to it; the same upload later reuses it).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from clientzone.config import Settings
from clientzone.models import cases


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _path(directory: Path, sha256: str) -> Path:
    return directory / sha256[:2] / sha256


def _write(directory: Path, sha256: str, content: bytes) -> None:
    target = _path(directory, sha256)
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write aside, then rename: a reader never sees half a file.
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


async def store(session: AsyncSession, settings: Settings, content: bytes) -> str:
    """Keep the bytes; returns their SHA-256."""
    sha256 = digest(content)
    directory = settings.case_attachments_dir
    if directory is None:
        await cases.store_file_content(session, sha256, content)
    else:
        await anyio.to_thread.run_sync(_write, directory, sha256, content)
    return sha256


async def load(session: AsyncSession, settings: Settings, sha256: str) -> bytes | None:
    directory = settings.case_attachments_dir
    if directory is not None:
        path = _path(directory, sha256)
        if await anyio.to_thread.run_sync(path.exists):
            return await anyio.to_thread.run_sync(path.read_bytes)
    # Also kept in the database before a directory was configured.
    return await cases.file_content(session, sha256)
