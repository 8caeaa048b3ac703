"""Demo support cases: open and closed ones in several categories, with public
answers, an internal note and an attachment (added after the billing data, as
a claim names an invoice)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from clientzone.config import Settings
from clientzone.db import Database
from clientzone.files import case_files
from clientzone.models.activity import ActivityAction, Actor, ActorKind, record_activity
from clientzone.models.base import utcnow
from clientzone.models.cases import (
    AuthorKind,
    Case,
    CaseAttachment,
    CaseComment,
    CaseStatus,
    CaseSubcategory,
    next_case_number,
)
from clientzone.models.invoices import Invoice

# (key, account, subcategory, status, days ago, subject, description, fields,
#  comments as (author kind, name, body, internal), attachment (filename, text))
CASES = [
    (
        "rfc-claim",
        "MX-100200",
        "INVOICE_CLAIM",
        CaseStatus.WAITING_ON_CUSTOMER,
        12,
        "Factura con RFC equivocado",
        "La última factura salió con el RFC de la sucursal en lugar del de la matriz. "
        "Necesitamos una nota de crédito y la factura corregida.",
        {},
        [
            (AuthorKind.STAFF, "Eva Soporte", "Cliente al corriente; procede la nota.", True),
            (
                AuthorKind.STAFF,
                "Eva Soporte",
                "Gracias. ¿Nos confirman el RFC correcto y el uso de CFDI?",
                False,
            ),
        ],
        ("constancia-situacion-fiscal.txt", "RFC: FES0903154T2\nRégimen: 601\n"),
    ),
    (
        "training",
        "MX-100200",
        "TRAINING",
        CaseStatus.CLOSED,
        200,
        "Capacitación en impermeabilizantes",
        "Queremos un curso para el equipo de obra sobre aplicación de impermeabilizantes.",
        {
            "siteName": "Obra Torre Norte",
            "address": "Av. Revolución 1450",
            "city": "CDMX",
            "attendees": "15",
        },
        [(AuthorKind.STAFF, "Eva Soporte", "Curso impartido el 14 de mayo. ¡Gracias!", False)],
        None,
    ),
    (
        "router",
        "ES-300400",
        "TECHNICAL_SUPPORT",
        CaseStatus.IN_PROGRESS,
        3,
        "No podemos descargar facturas desde el portal",
        "Al pulsar Descargar aparece un error. Pasa desde el lunes.",
        {"product": "Portal de clientes"},
        [(AuthorKind.CUSTOMER, "Luis Pérez", "Sigue pasando hoy con otro navegador.", False)],
        None,
    ),
    (
        "cement",
        "AR-200300",
        "PRODUCT_CLAIM",
        CaseStatus.RESOLVED,
        40,
        "Cemento con grumos",
        "Diez bolsas del último pedido llegaron endurecidas.",
        {"product": "Cemento portland 50 kg", "batch": "L-2291"},
        [
            (
                AuthorKind.STAFF,
                "Eva Soporte",
                "Repusimos las diez bolsas en el pedido siguiente.",
                False,
            )
        ],
        None,
    ),
]


def _id(namespace: uuid.UUID, name: str) -> uuid.UUID:
    return uuid.uuid5(namespace, name)


def _id_at(moment: datetime, namespace: uuid.UUID, name: str) -> uuid.UUID:
    """A time-ordered id as of `moment` (lists sort by id: a demo case opened
    40 days ago sorts before one opened today)."""
    millis = int(moment.timestamp() * 1000) & ((1 << 48) - 1)
    rest = _id(namespace, name).int & ((1 << 80) - 1)
    rest = (rest & ~(0xF << 76)) | (0x7 << 76)  # version 7
    return uuid.UUID(int=(millis << 80) | rest)


async def add_demo_cases(
    database: Database, settings: Settings, namespace: uuid.UUID, owner_of: dict[str, uuid.UUID]
) -> int:
    added = 0
    async with database.transaction() as session:
        subs = {s.code: s for s in (await session.execute(select(CaseSubcategory))).scalars()}
        for (
            key,
            number,
            code,
            status,
            days,
            subject,
            description,
            fields,
            comments,
            file,
        ) in CASES:
            account_id = _id(namespace, f"account:{number}")
            if await _exists(session, account_id, subject):
                continue
            opened = utcnow() - timedelta(days=days)
            case = Case(
                id=_id_at(opened, namespace, f"case:{key}"),
                account_id=account_id,
                number=await next_case_number(session),
                category_id=subs[code].category_id,
                subcategory_id=subs[code].id,
                subject=subject,
                description=description,
                fields=fields,
                invoice_id=await _latest_invoice(session, account_id)
                if subs[code].requires_invoice
                else None,
                status=status,
                created_by=owner_of.get(number),
                created_at=opened,
                updated_at=opened + timedelta(days=1),
                closed_at=opened + timedelta(days=2) if status is CaseStatus.CLOSED else None,
            )
            session.add(case)
            await session.flush()
            for index, (kind, name, body, internal) in enumerate(comments):
                session.add(
                    CaseComment(
                        case_id=case.id,
                        author_kind=kind,
                        author_name=name,
                        body=body,
                        internal=internal,
                        created_at=opened + timedelta(hours=2 + index),
                    )
                )
            if file is not None:
                content = file[1].encode()
                session.add(
                    CaseAttachment(
                        case_id=case.id,
                        filename=file[0],
                        content_type="text/plain",
                        size=len(content),
                        sha256=await case_files.store(session, settings, content),
                        uploaded_by=owner_of.get(number),
                        created_at=opened,
                    )
                )
            record_activity(
                session,
                account_id=account_id,
                actor=Actor(ActorKind.USER, owner_of.get(number), "demo"),
                action=ActivityAction.CASE_CREATED,
                target=case.display_number,
            )
            added += 1
    return added


async def _exists(session: AsyncSession, account_id: uuid.UUID, subject: str) -> bool:
    statement = select(col(Case.id)).where(
        col(Case.account_id) == account_id, col(Case.subject) == subject
    )
    return (await session.execute(statement)).first() is not None


async def _latest_invoice(session: AsyncSession, account_id: uuid.UUID) -> uuid.UUID | None:
    statement = (
        select(col(Invoice.id))
        .where(col(Invoice.account_id) == account_id)
        .order_by(col(Invoice.issued_on).desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()
