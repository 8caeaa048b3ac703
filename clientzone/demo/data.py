"""Deterministic demo data: Spanish-speaking companies in MX, AR and ES.

Ids are derived from stable names (uuid5), so loading twice changes nothing
and the demo's IDs are the same on every machine.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import bcrypt
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from clientzone.auth.passwords import hash_password
from clientzone.config import Environment, Settings
from clientzone.core.markdown import render_markdown
from clientzone.core.tokens import hash_token, new_token
from clientzone.db import Database
from clientzone.demo.cases import add_demo_cases
from clientzone.importers.billing import import_billing
from clientzone.mailers.outbox import notify_account
from clientzone.models.accounts import Account
from clientzone.models.activity import ActivityAction, Actor, ActorKind, record_activity
from clientzone.models.announcements import Announcement, AudienceKind
from clientzone.models.contacts import Contact, EmailCategory
from clientzone.models.invitations import INVITATION_LIFETIME, Invitation
from clientzone.models.legacy_logins import LegacyLogin
from clientzone.models.mail import EmailMessage, EmailStatus
from clientzone.models.memberships import Membership, Permission, Role
from clientzone.models.payments import Payment, PaymentKind, PaymentStatus
from clientzone.models.sessions import AuthSession, SessionKind, create_session
from clientzone.models.staff import StaffMember, StaffRole
from clientzone.models.users import Locale, User, user_by_email

DEMO_PASSWORD = "demo-clientzone-2026"  # noqa: S105 (published demo login)
# A support staff login, loaded only with ENVIRONMENT=development: its TOTP
# secret is published here, so it must never exist anywhere else.
DEMO_STAFF_EMAIL = "soporte@example.com"
DEMO_STAFF_TOTP_SECRET = "DEMOCLIENTZONESTAFF2FAJBSWY3DPEH"  # noqa: S105 (published demo)
DEMO_NAMESPACE = uuid.UUID("6f1d3c2a-8b4e-4f5a-9c1d-2e3f4a5b6c7d")
DEMO_TOKEN_LABEL = "demo"  # noqa: S105
MONTHS = 24  # of monthly invoices and payments


def history_start(today: date) -> datetime:
    """Where the demo's history begins: MONTHS of invoices that end today, so
    the two unpaid ones are from the last two months (one overdue, one due)."""
    return datetime.combine(today - timedelta(days=30 * MONTHS - 15), time(9), tzinfo=UTC)


SINCE = history_start(datetime.now(UTC).date())


def demo_id(name: str) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, name)


@dataclass(frozen=True)
class DemoLogin:
    email: str
    description: str


DEMO_LOGINS = (
    DemoLogin("ana.garcia@example.com", "owner: MX parent with two linked branches, AR account"),
    DemoLogin(
        "luis.perez@example.com", "member: billing-only in MX-100200, support-only in ES-300400"
    ),
    DemoLogin("marta.lopez@example.com", "owner: ES account"),
)

USERS: list[dict[str, Any]] = [
    {"email": "ana.garcia@example.com", "first_name": "Ana", "last_name": "García"},
    {"email": "luis.perez@example.com", "first_name": "Luis", "last_name": "Pérez"},
    {"email": "marta.lopez@example.com", "first_name": "Marta", "last_name": "López"},
]

MX_ADDRESS = {
    "street": "Av. Revolución 1450",
    "neighborhood": "San Ángel",
    "city": "Álvaro Obregón",
    "state": "Ciudad de México",
    "postal_code": "01000",
    "country": "MX",
}

ACCOUNTS: list[dict[str, Any]] = [
    {
        "number": "MX-100200",
        "name": "Ferretería La Esperanza",
        "currency": "MXN",
        "company_name": "Ferretería La Esperanza S.A. de C.V.",
        "first_name": "Ana",
        "last_name": "García",
        "email": "compras@ferreteria-esperanza.example.com",
        "phone": "+525555501234",
        "tax_id": "FES010203ABA",
        **MX_ADDRESS,
    },
    {
        "number": "MX-100201",
        "name": "Ferretería La Esperanza – Sucursal Guadalajara",
        "currency": "MXN",
        "parent": "MX-100200",
        "company_name": "Ferretería La Esperanza S.A. de C.V.",
        "email": "gdl@ferreteria-esperanza.example.com",
        "phone": "+523336150000",
        "tax_id": "FES010203ABA",
        "street": "Av. Chapultepec Sur 480",
        "neighborhood": "Americana",
        "city": "Guadalajara",
        "state": "Jalisco",
        "postal_code": "44160",
        "country": "MX",
    },
    {
        "number": "MX-100202",
        "name": "Ferretería La Esperanza – Sucursal Monterrey",
        "currency": "MXN",
        "parent": "MX-100200",
        "company_name": "Ferretería La Esperanza S.A. de C.V.",
        "email": "mty@ferreteria-esperanza.example.com",
        "phone": "+528183400000",
        "tax_id": "FES010203ABA",
        "street": "Calzada del Valle 300",
        "neighborhood": "Del Valle",
        "city": "San Pedro Garza García",
        "state": "Nuevo León",
        "postal_code": "66220",
        "country": "MX",
    },
    {
        "number": "AR-200300",
        "name": "Distribuidora Río de la Plata",
        "currency": "ARS",
        "company_name": "Distribuidora Río de la Plata S.R.L.",
        "first_name": "Ana",
        "last_name": "García",
        "email": "administracion@rioplata.example.com",
        "phone": "+541143210000",
        "tax_id": "30-71234567-1",
        "street": "Av. Corrientes 1234, piso 5",
        "neighborhood": "San Nicolás",
        "city": "Ciudad Autónoma de Buenos Aires",
        "state": "CABA",
        "postal_code": "C1043AAZ",
        "country": "AR",
    },
    {
        "number": "ES-300400",
        "name": "Construcciones Albaicín",
        "currency": "EUR",
        "company_name": "Construcciones Albaicín S.L.",
        "first_name": "Marta",
        "last_name": "López",
        "email": "oficina@albaicin.example.com",
        "phone": "+34958123456",
        "tax_id": "B12345674",
        "street": "Calle Elvira 22",
        "neighborhood": "Albaicín",
        "city": "Granada",
        "state": "Granada",
        "postal_code": "18010",
        "country": "ES",
    },
    {
        # An account of the old portal nobody has claimed yet (see LEGACY_LOGINS).
        "number": "MX-100300",
        "name": "Materiales del Bajío",
        "currency": "MXN",
        "company_name": "Materiales del Bajío S.A. de C.V.",
        "email": "admin@materiales-bajio.example.com",
        "phone": "+524422150000",
        "tax_id": "MBA150310PQ7",
        "street": "Av. Constituyentes 120",
        "neighborhood": "Centro",
        "city": "Querétaro",
        "state": "Querétaro",
        "postal_code": "76000",
        "country": "MX",
    },
]

# (customer number, username, password, main login): claimable with claimLegacyAccount.
LEGACY_LOGINS = [("MX-100300", "compras", "legado-2026", True)]
LEGACY_HINT = (
    "legacy login to claim: customer MX-100300, user compras, password legado-2026"
    " (signed in as ana.garcia@example.com, with claimLegacyAccount)"
)
# A pending invitation, to show Account.invitations (its link was never sent).
INVITATIONS = [
    (
        "MX-100200",
        "nuevo.comprador@example.com",
        frozenset({Permission.ORDERS_VIEW, Permission.ORDERS_CREATE}),
    )
]

MEMBERSHIPS: list[tuple[str, str, Role, frozenset[Permission]]] = [
    ("ana.garcia@example.com", "MX-100200", Role.OWNER, frozenset()),
    ("ana.garcia@example.com", "AR-200300", Role.OWNER, frozenset()),
    (
        "luis.perez@example.com",
        "MX-100200",
        Role.MEMBER,
        frozenset({Permission.INVOICES_VIEW, Permission.INVOICES_PAY}),
    ),
    (
        "luis.perez@example.com",
        "ES-300400",
        Role.MEMBER,
        frozenset({Permission.CASES_VIEW, Permission.CASES_CREATE}),
    ),
    ("marta.lopez@example.com", "ES-300400", Role.OWNER, frozenset()),
]


CONTACTS: list[tuple[str, str, str, str, frozenset[EmailCategory]]] = [
    (
        "MX-100200",
        "Beatriz",
        "Núñez",
        "facturacion@ferreteria-esperanza.example.com",
        frozenset({EmailCategory.INVOICES, EmailCategory.GENERAL}),
    ),
    (
        "MX-100200",
        "Carlos",
        "Méndez",
        "sistemas@ferreteria-esperanza.example.com",
        frozenset({EmailCategory.SUPPORT, EmailCategory.DOMAINS}),
    ),
    (
        "MX-100200",
        "Diana",
        "Ortega",
        "compras2@ferreteria-esperanza.example.com",
        frozenset({EmailCategory.PRODUCTS}),
    ),
    (
        "AR-200300",
        "Julián",
        "Benítez",
        "pagos@rioplata.example.com",
        frozenset({EmailCategory.INVOICES}),
    ),
    (
        "ES-300400",
        "Lucía",
        "Romero",
        "obra@albaicin.example.com",
        frozenset({EmailCategory.SUPPORT, EmailCategory.GENERAL}),
    ),
]

# (account, category, days after SINCE (the history spans 30 * MONTHS days), title, body)
SENT_EMAILS: list[tuple[str, EmailCategory, int, str, str]] = [
    (
        "MX-100200",
        EmailCategory.INVOICES,
        660,
        "Factura F-2025-0412 disponible",
        "Tu factura F-2025-0412 por $18,560.00 MXN ya está disponible en el portal.",
    ),
    (
        "MX-100200",
        EmailCategory.PRODUCTS,
        670,
        "Nuevas líneas de herramienta eléctrica",
        "Incorporamos taladros y esmeriladoras con precio de lanzamiento.",
    ),
    (
        "MX-100200",
        EmailCategory.INVOICES,
        690,
        "Recordatorio de pago",
        "La factura F-2025-0412 vence en 5 días.",
    ),
    (
        "AR-200300",
        EmailCategory.INVOICES,
        680,
        "Factura B 0003-00012345 disponible",
        "Tu factura B 0003-00012345 ya está disponible.",
    ),
    (
        "ES-300400",
        EmailCategory.GENERAL,
        685,
        "Cambio de horario en Navidad",
        "Del 24 al 26 de diciembre atenderemos de 9:00 a 14:00.",
    ),
]


async def _add_missing(session: AsyncSession, row: SQLModel, row_id: uuid.UUID) -> bool:
    if await session.get(type(row), row_id) is not None:
        return False
    session.add(row)
    return True


async def _add_demo_staff(session: AsyncSession, password_hash: str) -> int:
    """The demo's ADMIN staff login, its second factor already enrolled."""
    user_id = demo_id("user:" + DEMO_STAFF_EMAIL)
    user = User(
        id=user_id,
        email=DEMO_STAFF_EMAIL,
        first_name="Eva",
        last_name="Soporte",
        locale=Locale.ES,
        password_hash=password_hash,
        email_verified_at=SINCE,
        is_staff=True,
    )
    added = int(await _add_missing(session, user, user_id))
    await session.flush()
    member = StaffMember(
        user_id=user_id,
        role=StaffRole.ADMIN,
        totp_secret=DEMO_STAFF_TOTP_SECRET,
        totp_confirmed_at=SINCE,
    )
    added += int(await _add_missing(session, member, user_id))
    return added


