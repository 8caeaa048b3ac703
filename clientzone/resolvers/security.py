"""Pieces shared by the identity mutations: the new-password check, security
events with the request's IP and user agent, and the response-time floor."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable
from enum import StrEnum
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from clientzone.auth.context import Context
from clientzone.auth.password_policy import MAX_LENGTH, MIN_LENGTH, PasswordProblem, assess
from clientzone.models.security_events import SecurityEventKind, record_event
from clientzone.resolvers.validation import FieldErrors

C = TypeVar("C", bound=StrEnum)

_PROBLEM_MESSAGES = {
    PasswordProblem.TOO_SHORT: ("password.too_short", {"minimum": MIN_LENGTH}),
    PasswordProblem.TOO_LONG: ("password.too_long", {"maximum": MAX_LENGTH}),
    PasswordProblem.CONTAINS_PERSONAL_INFO: ("password.personal", {}),
    PasswordProblem.TOO_WEAK: ("password.too_weak", {}),
}


async def check_new_password(
    ctx: Context,
    errors: FieldErrors[C],
    field_path: str,
    password: str,
    personal: Iterable[str | None],
    codes: type[C],
) -> None:
    """Add the policy's objection to `password`, if any, as a field error.

    `codes` must have members named like PasswordProblem's."""
    strength = await assess(password, personal, ctx.locale)
    if strength.problem is not None:
        key, params = _PROBLEM_MESSAGES[strength.problem]
        errors.add(field_path, codes[strength.problem.value], key, **params)


def security_event(
    ctx: Context,
    session: AsyncSession,
    user_id: uuid.UUID,
    kind: SecurityEventKind,
    detail: str | None = None,
) -> None:
    record_event(
        session,
        user_id=user_id,
        kind=kind,
        ip=ctx.client_ip,
        user_agent=ctx.user_agent,
        detail=detail,
    )


class ResponseFloor:
    """Makes answers that must not reveal anything (is this email registered?)
    take at least AUTH_RESPONSE_FLOOR_MS, whatever work they did."""

    def __init__(self, ctx: Context) -> None:
        self.started = time.monotonic()
        self.floor = ctx.settings.auth_response_floor_ms / 1000

    async def wait(self) -> None:
        remaining = self.floor - (time.monotonic() - self.started)
        if remaining > 0:
            await asyncio.sleep(remaining)


def mask_email(address: str) -> str:
    """`a•••@example.com`: enough to recognise an address, not to harvest it."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}"
