"""The `clientzone` command (also `python -m clientzone`)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from clientzone.config import (
    INSECURE_DEV_SECRET,
    ConfigError,
    Settings,
    is_loopback_url,
    load_settings,
)
from clientzone.db import Database


def _database(settings: Settings) -> Database:
    return Database.from_settings(settings)


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

    bind = f"[{args.host}]" if ":" in args.host else args.host
    if settings.secret_key == INSECURE_DEV_SECRET and not is_loopback_url(f"http://{bind}"):
        raise ConfigError(
            "invalid SECRET_KEY: the built-in development key only serves 127.0.0.1 or localhost"
        )
    workers = serve_workers(args.workers)
    if workers > 1 and settings.is_sqlite:
        print("note: several workers on SQLite serialise writes; use PostgreSQL in production")
    # Caches that rely on hearing the other processes need to know there are any.
    os.environ["CLIENTZONE_PROCESSES"] = str(workers)
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # The workers' metrics are added up at scrape time from files here.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="clientzone-metrics-")
    uvicorn.run(
        "clientzone.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=None if args.reload else workers,
        reload=args.reload,
        proxy_headers=True,
        # Only these proxies' X-Forwarded-For / -Proto are believed (docs/deployment.md).
        forwarded_allow_ips=settings.forwarded_allow_ips,
        server_header=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        log_level=settings.log_level.lower(),
        log_config=None,  # the app configures logging (text or JSON) itself
    )
    return 0


def serve_workers(asked: int | None) -> int:
    """Worker processes: as asked, else one per core (WEB_CONCURRENCY too)."""
    if asked is not None:
        return max(1, asked)
    from_env = os.environ.get("WEB_CONCURRENCY", "")
    if from_env.isdigit() and int(from_env) > 0:
        return int(from_env)
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def demo_public_url(settings: Settings, host: str, port: int) -> str:
    """PUBLIC_BASE_URL when set, else where the demo listens."""
    if "public_base_url" in settings.model_fields_set:
        return settings.public_base_url
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
    return f"http://{shown}:{port}"


def demo_signup_mode(settings: Settings) -> str:
    """Which of the two portals the demo is, and how to get the other."""
    if settings.signup_enabled:
        return (
            "sign-up: OPEN portal (SIGNUP_ENABLED=true): anyone may create a login "
            "with signUp; for an invitation-only portal run "
            "`clientzone demo --invitation-only` (or SIGNUP_ENABLED=false)"
        )
    return (
        "sign-up: INVITATION-ONLY portal (SIGNUP_ENABLED=false): signUp answers "
        "SIGNUP_DISABLED; people arrive by invitation (inviteUser, or support's "
        "staffSendFirstInvitation) and then claim old-portal logins "
        "(claimLegacyAccount); for an open portal run `clientzone demo` "
        "without --invitation-only and with SIGNUP_ENABLED unset"
    )


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from clientzone.config import Environment
    from clientzone.demo.data import (
        DEMO_LOGINS,
        DEMO_PASSWORD,
        DEMO_STAFF_EMAIL,
        DEMO_STAFF_TOTP_SECRET,
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

    # Links (emails, the sandbox checkout, allowed origins) follow the demo's
    # own address unless PUBLIC_BASE_URL says otherwise.
    public_url = demo_public_url(settings, args.host, args.port)
    if public_url != settings.public_base_url:
        os.environ["PUBLIC_BASE_URL"] = public_url
        settings = load_settings()
    if args.invitation_only and settings.signup_enabled:
        os.environ["SIGNUP_ENABLED"] = "false"
        settings = load_settings()

    added, tokens = asyncio.run(prepare())
    print(f"demo data ready ({added} rows added) in {settings.database_url}")
    print(f"demo logins (password: {DEMO_PASSWORD}):")
    for login in DEMO_LOGINS:
        print(f"  {login.email:<26} {login.description}")
        if login.email in tokens:
            print(f"  {'':<26} Authorization: Bearer {tokens[login.email]}")
    print(LEGACY_HINT)
    if settings.environment is Environment.DEVELOPMENT:
        print(
            f"staff login (ADMIN, development only): {DEMO_STAFF_EMAIL}, same password; "
            f"TOTP secret {DEMO_STAFF_TOTP_SECRET} (add it to an authenticator app, then "
            "staffVerifySecondFactor; see docs/staff.md)"
        )
    print(demo_signup_mode(settings))
    print(f"explorer: {settings.public_base_url}/graphql")
    if args.no_serve:
        return 0
    args.workers = args.workers or 1  # one process is plenty for trying it out
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


def cmd_documents_register(settings: Settings, args: argparse.Namespace) -> int:
    from clientzone.documents_admin import DocumentError, read_documents, register

    try:
        documents = read_documents(args.files)
    except DocumentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    async def run() -> int:
        database = _database(settings)
        try:
            return await register(database, documents)
        finally:
            await database.dispose()

    added = asyncio.run(run())
    print(f"{len(documents)} documents registered ({added} new)")
    return 0


def cmd_documents_list(settings: Settings, _args: argparse.Namespace) -> int:
    from clientzone.documents_admin import registered

    async def run() -> list[tuple[str, str | None]]:
        database = _database(settings)
        try:
            return await registered(database)
        finally:
            await database.dispose()

    for sha256, names in asyncio.run(run()):
        print(f"{sha256}  {names or '-'}")
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    """Send the outbox: until stopped (SIGINT/SIGTERM), or until it is empty (--drain)."""
    import signal

    from clientzone.core.logs import configure_logging
    from clientzone.mailers.scheduler import Scheduler
    from clientzone.mailers.worker import MailWorker
    from clientzone.payments.operations import expiry_loop
    from clientzone.webhooks.worker import WebhookWorker

    configure_logging(settings)
    if settings.requires_smtp:
        raise ConfigError("invalid SMTP_HOST: required in production")

    async def run() -> int:
        database = _database(settings)
        worker = MailWorker(database, settings)
        scheduler = Scheduler(database, settings, on_queued=worker.wake)
        webhooks = WebhookWorker(database, settings)
        stopping = asyncio.Event()

        def stop() -> None:
            worker.stop()
            webhooks.stop()
            scheduler.stop()
            stopping.set()

        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop)
        try:
            if args.drain:
                await scheduler.run_once()
                await webhooks.drain()
                return await worker.drain()
            # Checkouts never completed expire here too (PAYMENT_EXPIRY_MINUTES).
            expiry = asyncio.create_task(expiry_loop(database, settings, stopping))
            await asyncio.gather(worker.run(), scheduler.run(), webhooks.run())
            stopping.set()
            await expiry
            return 0
        finally:
            await database.dispose()

    handled = asyncio.run(run())
    if args.drain:
        print(f"{handled} messages handled")
    return 0


def cmd_jobs_list(settings: Settings, args: argparse.Namespace) -> int:
    """What the scheduler did: counts by kind and outcome, then the newest jobs."""
    from clientzone.models.jobs import job_counts, recent_jobs

    async def run() -> None:
        database = _database(settings)
        try:
            async with database.session() as session:
                counts = await job_counts(session)
                jobs = await recent_jobs(session, kind=args.kind, limit=args.limit)
        finally:
            await database.dispose()
        for (kind, outcome), count in sorted(counts.items()):
            print(f"{kind:<20} {outcome:<7} {count}")
        if counts:
            print()
        for job in jobs:
            done = job.done_at.strftime("%Y-%m-%d %H:%M:%S")
            period = job.period or "-"
            print(f"{done}  {job.kind:<20} {period:<14} {job.outcome.value:<7} {job.subject_id}")

    asyncio.run(run())
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


def _utc(value: str) -> datetime:
    """An ISO 8601 date or time for --since/--until; without an offset, UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or time: {value}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def cmd_mail_retry(settings: Settings, args: argparse.Namespace) -> int:
    """Requeue DEAD mail (by id, or every DEAD message queued in a window);
    one-time links and codes that stopped working are skipped, with why."""
    import uuid

    from clientzone.mailers.retry import RetryOutcome, RetryResult, retry_dead_mail

    if bool(args.ids) == bool(args.status):
        print("error: give message ids, or --status dead (with --since/--until)", file=sys.stderr)
        return 2
    if args.ids and (args.since or args.until):
        print("error: --since/--until go with --status dead, not with ids", file=sys.stderr)
        return 2
    try:
        ids = [uuid.UUID(i) for i in args.ids] if args.ids else None
    except ValueError as exc:
        print(f"error: not a message id: {exc}", file=sys.stderr)
        return 2

    async def run() -> list[RetryResult]:
        database = _database(settings)
        try:
            async with database.transaction() as session:
                return await retry_dead_mail(
                    session,
                    message_ids=ids,
                    since=args.since,
                    until=args.until,
                    dry_run=args.dry_run,
                )
        finally:
            await database.dispose()

    results = asyncio.run(run())
    verb = "would requeue" if args.dry_run else "requeued"
    for result in results:
        row = result.message
        what = f"{row.template} to {', '.join(row.recipients)}" if row else ""
        if result.outcome is RetryOutcome.REQUEUED:
            print(f"{result.message_id}  {verb}  {what}")
        elif result.outcome is RetryOutcome.EXPIRED:
            print(f"{result.message_id}  skipped  {what}: {result.reason}")
        else:
            reason = result.reason or "no such message"
            print(f"error: {result.message_id} not requeued: {reason}", file=sys.stderr)
    counts = {o: sum(r.outcome is o for r in results) for o in RetryOutcome}
    print(
        f"{counts[RetryOutcome.REQUEUED]} {verb}, {counts[RetryOutcome.EXPIRED]} skipped "
        f"(link or code no longer valid), "
        f"{counts[RetryOutcome.NOT_DEAD] + counts[RetryOutcome.NOT_FOUND]} not DEAD or not found"
    )
    failed = counts[RetryOutcome.NOT_DEAD] + counts[RetryOutcome.NOT_FOUND]
    return 1 if failed else 0