async def load_demo_data(database: Database, settings: Settings) -> int:
    """Insert what is missing; returns the number of rows added."""
    password_hash = await hash_password(DEMO_PASSWORD)
    added = 0
    async with database.session() as session, session.begin():
        for index, data in enumerate(USERS):
            user_id = demo_id("user:" + data["email"])
            user = User(
                id=user_id,
                locale=Locale.ES,
                password_hash=password_hash,
                email_verified_at=SINCE,
                created_at=SINCE + timedelta(days=index),
                **data,
            )
            added += await _add_missing(session, user, user_id)
        if settings.environment is Environment.DEVELOPMENT:
            added += await _add_demo_staff(session, password_hash)
        for index, data in enumerate(ACCOUNTS):
            fields = {k: v for k, v in data.items() if k != "parent"}
            account_id = demo_id("account:" + data["number"])
            parent = data.get("parent")
            account = Account(
                id=account_id,
                parent_id=demo_id("account:" + parent) if parent else None,
                created_at=SINCE + timedelta(days=30 * index),
                updated_at=SINCE + timedelta(days=30 * index),
                **fields,
            )
            added += await _add_missing(session, account, account_id)
            await session.flush()
        for email, number, role, permissions in MEMBERSHIPS:
            membership_id = demo_id(f"membership:{email}:{number}")
            membership = Membership(
                id=membership_id,
                user_id=demo_id("user:" + email),
                account_id=demo_id("account:" + number),
                account_number=number,
                role=role,
                permissions=permissions,
                created_at=SINCE,
            )
            added += await _add_missing(session, membership, membership_id)
        for number, first, last, email, categories in CONTACTS:
            contact_id = demo_id(f"contact:{number}:{email}")
            contact = Contact(
                id=contact_id,
                account_id=demo_id("account:" + number),
                first_name=first,
                last_name=last,
                email=email,
                categories=categories,
                created_at=SINCE,
                updated_at=SINCE,
            )
            added += await _add_missing(session, contact, contact_id)
        await session.flush()
        added += await _add_legacy_and_invitations(session)
        for number, category, days, title, body in SENT_EMAILS:
            email_id = demo_id(f"email:{number}:{title}")
            if await session.get(EmailMessage, email_id) is not None:
                continue
            to = await session.get(Account, demo_id("account:" + number))
            assert to is not None
            message = await notify_account(
                session,
                settings,
                account=to,
                category=category,
                template="account_notice",
                title=title,
                body=body,
            )
            assert message is not None, "demo accounts have an email"
            sent_at = SINCE + timedelta(days=days)
            message.id, message.status = email_id, EmailStatus.SENT
            message.created_at = message.next_attempt_at = message.sent_at = sent_at
            added += 1
    report = await import_billing(
        database, billing_lines(), credentials_key=settings.credentials_key()
    )
    assert not report.errors, report.errors
    assert report.stopped is None, report.stopped
    creators = {
        number: demo_id("user:" + email)
        for email, number, role, _ in MEMBERSHIPS
        if role is Role.OWNER
    }
    cases = await add_demo_cases(database, settings, DEMO_NAMESPACE, creators)
    async with database.session() as session, session.begin():
        added += await _add_reported_transfer(session, creators["MX-100200"])
        added += await _add_announcement(session)
    return added + sum(report.imported.values()) + cases


