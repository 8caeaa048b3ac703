"""DKIM: with a key configured, every copy is signed and the signature verifies."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import dkim
import pytest

from clientzone.config import Settings
from clientzone.db import Database
from clientzone.mailers.outbox import notify_account
from clientzone.mailers.worker import MailWorker
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