def cmd_legacy_import(settings: Settings, args: argparse.Namespace) -> int:
    """Import old-portal logins (JSON lines); bad lines are reported and skipped."""
    from clientzone.importers.legacy import ImportReport, import_legacy_logins

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
    """Import billing data (JSON lines); each bad line is reported and leaves nothing.

    Always ends with the summary. Exit status: 0 every line imported (or
    imported before), 1 some lines were bad (the rest went in), 2 the file
    cannot be read, 3 the database failed and the run stopped at a line.
    """
    from clientzone.importers.billing import ImportReport, import_billing
    from clientzone.mailers.scheduler import Scheduler

    try:
        # Bytes, split on line ends only: a line that is not UTF-8 is a bad line.
        lines = Path(args.file).read_bytes().splitlines()
    except OSError as exc:
        print(f"error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
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
            report = await import_billing(
                database,
                lines,
                progress=progress,
                credentials_key=settings.credentials_key(),
                default_brand=settings.brand_code,
            )
            if report.imported.keys() & {"invoice", "order", "service"}:
                # Queued now, sent by the workers: new invoices, orders placed
                # or changed, services begun or stopped are announced once.
                queued = await Scheduler(database, settings).announce_imported()
                report.announced = sum(queued.values())
            return report
        finally:
            await database.dispose()

    try:
        report = asyncio.run(run())
    except Exception as exc:  # e.g. a DATABASE_URL that names no usable database
        report = ImportReport(stopped=(1, f"{type(exc).__name__}: {exc}"))
    print(file=sys.stderr)
    for line, reason in report.errors:
        print(f"line {line}: {reason}", file=sys.stderr)
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(report.imported.items()))
    summary = (
        f"imported: {counts or 'nothing'}; {report.skipped} already imported; "
        f"{len(report.errors)} bad lines skipped"
    )
    if report.stopped is not None:
        line, reason = report.stopped
        print(f"stopped at line {line}: {reason}", file=sys.stderr)
        summary += f"; stopped at line {line}: it and the lines after it were not imported"
    print(summary)
    if report.announced:
        print(f"{report.announced} emails queued (invoices, orders, services)", file=sys.stderr)
    if report.stopped is not None:
        return 3
    return 1 if report.errors else 0


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
    from clientzone.models.cases import CaseStatus, parse_number
    from clientzone.realtime.events import LocalEventBus, build_event_bus

    number = parse_number(args.number)
    if number is None:
        print(f"error: not a case number: {args.number}", file=sys.stderr)
        return 2

    async def run() -> str:
        database = _database(settings)
        events = build_event_bus(settings.database_url, settings.redis_url, settings.redis_prefix)
        if isinstance(events, LocalEventBus):
            print(
                "note: on an in-memory database, open pages are not told live "
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


def cmd_staff_add(settings: Settings, args: argparse.Namespace) -> int:
    """Give a login a staff role (creating it, with an emailed set-password link)."""
    from clientzone.models.staff import StaffRole
    from clientzone.staff_admin import StaffAdminError, add_staff

    async def run() -> str:
        database = _database(settings)
        try:
            added = await add_staff(database, settings, args.email, StaffRole(args.role))
        finally:
            await database.dispose()
        what = "created" if added.created else "updated"
        sent = "; a set-password link is in the outbox" if added.link_sent else ""
        return f"staff login {added.user.email} {what} as {args.role}{sent}"

    try:
        print(asyncio.run(run()))
    except StaffAdminError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_payments(settings: Settings, args: argparse.Namespace) -> int:
    """Refund a payment, expire stale checkouts, or reconcile with the providers."""
    from clientzone.payments import operations
    from clientzone.payments.gateway import ProviderError

    async def run() -> list[str]:
        database = _database(settings)
        try:
            if args.payments_command == "refund":
                return [await operations.refund(database, settings, args.payment)]
            if args.payments_command == "expire":
                return [f"{await operations.expire_pending(database, settings)} expired"]
            since = datetime.combine(args.since, datetime.min.time(), UTC)
            found = await operations.reconcile(database, settings, since, fix=args.fix)
            return [str(d) for d in found] + [f"{len(found)} differences"]
        finally:
            await database.dispose()

    try:
        print("\n".join(asyncio.run(run())))
    except (operations.PaymentError, ProviderError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clientzone", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    def serve_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--host", default="127.0.0.1")
        command.add_argument("--port", type=int, default=8000)
        command.add_argument(
            "--workers",
            type=int,
            default=None,
            help="worker processes (default: one per core; WEB_CONCURRENCY overrides)",
        )
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
    demo.add_argument(
        "--invitation-only",
        action="store_true",
        help="serve an invitation-only portal: signUp is off (SIGNUP_ENABLED=false)",
    )
    demo.set_defaults(handler=cmd_demo)

    export = commands.add_parser("export-schema", help="print the GraphQL SDL")
    export.add_argument("--output", "-o", default="-", help="file to write (default: stdout)")
    export.set_defaults(handler=cmd_export_schema)

    worker = commands.add_parser("worker", help="send queued and scheduled email, and webhooks")
    worker.add_argument(
        "--drain", action="store_true", help="queue what is due, send it, then stop"
    )
    worker.set_defaults(handler=cmd_worker)
    jobs = commands.add_parser("jobs", help="scheduled mail").add_subparsers(
        dest="jobs_command", required=True
    )
    jobs_list = jobs.add_parser("list", help="what the scheduler sent, newest first")
    jobs_list.add_argument("--kind", help="e.g. invoice_issued, invoice_overdue")
    jobs_list.add_argument("--limit", type=int, default=50)
    jobs_list.set_defaults(handler=cmd_jobs_list)

    mail = commands.add_parser("mail", help="look at the outbox")
    mail_commands = mail.add_subparsers(dest="mail_command", required=True)
    mail_list = mail_commands.add_parser("list", help="the newest messages")
    mail_list.add_argument("--status", choices=["queued", "sending", "sent", "failed", "dead"])
    mail_list.add_argument("--limit", type=int, default=20)
    mail_list.set_defaults(handler=cmd_mail_list)
    mail_show = mail_commands.add_parser("show", help="one message in full")
    mail_show.add_argument("id")
    mail_show.set_defaults(handler=cmd_mail_show)
    mail_retry = mail_commands.add_parser(
        "retry", help="send DEAD messages again (expired links and codes are skipped)"
    )
    mail_retry.add_argument("ids", nargs="*", metavar="ID", help="messages to requeue")
    mail_retry.add_argument("--status", choices=["dead"], help="every DEAD message (in a window)")
    mail_retry.add_argument("--since", type=_utc, help="queued at or after (ISO 8601, UTC)")
    mail_retry.add_argument("--until", type=_utc, help="queued before (ISO 8601, UTC)")
    mail_retry.add_argument("--dry-run", action="store_true", help="say what would happen")
    mail_retry.set_defaults(handler=cmd_mail_retry)

    token = commands.add_parser("token", help="bearer tokens for partner integrations")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    issue = token_commands.add_parser("issue", help="issue a token acting as a user")
    issue.add_argument("email")
    issue.add_argument("--days", type=_positive_int, default=90)
    issue.add_argument("--label", default="partner")
    issue.set_defaults(handler=cmd_token_issue)

    documents = commands.add_parser("documents", help="trusted GraphQL documents")
    documents_commands = documents.add_subparsers(dest="documents_command", required=True)
    register = documents_commands.add_parser(
        "register", help="register documents (.graphql files or JSON manifests)"
    )
    register.add_argument("files", nargs="+", type=Path)
    register.set_defaults(handler=cmd_documents_register)
    documents_list = documents_commands.add_parser("list", help="the registered documents")
    documents_list.set_defaults(handler=cmd_documents_list)

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

    from clientzone.models.staff import StaffRole

    staff = commands.add_parser("staff", help="support staff logins")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True)
    staff_add = staff_commands.add_parser(
        "add", help="make a login staff (created if needed; emails a set-password link)"
    )
    staff_add.add_argument("email")
    staff_add.add_argument("--role", required=True, choices=[r.value for r in StaffRole])
    staff_add.set_defaults(handler=cmd_staff_add)

    payments = commands.add_parser("payments", help="online payments (staff tasks)")
    payments_commands = payments.add_subparsers(dest="payments_command", required=True)
    refund = payments_commands.add_parser("refund", help="refund a settled payment in full")
    refund.add_argument("payment", help="its id, GraphQL ID or reference (PAY-...)")
    refund.set_defaults(handler=cmd_payments)
    expire = payments_commands.add_parser("expire", help="expire checkouts never completed")
    expire.set_defaults(handler=cmd_payments)
    reconcile = payments_commands.add_parser(
        "reconcile", help="compare the providers' payments with ours"
    )
    reconcile.add_argument("--since", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    reconcile.add_argument("--fix", action="store_true", help="apply what the service missed")
    reconcile.set_defaults(handler=cmd_payments)

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