async def _add_announcement(session: AsyncSession) -> int:
    """News for every account (`viewer.announcements`), in both languages."""
    announcement_id = demo_id("announcement:holidays")
    body_es = "Del 24 al 26 de diciembre atendemos de **9:00 a 14:00**."
    body_en = "From 24 to 26 December we are open from **9:00 to 14:00**."
    announcement = Announcement(
        id=announcement_id,
        title_es="Horario de fiestas",
        title_en="Holiday opening hours",
        body_es=body_es,
        body_en=body_en,
        html_es=render_markdown(body_es),
        html_en=render_markdown(body_en),
        audience=AudienceKind.ALL,
        visible_from=datetime.now(UTC) - timedelta(days=1),
    )
    return int(await _add_missing(session, announcement, announcement_id))


async def _add_reported_transfer(session: AsyncSession, reported_by: uuid.UUID) -> int:
    """A transfer Ana reported, waiting in the billing desk (`staff.transfers`)."""
    payment_id = demo_id("payment:transfer:MX-100200")
    payment = Payment(
        id=payment_id,
        account_id=demo_id("account:MX-100200"),
        kind=PaymentKind.TRANSFER_REPORT,
        status=PaymentStatus.REPORTED,
        amount_minor=500_000,
        currency="MXN",
        reference="SPEI 7781203",
        paid_on=datetime.now(UTC).date() - timedelta(days=2),
        created_by=reported_by,
    )
    return int(await _add_missing(session, payment, payment_id))


