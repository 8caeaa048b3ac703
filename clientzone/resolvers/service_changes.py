"""Asking for a change to a contracted service (SERVICES_MANAGE).

A request is a support case in the SERVICES category (subcategory
SERVICE_CHANGE) linked to the service, so the back office works it on the
case desk like any other; the kind (UPGRADE, DOWNGRADE, CANCEL, RENEW) is the
case's `kind` field. One open request per service at a time. The same goes
for a new control-panel password (resetServiceCredentials, subcategory
SERVICE_CREDENTIALS); revealing the sealed credentials is written to the
account's activity each time.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from clientzone.auth.access import require_viewer
from clientzone.auth.context import Context
from clientzone.core.credentials import Credentials, CredentialsUnreadable, unseal
from clientzone.core.ids import decode_id_of
from clientzone.models import cases as case_models
from clientzone.models.accounts import Account
from clientzone.models.activity import ActivityAction, record_activity
from clientzone.models.cases import Case, CaseSubcategory
from clientzone.models.orders import Service
from clientzone.models.users import Locale
from clientzone.resolvers.activity import actor
from clientzone.resolvers.cases import notify_case
from clientzone.resolvers.validation import FieldErrors, Outcome

logger = logging.getLogger("clientzone.services")

NOTE_MAX = 2000
SUBCATEGORY = "SERVICE_CHANGE"
CREDENTIALS_SUBCATEGORY = "SERVICE_CREDENTIALS"


class ServiceChangeKind(StrEnum):
    UPGRADE = "UPGRADE"
    DOWNGRADE = "DOWNGRADE"
    CANCEL = "CANCEL"
    RENEW = "RENEW"
    NEW_CREDENTIALS = "NEW_CREDENTIALS"  # a new control-panel password


class ServiceChangeErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    ALREADY_REQUESTED = "ALREADY_REQUESTED"


_SUBJECTS = {
    Locale.ES: {
        ServiceChangeKind.UPGRADE: "Ampliar {name}",
        ServiceChangeKind.DOWNGRADE: "Reducir {name}",
        ServiceChangeKind.CANCEL: "Dar de baja {name}",
        ServiceChangeKind.RENEW: "Renovar {name}",
        ServiceChangeKind.NEW_CREDENTIALS: "Nuevas credenciales para {name}",
    },
    Locale.EN: {
        ServiceChangeKind.UPGRADE: "Upgrade {name}",
        ServiceChangeKind.DOWNGRADE: "Downgrade {name}",
        ServiceChangeKind.CANCEL: "Cancel {name}",
        ServiceChangeKind.RENEW: "Renew {name}",
        ServiceChangeKind.NEW_CREDENTIALS: "New credentials for {name}",
    },
}


async def open_request(
    session: AsyncSession, service_id: uuid.UUID, subcategory: str = SUBCATEGORY
) -> Case | None:
    """The service's open case of that subcategory (the newest, should there be two)."""
    statement = (
        select(Case)
        .join(CaseSubcategory, col(CaseSubcategory.id) == col(Case.subcategory_id))
        .where(
            col(Case.service_id) == service_id,
            col(Case.status).in_(case_models.OPEN_CASE_STATUSES),
            col(CaseSubcategory.code) == subcategory,
        )
        .order_by(col(Case.created_at).desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalars().first()


async def open_request_of(ctx: Context, service_id: uuid.UUID) -> Case | None:
    """The open change request, else the open request for new credentials."""
    return await ctx.loaders.open_request_by_service.load(service_id)


@dataclass(frozen=True)
class _Request:
    subcategory: str
    kind: str  # the case's `kind` field
    subject: str  # with {name}, the service's
    description: str | None
    action: ActivityAction


async def _open_case(
    ctx: Context,
    account: Account,
    service_id: uuid.UUID,
    request: _Request,
    errors: FieldErrors[ServiceChangeErrorCode],
) -> Outcome[Case, ServiceChangeErrorCode]:
    """The case for the back office, unless one of its subcategory is open."""
    viewer = ctx.viewer
    async with ctx.transaction() as session:
        # One open request of a kind at a time: the service's row is the lock (PostgreSQL).
        locked = select(Service).where(col(Service.id) == service_id).with_for_update()
        service = (await session.execute(locked)).scalar_one()
        existing = await open_request(session, service.id, request.subcategory)
        if existing is not None:
            errors.add(
                "serviceId",
                ServiceChangeErrorCode.ALREADY_REQUESTED,
                "service.change_already_requested",
                number=existing.display_number,
            )
            return Outcome(errors=errors.errors)
        subcategory = (
            await session.execute(
                select(CaseSubcategory).where(col(CaseSubcategory.code) == request.subcategory)
            )
        ).scalar_one()
        subject = request.subject.format(name=service.name)[:255]
        case = Case(
            account_id=account.id,
            number=await case_models.next_case_number(session),
            category_id=subcategory.category_id,
            subcategory_id=subcategory.id,
            subject=subject,
            description=request.description or subject,
            fields={"kind": request.kind},
            service_id=service.id,
            created_by=viewer.user.id if viewer is not None else None,
        )
        session.add(case)
        await session.flush()
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=request.action,
            target=f"{service.name} ({request.kind}, {case.display_number})"[:200],
        )
        await notify_case(
            ctx.settings, session, account, case, "case_created", subcategory=subcategory
        )
    return Outcome(value=case)


def _service_id(global_id: str) -> uuid.UUID:
    service_id = decode_id_of("Service", global_id)
    assert service_id is not None  # the permission check found it in this account
    return service_id


async def request_service_change(
    ctx: Context,
    account: Account,
    service_global_id: str,
    kind: ServiceChangeKind,
    note: str | None,
) -> Outcome[Case, ServiceChangeErrorCode]:
    code = ServiceChangeErrorCode
    errors: FieldErrors[ServiceChangeErrorCode] = FieldErrors()
    cleaned = errors.text(
        "note", note, maximum=NOTE_MAX, required=code.REQUIRED, too_long=code.TOO_LONG
    )
    if kind is ServiceChangeKind.CANCEL and note is None:
        errors.add("note", code.REQUIRED, "service.change_note_required")
    if errors:
        return Outcome(errors=errors.errors)
    if kind is ServiceChangeKind.NEW_CREDENTIALS:
        return await reset_service_credentials(ctx, account, service_global_id, cleaned)
    request = _Request(
        subcategory=SUBCATEGORY,
        kind=kind.value,
        subject=_SUBJECTS[account.locale][kind],
        description=cleaned,
        action=ActivityAction.SERVICE_CHANGE_REQUESTED,
    )
    return await _open_case(ctx, account, _service_id(service_global_id), request, errors)


async def reset_service_credentials(
    ctx: Context, account: Account, service_global_id: str, note: str | None = None
) -> Outcome[Case, ServiceChangeErrorCode]:
    """Ask the back office for a new control-panel password (a case)."""
    kind = ServiceChangeKind.NEW_CREDENTIALS
    request = _Request(
        subcategory=CREDENTIALS_SUBCATEGORY,
        kind=kind.value,
        subject=_SUBJECTS[account.locale][kind],
        description=note,
        action=ActivityAction.SERVICE_CREDENTIALS_REQUESTED,
    )
    return await _open_case(ctx, account, _service_id(service_global_id), request, FieldErrors())


class CredentialsErrorCode(StrEnum):
    NO_CREDENTIALS = "NO_CREDENTIALS"


async def reveal_credentials(
    ctx: Context, account: Account, service_global_id: str
) -> Outcome[Credentials, CredentialsErrorCode]:
    """The service's credentials, opened for a person, each reveal in the activity."""
    require_viewer(ctx)
    errors: FieldErrors[CredentialsErrorCode] = FieldErrors()
    async with ctx.transaction() as session:
        service = await session.get(Service, _service_id(service_global_id))
        assert service is not None
        credentials = None
        if service.credentials_sealed is not None:
            try:
                credentials = unseal(ctx.settings.credentials_key(), service.credentials_sealed)
            except CredentialsUnreadable:
                logger.error("service %s: credentials sealed with another key", service.id)
        if credentials is None:
            errors.add("serviceId", CredentialsErrorCode.NO_CREDENTIALS, "service.no_credentials")
            return Outcome(errors=errors.errors)
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.SERVICE_CREDENTIALS_REVEALED,
            target=service.name[:200],
        )
    return Outcome(value=credentials)
