"""Opaque global IDs: `base64url("Type:uuid")`.

The UUIDs carry 74 random bits, so an ID cannot be guessed from another one;
clients must treat IDs as opaque strings all the same.
"""

from __future__ import annotations

import base64
import binascii
import uuid


def encode_global_id(type_name: str, row_id: uuid.UUID) -> str:
    raw = f"{type_name}:{row_id.hex}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_global_id(value: str) -> tuple[str, uuid.UUID]:
    """(type name, row id); ValueError when the value is not one of our IDs."""
    try:
        padded = value + "=" * (-len(value) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
        type_name, _, hex_id = raw.partition(":")
        if not type_name or len(hex_id) != 32:
            raise ValueError(value)
        return type_name, uuid.UUID(hex=hex_id)
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise ValueError(f"not a valid ID: {value!r}") from exc


def decode_id_of(type_name: str, value: str) -> uuid.UUID | None:
    """The row id when `value` is an ID of `type_name`; None otherwise."""
    try:
        found_type, row_id = decode_global_id(value)
    except ValueError:
        return None
    return row_id if found_type == type_name else None