# Monthly invoices and their payments (the last two months unpaid), a credit
# note, orders and services: written as billing-import lines and imported,
# so the demo exercises the same path as real data.
BILLING = {
    "MX-100200": (1_250_000, "CFDI_INGRESO"),
    "MX-100201": (330_000, "CFDI_INGRESO"),
    "AR-200300": (8_450_000, "FACTURA_A"),
}


def monthly_subtotal(number: str, month: int) -> int:
    return BILLING[number][0] + (month * 7_300) % 90_000


def _line_subtotals(number: str, month: int) -> tuple[int, int]:
    subtotal = monthly_subtotal(number, month)
    return subtotal - subtotal // 10, subtotal // 10


def monthly_total(number: str, month: int) -> int:
    """What the import makes of the month's two lines at 16% (same rounding)."""
    return sum(
        part + int((Decimal(part) * 16 / 100).to_integral_value())
        for part in _line_subtotals(number, month)
    )


def _money(minor: int) -> str:
    return f"{minor / 100:.2f}"


def billing_lines() -> list[str]:
    lines: list[dict[str, Any]] = []
    for number, (_, document_type) in BILLING.items():
        for month in range(MONTHS):
            issued = (SINCE + timedelta(days=30 * month)).date()
            invoice = f"F-{number[-6:]}-{month + 1:03d}"
            material, freight = _line_subtotals(number, month)
            lines.append(
                {
                    "type": "invoice",
                    "externalId": f"demo-{invoice}",
                    "account": number,
                    "number": invoice,
                    "documentType": document_type,
                    "issuedOn": issued.isoformat(),
                    "dueOn": (issued + timedelta(days=30)).isoformat(),
                    "lines": [
                        {
                            "description": "Material de construcción",
                            "sku": "MAT-01",
                            "quantity": "1",
                            "unitPrice": _money(material),
                            "taxRate": "16",
                        },
                        {
                            "description": "Flete y maniobras",
                            "quantity": "1",
                            "unitPrice": _money(freight),
                            "taxRate": "16",
                        },
                    ],
                }
            )
            if month < MONTHS - 2:
                lines.append(
                    {
                        "type": "payment",
                        "externalId": f"demo-pay-{invoice}",
                        "account": number,
                        "amount": _money(monthly_total(number, month)),
                        "paidOn": (issued + timedelta(days=14)).isoformat(),
                        "reference": f"P-{number[-6:]}-{month + 1:03d}",
                        "invoices": [invoice],
                        "description": "Pago recibido, gracias",
                    }
                )
        for i, (days, status) in enumerate(
            ((400, "DELIVERED"), (650, "SHIPPED"), (700, "PENDING"))
        ):
            lines.append(
                {
                    "type": "order",
                    "externalId": f"demo-order-{number}-{i}",
                    "account": number,
                    "number": f"P-{number[-6:]}-{i + 1:03d}",
                    "customerReference": f"OC-{2000 + i}",
                    "orderedOn": (SINCE + timedelta(days=days)).date().isoformat(),
                    "status": status,
                    "lines": [
                        {
                            "description": "Cemento gris 50 kg",
                            "sku": "CEM-50",
                            "quantity": str(40 + 10 * i),
                            "unitPrice": "189.00",
                            "taxRate": "16",
                        }
                    ],
                }
            )
    for name, kind, cycle, amount in (
        ("ferreteria-esperanza.mx", "DOMAIN", "YEARLY", "450.00"),
        ("Portal de pedidos Pro", "SUBSCRIPTION", "MONTHLY", "1299.00"),
    ):
        lines.append(
            {
                "type": "service",
                "externalId": f"demo-service-{name}",
                "account": "MX-100200",
                "name": name,
                "kind": kind,
                "billingCycle": cycle,
                "recurringAmount": amount,
                "nextDueOn": (SINCE + timedelta(days=30 * MONTHS)).date().isoformat(),
                **DEMO_CREDENTIALS.get(name, {}),
            }
        )
    lines.extend(DEMO_PRODUCTS)
    return [json.dumps(line) for line in lines]


