"""The `clientzone` command (also `python -m clientzone`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from clientzone.config import ConfigError, Settings, load_settings
from clientzone.db import Database


def _database(settings: Settings) -> Database:
    return Database(settings.database_url, pool_size=settings.database_pool_size)


async def _migrate(settings: Settings) -> None:
    from clientzone.migrate import upgrade

    database = _database(settings)
    try:
        await upgrade(database)
    finally:
        await database.dispose()


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    asyncio.run(_migrate(settings))
    print("database is at the latest migration")
    return 0


def cmd_make_migration(settings: Settings, args: argparse.Namespace) -> int:
    from clientzone.migrate import make_migration

    async def run() -> None:
        database = _database(settings)
        try:
            await make_migration(database, args.message)
        finally:
            await database.dispose()

    asyncio.run(run())
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from clientzone.config import MailSender

    if settings.mail_sender is MailSender.IN_PROCESS and settings.requires_smtp:
        raise ConfigError("invalid SMTP_HOST: required in production (or set MAIL_SENDER=off)")

    if args.workers > 1 and settings.is_sqlite:
        print("note: several workers on SQLite serialise writes; use PostgreSQL in production")
    uvicorn.run(
        "clientzone.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=None if args.reload else args.workers,
        reload=args.reload,
        proxy_headers=True,
        log_level=settings.log_level.lower(),
        log_config=None,  # the app configures logging (text or JSON) itself
    )
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from clientzone.demo import (
        DEMO_LOGINS,
        DEMO_PASSWORD,
        LEGACY_HINT,
        issue_demo_tokens,
        load_demo_data,
    )
    from clientzone.migrate import upgrade

    async def prepare() -> tuple[int, dict[str, str]]:
        database = _database(settings)
        try:
            await upgrade(database)
            added = await load_demo_data(database, settings)
            return added, await issue_demo_tokens(database)
        finally:
            await database.dispose()

    added, tokens = asyncio.run(prepare())
    print(f"demo data ready ({added} rows added) in {settings.database_url}")
    print(f"demo logins (password: {DEMO_PASSWORD}):")
    for login in DEMO_LOGINS:
        print(f"  {login.email:<26} {login.description}")
        if login.email in tokens:
            print(f"  {'':<26} Authorization: Bearer {tokens[login.email]}")
    print(LEGACY_HINT)
    print(f"GraphiQL: http://{args.host}:{args.port}/graphql")
    if args.no_serve:
        return 0
    return cmd_serve(settings, args)


def cmd_export_schema(_settings: Settings, args: argparse.Namespace) -> int:
    from clientzone.schema import build_schema

    sdl = build_schema().as_str() + "\n"
    if args.output == "-":
        sys.stdout.write(sdl)
    else:
        Path(args.output).write_text(sdl, encoding="utf-8")
        print(f"schema written to {args.output}")
    return 0


def cmd_token_issue(settings: Settings, args: argparse.Namespace) -> int:
    """A bearer token for a partner integration acting as an existing user."""
    from clientzone.models.sessions import SessionKind, create_session
    from clientzone.models.users import user_by_email

    async def issue() -> str | None:
        database = _database(settings)
        try:
            async with database.session() as session, session.begin():
                user = await user_by_email(session, args.email)
                if user is None:
                    return None
                token, _ = await create_session(
                    session,
                    user_id=user.id,
                    kind=SessionKind.TOKEN,
                    lifetime=timedelta(days=args.days),
                    label=args.label,
                )
                return token
        finally:
            await database.dispose()

    token = asyncio.run(issue())
    if token is None:
        print(f"error: no user with email {args.email}", file=sys.stderr)
        return 1
    print(token)
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    """Send the outbox: until stopped (SIGINT/SIGTERM), or until it is empty (--drain)."""
    import signal

    from clientzone.logs import configure_logging
    from clientzone.mailers.worker import MailWorker

    configure_logging(settings)
    if settings.requires_smtp:
        raise ConfigError("invalid SMTP_HOST: required in production")

    async def run() -> int:
        database = _database(settings)
        worker = MailWorker(database, settings)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, worker.stop)
        try:
            if args.drain:
                return await worker.drain()
            await worker.run()
            return 0
        finally:
            await database.dispose()

    handled = asyncio.run(run())
    if args.drain:
        print(f"{handled} messages handled")
    return 0


def cmd_mail_list(settings: Settings, args: argparse.Namespace) -> int:
    from clientzone.models.mail import EmailStatus, messages

    async def run() -> None:
        database = _database(settings)
        try:
            async with database.session() as session:
                status = EmailStatus(args.status.upper()) if args.status else None
                rows = await messages(session, status=status, limit=args.limit)
        finally:
            await database.dispose()
        for row in rows:
            when = (row.sent_at or row.created_at).strftime("%Y-%m-%d %H:%M")
            kind = row.category.value if row.category else "LOGIN"
            print(f"{row.id}  {row.status.value:<7} {when}  {kind:<8} {row.subject}")
            print(f"{'':38}to {', '.join(row.recipients)}")

    asyncio.run(run())
    return 0


def cmd_mail_show(settings: Settings, args: argparse.Namespace) -> int:
    import uuid

    from clientzone.models.mail import message_by_id

    async def run() -> int:
        database = _database(settings)
        try:
            async with database.session() as session:
                row = await message_by_id(session, uuid.UUID(args.id))
        finally:
            await database.dispose()
        if row is None:
            print(f"error: no message {args.id}", file=sys.stderr)
            return 1
        print(f"Message-ID: {row.message_id}")
        print(f"Status:     {row.status.value} (attempts {row.attempts})")
        if row.last_error:
            print(f"Last error: {row.last_error}")
        print(f"To:         {', '.join(row.recipients)}")
        print(f"Subject:    {row.subject}")
        print()
        print(row.text_body)
        return 0

    return asyncio.run(run())


def cmd_legacy_import(settings: Settings, args: argparse.Namespace) -> int:
    """Import old-portal logins (JSON lines); bad lines are reported and skipped."""
    from clientzone.legacy_import import ImportReport, import_legacy_logins

    try:
        # Bytes: a line that is not UTF-8 is then one bad line, not a crash.
        source = Path(args.file).open("rb")  # noqa: SIM115 (closed below)
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    printed = 0

    def print_errors(report: ImportReport) -> None:
        nonlocal printed
        for line, reason in report.errors[printed:]:
            print(f"line {line}: {reason}", file=sys.stderr)
        printed = len(report.errors)

    def progress(report: ImportReport, line: int) -> None:
        print_errors(report)
        print(
            f"processed {line} lines... ({report.imported} new, {report.updated} updated, "
            f"{report.skipped} already claimed)",
            file=sys.stderr,
            flush=True,
        )

    async def run() -> ImportReport:
        database = _database(settings)
        try:
            return await import_legacy_logins(database, source, progress=progress)
        finally:
            await database.dispose()

    with source:
        report = asyncio.run(run())
    print_errors(report)
    print(
        f"{report.imported} imported, {report.updated} updated, "
        f"{report.skipped} skipped (already claimed), {len(report.errors)} bad lines"
    )
    return 0


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    """Import billing data (JSON lines); each bad line is reported and leaves nothing."""
    from clientzone.billing_import import ImportReport, import_billing

    try:
        lines = Path(args.file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    total = len(lines)

    def progress(done: int) -> None:
        filled = int(30 * done / total) if total else 30
        print(
            f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} lines",
            end="",
            file=sys.stderr,
            flush=True,
        )

    async def run() -> ImportReport:
        database = _database(settings)
        try:
            return await import_billing(database, lines, progress=progress)
        finally:
            await database.dispose()

    report = asyncio.run(run())
    print(file=sys.stderr)
    for line, reason in report.errors:
        print(f"line {line}: {reason}", file=sys.stderr)
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(report.imported.items()))
    print(
        f"imported: {counts or 'nothing'}; {report.skipped} already imported; "
        f"{len(report.errors)} bad lines skipped"
    )
    return 0


def cmd_account_link(settings: Settings, args: argparse.Namespace) -> int:
    """Link an account under a parent (its owners then reach it as owners)."""
    from clientzone.accounts_admin import LinkError, link_account

    async def run() -> None:
        database = _database(settings)
        try:
            await link_account(database, child=args.account, parent=args.parent)
        finally:
            await database.dispose()

    try:
        asyncio.run(run())
    except LinkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    target = f"under {args.parent}" if args.parent else "on its own"
    print(f"{args.account} is now {target}")
    return 0


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def cmd_case(settings: Settings, args: argparse.Namespace) -> int:
    """Support staff's answer or status change on a case (until the staff API)."""
    from clientzone import support_desk
    from clientzone.events import LocalEventBus, build_event_bus
    from clientzone.models.cases import CaseStatus, parse_number

    number = parse_number(args.number)
    if number is None:
        print(f"error: not a case number: {args.number}", file=sys.stderr)
        return 2

    async def run() -> str:
        database = _database(settings)
        events = build_event_bus(settings.database_url, settings.redis_url, settings.redis_prefix)
        if isinstance(events, LocalEventBus):
            print(
                "note: on SQLite without REDIS_URL, open pages are not told live "
                "(they see the change when they read the case again)",
                file=sys.stderr,
            )
        try:
            if args.case_command == "comment":
                await support_desk.comment(
                    database,
                    settings,
                    events,
                    number=number,
                    body=args.body,
                    author=args.author,
                    internal=args.internal,
                )
                return "internal note added" if args.internal else "comment added"
            case = await support_desk.set_status(
                database,
                settings,
                events,
                number=number,
                status=CaseStatus(args.status),
                author=args.author,
            )
            return f"{case.display_number} is now {case.status.value}"
        finally:
            await events.close()
            await database.dispose()

    try:
        print(asyncio.run(run()))
    except support_desk.DeskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clientzone", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    def serve_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--host", default="127.0.0.1")
        command.add_argument("--port", type=int, default=8000)
        command.add_argument("--workers", type=int, default=1)
        command.add_argument("--reload", action="store_true", help="restart on code changes")

    serve = commands.add_parser("serve", help="serve GraphQL over HTTP")
    serve_options(serve)
    serve.set_defaults(handler=cmd_serve)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(handler=cmd_migrate)

    make_migration = commands.add_parser(
        "make-migration", help="write a migration from model changes (development)"
    )
    make_migration.add_argument("message")
    make_migration.set_defaults(handler=cmd_make_migration)

    demo = commands.add_parser("demo", help="migrate, load demo data and serve")
    serve_options(demo)
    demo.add_argument("--no-serve", action="store_true", help="load the data and stop")
    demo.set_defaults(handler=cmd_demo)

    export = commands.add_parser("export-schema", help="print the GraphQL SDL")
    export.add_argument("--output", "-o", default="-", help="file to write (default: stdout)")
    export.set_defaults(handler=cmd_export_schema)

    worker = commands.add_parser("worker", help="send queued email")
    worker.add_argument("--drain", action="store_true", help="stop when nothing is due")
    worker.set_defaults(handler=cmd_worker)

    mail = commands.add_parser("mail", help="look at the outbox")
    mail_commands = mail.add_subparsers(dest="mail_command", required=True)
    mail_list = mail_commands.add_parser("list", help="the newest messages")
    mail_list.add_argument("--status", choices=["queued", "sending", "sent", "failed", "dead"])
    mail_list.add_argument("--limit", type=int, default=20)
    mail_list.set_defaults(handler=cmd_mail_list)
    mail_show = mail_commands.add_parser("show", help="one message in full")
    mail_show.add_argument("id")
    mail_show.set_defaults(handler=cmd_mail_show)

    token = commands.add_parser("token", help="bearer tokens for partner integrations")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    issue = token_commands.add_parser("issue", help="issue a token acting as a user")
    issue.add_argument("email")
    issue.add_argument("--days", type=_positive_int, default=90)
    issue.add_argument("--label", default="partner")
    issue.set_defaults(handler=cmd_token_issue)

    billing = commands.add_parser("import", help="import billing data (JSON lines)")
    billing.add_argument("file")
    billing.set_defaults(handler=cmd_import)

    legacy = commands.add_parser("legacy", help="logins of the old portal")
    legacy_commands = legacy.add_subparsers(dest="legacy_command", required=True)
    legacy_import = legacy_commands.add_parser("import", help="import a JSON-lines file")
    legacy_import.add_argument("file")
    legacy_import.set_defaults(handler=cmd_legacy_import)

    account = commands.add_parser("account", help="accounts (staff tasks)")
    account_commands = account.add_subparsers(dest="account_command", required=True)
    link = account_commands.add_parser("link", help="link an account under a parent")
    link.add_argument("account", help="customer number of the account to link")
    link.add_argument("--parent", help="customer number of the parent (omit to unlink)")
    link.set_defaults(handler=cmd_account_link)

    from clientzone.models.cases import CaseStatus

    case = commands.add_parser("case", help="answer cases as support staff")
    case_commands = case.add_subparsers(dest="case_command", required=True)
    comment = case_commands.add_parser("comment", help="answer a case (emails the customer)")
    comment.add_argument("number", help="e.g. CS-000123")
    comment.add_argument("body")
    comment.add_argument("--internal", action="store_true", help="a note customers never see")
    comment.add_argument("--author", default="Soporte")
    comment.set_defaults(handler=cmd_case)
    status = case_commands.add_parser("status", help="move a case to another status")
    status.add_argument("number", help="e.g. CS-000123")
    status.add_argument("status", choices=[s.value for s in CaseStatus])
    status.add_argument("--author", default="Soporte")
    status.set_defaults(handler=cmd_case)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        result: int = args.handler(settings, args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return result
