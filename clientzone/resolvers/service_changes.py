"""Asking for a change to a contracted service (SERVICES_MANAGE).

A request is a support case in the SERVICES category (subcategory
SERVICE_CHANGE) linked to the service, so the back office works it on the
case desk like any other; the kind (UPGRADE, DOWNGRADE, CANCEL, RENEW) is the
case's `kind` field. One open request per service at a time.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from clientzone.auth.context import Context
from clientzone.core.ids import decode_id_of
from clientzone.models import cases as case_models
from clientzone.models.accounts import Account
from clientzone.models.activity import ActivityAction, record_activity
from clientzone.models.cases import Case, CaseStatus, CaseSubcategory
from clientzone.models.orders import Service
from clientzone.models.users import Locale
from clientzone.resolvers.activity import actor
from clientzone.resolvers.cases import notify_case
from clientzone.resolvers.validation import FieldErrors, Outcome

NOTE_MAX = 2000
SUBCATEGORY = "SERVICE_CHANGE"
OPEN_STATUSES = (CaseStatus.NEW, CaseStatus.IN_PROGRESS, CaseStatus.WAITING_ON_CUSTOMER)


class ServiceChangeKind(StrEnum):
    UPGRADE = "UPGRADE"
    DOWNGRADE = "DOWNGRADE"
    CANCEL = "CANCEL"
    RENEW = "RENEW"


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
    },
    Locale.EN: {
        ServiceChangeKind.UPGRADE: "Upgrade {name}",
        ServiceChangeKind.DOWNGRADE: "Downgrade {name}",
        ServiceChangeKind.CANCEL: "Cancel {name}",
        ServiceChangeKind.RENEW: "Renew {name}",
    },
}


async def open_change_request(session: AsyncSession, service_id: uuid.UUID) -> Case | None:
    statement = (
        select(Case)
        .where(col(Case.service_id) == service_id, col(Case.status).in_(OPEN_STATUSES))
        .order_by(col(Case.created_at).desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalars().first()


async def open_request_of(ctx: Context, service_id: uuid.UUID) -> Case | None:
    async with ctx.db.read() as session:
        return await open_change_request(session, service_id)


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
    service_id = decode_id_of("Service", service_global_id)
    assert service_id is not None  # the permission check found it in this account
    if errors:
        return Outcome(errors=errors.errors)
    viewer = ctx.viewer
    async with ctx.transaction() as session:
        # One request at a time: the service's row is the lock (PostgreSQL).
        locked = select(Service).where(col(Service.id) == service_id).with_for_update()
        service = (await session.execute(locked)).scalar_one()
        existing = await open_change_request(session, service.id)
        if existing is not None:
            errors.add(
                "serviceId",
                code.ALREADY_REQUESTED,
                "service.change_already_requested",
                number=existing.display_number,
            )
            return Outcome(errors=errors.errors)
        subcategory = (
            await session.execute(
                select(CaseSubcategory).where(col(CaseSubcategory.code) == SUBCATEGORY)
            )
        ).scalar_one()
        subject = _SUBJECTS[account.locale][kind].format(name=service.name)
        case = Case(
            account_id=account.id,
            number=await case_models.next_case_number(session),
            category_id=subcategory.category_id,
            subcategory_id=subcategory.id,
            subject=subject[:255],
            description=cleaned or subject,
            fields={"kind": kind.value},
            service_id=service.id,
            created_by=viewer.user.id if viewer is not None else None,
        )
        session.add(case)
        await session.flush()
        record_activity(
            session,
            account_id=account.id,
            actor=actor(ctx),
            action=ActivityAction.SERVICE_CHANGE_REQUESTED,
            target=f"{service.name} ({kind.value}, {case.display_number})"[:200],
        )
        await notify_case(ctx.settings, session, account, case, "case_created")
    return Outcome(value=case)