# A control-panel login to reveal (docs/ordering.md), sealed on import.
DEMO_CREDENTIALS: dict[str, dict[str, Any]] = {
    "Portal de pedidos Pro": {
        "credentials": {"username": "esperanza", "password": "demo-panel-2026"}
    }
}

# The catalogue (docs/ordering.md): priced in the demo accounts' currencies.
DEMO_PRODUCTS: list[dict[str, Any]] = [
    {
        "type": "product",
        "code": "DOM-MX",
        "nameEs": "Dominio .mx (1 año)",
        "nameEn": ".mx domain (1 year)",
        "kind": "DOMAIN",
        "prices": {"MXN": 45000, "ARS": 2500000, "EUR": 2500},
    },
    {
        "type": "product",
        "code": "HOST-S",
        "nameEs": "Alojamiento S",
        "nameEn": "Hosting S",
        "descriptionEs": "10 GB, correo incluido",
        "descriptionEn": "10 GB, email included",
        "kind": "HOSTING",
        "prices": {"MXN": 25000, "ARS": 1500000, "EUR": 1200},
    },
]


async def _add_legacy_and_invitations(session: AsyncSession) -> int:
    added = 0
    for number, username, password, main in LEGACY_LOGINS:
        legacy_id = demo_id(f"legacy:{number}:{username}")
        if await session.get(LegacyLogin, legacy_id) is None:
            hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()
            session.add(
                LegacyLogin(
                    id=legacy_id,
                    account_id=demo_id("account:" + number),
                    username=username,
                    password_hash=hashed,
                    is_main=main,
                )
            )
            added += 1
    for number, email, permissions in INVITATIONS:
        invitation_id = demo_id(f"invitation:{number}:{email}")
        invitation = Invitation(
            id=invitation_id,
            account_id=demo_id("account:" + number),
            email=email,
            permissions=permissions,
            token_hash=hash_token(new_token()),
            invited_by=demo_id("user:ana.garcia@example.com"),
            expires_at=datetime.now(UTC) + INVITATION_LIFETIME,
        )
        if await _add_missing(session, invitation, invitation_id):
            record_activity(
                session,
                account_id=invitation.account_id,
                actor=Actor(ActorKind.USER, invitation.invited_by, "ana.garcia@example.com"),
                action=ActivityAction.INVITATION_SENT,
                target=email,
            )
            added += 1
    return added


async def issue_demo_tokens(database: Database) -> dict[str, str]:
    """Fresh bearer tokens for the demo logins (older demo tokens are revoked)."""
    tokens: dict[str, str] = {}
    async with database.session() as session, session.begin():
        await session.execute(
            update(AuthSession)
            .where(
                col(AuthSession.label) == DEMO_TOKEN_LABEL,
                col(AuthSession.revoked_at).is_(None),
            )
            .values(revoked_at=datetime.now(UTC))
        )
        for login in DEMO_LOGINS:
            user = await user_by_email(session, login.email)
            if user is None:
                continue
            token, _ = await create_session(
                session,
                user_id=user.id,
                kind=SessionKind.TOKEN,
                lifetime=timedelta(days=30),
                label=DEMO_TOKEN_LABEL,
            )
            tokens[login.email] = token
    return tokens
