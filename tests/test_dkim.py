"""DKIM: with a key configured, every copy is signed and the signature verifies."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import dkim
import pytest

from clientzone.config import Settings
from clientzone.db import Database
from clientzone.importers.billing import import_billing
from clientzone.mailers.outbox import notify_account
from clientzone.mailers.worker import MailWorker
from clientzone.models.accounts import Account
from clientzone.models.contacts import Contact, EmailCategory
from tests.helpers import make_account
from tests.smtp_server import SmtpServer


@pytest.fixture
def dkim_key(tmp_path: Path) -> tuple[Path, bytes]:
    """A fresh RSA key file and its public key as published in DNS (base64 DER)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test key")
    key = tmp_path / "dkim.pem"
    subprocess.run(
        ["openssl", "genrsa", "-traditional", "-out", str(key), "2048"],
        check=True,
        capture_output=True,
    )
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return key, base64.b64encode(public)


async def test_signed_copies_verify_and_a_changed_one_does_not(
    database: Database,
    mail_settings: Settings,
    smtp_server: SmtpServer,
    dkim_key: tuple[Path, bytes],
) -> None:
    key, public = dkim_key
    settings = mail_settings.model_copy(
        update={"dkim_key_file": str(key), "dkim_selector": "cz2026"}
    )
    account = await make_account(database, email="cuenta@dkim.example.com")
    async with database.session() as session, session.begin():
        session.add(
            Contact(
                account_id=account.id,
                first_name="Facturas",
                email="facturas@dkim.example.com",
                categories=frozenset({EmailCategory.GENERAL}),
            )
        )
        await session.flush()
        await notify_account(
            session,
            settings,
            account=account,
            category=EmailCategory.GENERAL,
            template="account_notice",
            title="Horario de año nuevo",
            body="Atendemos el 2 de enero de 9 a 14 h.",
        )
    await MailWorker(database, settings).drain()

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"cz2026._domainkey.clientzone.example.com."
        return b"v=DKIM1; k=rsa; p=" + public

    assert len(smtp_server.received) == 2
    for received in smtp_server.received:
        assert b"d=clientzone.example.com" in received.raw
        assert dkim.verify(received.raw, dnsfunc=dns)
        assert not dkim.verify(received.raw.replace(b"Atendemos", b"Atendimos", 1), dnsfunc=dns)


async def test_a_brands_mail_is_signed_for_its_own_domain_unless_dkim_domain_is_set(
    database: Database,
    mail_settings: Settings,
    smtp_server: SmtpServer,
    dkim_key: tuple[Path, bytes],
) -> None:
    key, public = dkim_key
    account = await make_account(database, number="MX-8800", email="cuenta@dkim.example.com")
    brand = {
        "type": "brand",
        "code": "acme-net",
        "companyName": "Acme Net",
        "supportEmail": "ayuda@acme-net.example",
        "fromAddress": "avisos@acme-net.example",
        "portalUrl": "https://clientes.acme-net.example",
    }
    line = {"type": "account", "number": "MX-8800", "name": account.name, "currency": "MXN"}
    report = await import_billing(
        database, [json.dumps(brand), json.dumps(line | {"brand": "acme-net"})]
    )
    assert report.errors == []
    async with database.session() as session:
        branded = await session.get(Account, account.id)
    assert branded is not None
    signing = mail_settings.model_copy(
        update={"dkim_key_file": str(key), "dkim_selector": "cz2026"}
    )
    for settings in (signing, signing.model_copy(update={"dkim_domain": "clientzone.example.com"})):
        async with database.session() as session, session.begin():
            await notify_account(
                session,
                settings,
                account=branded,
                category=EmailCategory.GENERAL,
                template="account_notice",
                title="Horario",
                body="Atendemos de 9 a 14 h.",
            )
        await MailWorker(database, settings).drain()

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name in (
            b"cz2026._domainkey.acme-net.example.",
            b"cz2026._domainkey.clientzone.example.com.",
        )
        return b"v=DKIM1; k=rsa; p=" + public

    own, fixed = smtp_server.received
    assert b"d=acme-net.example" in own.raw
    assert b"d=clientzone.example.com" in fixed.raw
    assert dkim.verify(own.raw, dnsfunc=dns)
    assert dkim.verify(fixed.raw, dnsfunc=dns)
