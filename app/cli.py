"""The ``assetlink`` command: serve, worker, migrate, token, openapi, import-directory,
sync-directory, import-areas, seed-demo, refresh-reports, purge."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from app.auth.principal import ODS_CODE, Role
from app.config import Settings, get_settings

T = TypeVar("T")

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from app.ops.logging import configure_logging

    configure_logging(settings.log_level)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,  # the service writes its own access log, without query strings
        log_config=None,
        proxy_headers=True,
        timeout_graceful_shutdown=30,
    )
    return 0


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    import logging
    import signal

    import httpx

    from app.db import create_engine, create_sessionmaker
    from app.directory import sync
    from app.notifications.worker import Worker
    from app.ops.logging import configure_logging

    configure_logging(settings.log_level)
    log = logging.getLogger("assetlink.worker")
    if args.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(args.metrics_port)

    async def run() -> None:
        engine = create_engine(settings)
        try:
            async with (
                httpx.AsyncClient(follow_redirects=False) as http,
                httpx.AsyncClient(follow_redirects=True, max_redirects=5) as feeds,
            ):
                sessionmaker = create_sessionmaker(engine)
                worker = Worker(settings, sessionmaker, http, concurrency=args.concurrency)
                messages = _message_worker(settings, sessionmaker)
                loop = asyncio.get_running_loop()
                workers = [worker] if messages is None else [worker, messages]
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(sig, _stop_all(workers))
                log.info(
                    "worker started",
                    extra={"concurrency": args.concurrency, "messages": messages is not None},
                )
                await asyncio.gather(  # deliveries, messages, the directory's scheduled syncs
                    worker.run(once=args.once),
                    *([messages.run(once=args.once)] if messages is not None else []),
                    sync.run_scheduled(
                        settings, sessionmaker, feeds, worker.stopping, once=args.once
                    ),
                )
                log.info("worker stopped")
        finally:
            await engine.dispose()

    asyncio.run(run())
    return 0


def _message_worker(settings: Settings, sessionmaker: Any) -> Any:
    """The messages' worker (GOV.UK Notify), when an API key is set; else None (logged)."""
    import logging

    from app.messages.notify import Notify
    from app.messages.worker import MessageWorker

    if settings.notify_api_key is None:
        logging.getLogger("assetlink.worker").info(
            "messages off: ASSETLINK_NOTIFY_API_KEY is not set"
        )
        return None
    client = Notify(
        settings.notify_api_key.get_secret_value(),
        settings.notify_base_url,
        settings.notify_timeout_s,
    )
    return MessageWorker(settings, sessionmaker, client)


def _stop_all(workers: Sequence[Any]) -> Callable[[], None]:
    def stop() -> None:
        for worker in workers:
            worker.stop()

    return stop


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from app import migrations

    if settings.database_url.startswith("sqlite"):
        _ensure_sqlite_folder(settings.database_url)
    if args.downgrade:
        migrations.downgrade(settings.database_url, args.revision or "base")
    else:
        migrations.upgrade(settings.database_url, args.revision or "head")
    return 0


def _ensure_sqlite_folder(url: str) -> None:
    path = url.split(":///", 1)[-1].split("?", 1)[0]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


DEMO_ORGS = {  # ODS-shaped codes of the demo organisations, one per role
    Role.REFERRER: "A81001",
    Role.LINK_WORKER: "Y02718",
    Role.PROVIDER: "DEMOPROV1",
    Role.COMMISSIONER: "15N",
    Role.ADMIN: "X26",
}


def _demo_tokens(settings: Settings) -> int:
    from app.auth.tokens import mint_hs256

    print("Development tokens (8 hours; HS256 with the development secret):")
    for role, org in DEMO_ORGS.items():
        token = mint_hs256(settings, role=role, org=org, sub=f"demo-{role.value}")
        print(f"\n  {role.value} ({org}):\n    export TOKEN_{role.value.upper()}={token}")
    print(
        '\nTry: curl -H "Authorization: Bearer $TOKEN_ADMIN" http://127.0.0.1:8000/fhir/AuditEvent'
    )
    return 0


def _token(args: argparse.Namespace, settings: Settings) -> int:
    from app.auth.tokens import mint_hs256

    if args.demo:
        return _demo_tokens(settings)
    if not args.role or not args.org:
        print("--role and --org are required (or --demo)", file=sys.stderr)
        return 2
    org = args.org.upper()
    if not ODS_CODE.match(org):
        print(f"not an ODS code: {args.org!r}", file=sys.stderr)
        return 2
    token = mint_hs256(
        settings, role=Role(args.role), org=org, sub=args.sub, ttl_s=args.ttl, scope=args.scope
    )
    print(token)
    return 0


def _openapi(args: argparse.Namespace, settings: Settings) -> int:
    from app.main import create_app

    document = create_app(settings).openapi()
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    if args.check:
        if not args.output.exists() or args.output.read_text() != text:
            print(f"{args.output} differs from the app; run `assetlink openapi`", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"wrote {args.output}")
    return 0


def _in_transaction(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``work(session)`` in one transaction on a fresh engine (committed when it returns)."""
    from app.db import create_engine, create_sessionmaker, transaction

    async def run() -> T:
        engine = create_engine(settings, pooled=False)
        try:
            async with transaction(create_sessionmaker(engine), write=True) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _import_directory(args: argparse.Namespace, settings: Settings) -> int:
    from app.directory import importer
    from app.errors import Unprocessable

    try:
        document = json.loads(args.file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        print(f"{args.file}: cannot read JSON ({exc})", file=sys.stderr)
        return 2
    try:
        report = _in_transaction(settings, lambda s: importer.import_services(s, document))
    except Unprocessable as exc:
        print(f"{exc.message}:", file=sys.stderr)
        for issue in exc.all_issues():
            print(f"  {issue.expression}: {issue.message}", file=sys.stderr)
        return 1
    print(report.model_dump_json(indent=2))
    return 0


def _sync_directory(args: argparse.Namespace, settings: Settings) -> int:
    import httpx

    from app.db import create_engine, create_sessionmaker
    from app.directory import sync
    from app.directory.schemas import SyncReport
    from app.errors import AppError

    async def run() -> SyncReport:
        engine = create_engine(settings, pooled=False)
        try:
            async with httpx.AsyncClient(follow_redirects=True, max_redirects=5) as http:
                return await sync.sync_feed(
                    create_sessionmaker(engine),
                    http,
                    args.url,
                    sync.fetch_options(settings),
                    since=args.since,
                    full=args.full,
                )
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(run())
    except AppError as exc:
        print(f"{exc.message}:" if exc.issues else exc.message, file=sys.stderr)
        for issue in exc.issues:
            print(f"  {issue.expression}: {issue.message}", file=sys.stderr)
        return 2 if exc.status == 400 else 1
    print(report.model_dump_json(indent=2))
    return 0


def _aware(raw: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(raw)
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("a date and time with a time zone (…Z or +01:00)")
    return value


def _import_areas(args: argparse.Namespace, settings: Settings) -> int:
    from dataclasses import asdict

    from app.areas import importer

    if args.postcodes is None and args.imd is None:
        print("give --postcodes FILE and/or --imd FILE", file=sys.stderr)
        return 2
    try:
        report = _in_transaction(
            settings,
            lambda s: importer.import_areas(s, postcodes_file=args.postcodes, imd_file=args.imd),
        )
    except importer.AreaFileError as exc:
        print(f"nothing imported: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(asdict(report), indent=2))
    return 0


def _seed_demo(args: argparse.Namespace, settings: Settings) -> int:
    from app.db import create_engine, create_sessionmaker
    from app.demo.seed import DemoOptions, seed_demo

    async def run() -> list[str]:
        engine = create_engine(settings, pooled=False)
        try:
            return await seed_demo(
                create_sessionmaker(engine),
                DemoOptions(
                    activities=args.activities,
                    seed=args.seed,
                    area=args.area,
                    referrals=args.referrals,
                    as_of=args.as_of,
                    history=args.history,
                ),
            )
        finally:
            await engine.dispose()

    for line in asyncio.run(run()):
        print(line)
    return 0


def _refresh_reports(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from app.db import create_engine, create_sessionmaker
    from app.reporting import summary

    async def run() -> summary.Refreshed:
        engine = create_engine(settings, pooled=False)
        try:
            return await summary.refresh(create_sessionmaker(engine), everything=args.all)
        finally:
            await engine.dispose()

    started = time.perf_counter()
    refreshed = asyncio.run(run())
    took = time.perf_counter() - started
    print(f"report summaries of {refreshed.referrals} referrals refreshed in {took:.1f} s")
    return 0


def _purge(args: argparse.Namespace, settings: Settings) -> int:
    from app import retention
    from app.db import create_engine, create_sessionmaker

    today = dt.datetime.now(dt.UTC).date()
    try:
        latest = today.replace(year=today.year - settings.retention_years)
    except ValueError:  # 29 February, to a year without one
        latest = today.replace(year=today.year - settings.retention_years, day=28)
    before: dt.date = args.before or latest
    if before > latest:
        print(
            f"--before {before} is inside the retention period (ASSETLINK_RETENTION_YEARS="
            f"{settings.retention_years}): the latest cut-off today is {latest}",
            file=sys.stderr,
        )
        return 2

    async def run() -> retention.Purged:
        engine = create_engine(settings, pooled=False)
        try:
            cut_off = dt.datetime.combine(before, dt.time(), dt.UTC)
            return await retention.purge(create_sessionmaker(engine), cut_off)
        finally:
            await engine.dispose()

    purged = asyncio.run(run())
    print(
        f"purged the personal data of {purged.referrals} referrals closed before {before} "
        f"({purged.patients} people removed)"
    )
    return 0


def _add_sync_directory(commands: Any) -> None:
    sync_directory = commands.add_parser(
        "sync-directory",
        help="pull a live Open Referral UK feed into the directory, all or nothing (docs/oruk.md)",
    )
    sync_directory.add_argument("url", help="the ORUK API's root ({url}/services lists them)")
    sync_directory.add_argument(
        "--since",
        type=_aware,
        help="services modified after this (ISO 8601 with a time zone); default: the start of "
        "the feed's last sync",
    )
    sync_directory.add_argument(
        "--full",
        action="store_true",
        help="read every service; the feed's activities it no longer lists are marked inactive",
    )
    sync_directory.set_defaults(run=_sync_directory)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assetlink", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(run=_serve)

    worker = commands.add_parser(
        "worker", help="deliver Task change notifications to subscriptions (docs/notifications.md)"
    )
    worker.add_argument("--once", action="store_true", help="stop when nothing is due now")
    worker.add_argument(
        "--concurrency", type=_concurrency, default=8, help="deliveries in flight at once"
    )
    worker.add_argument(
        "--metrics-port", type=int, default=0, help="serve Prometheus metrics here (0: off)"
    )
    worker.set_defaults(run=_worker)

    migrate = commands.add_parser("migrate", help="bring the schema to the migration head")
    migrate.add_argument("--revision", help="target revision (default: head, or base)")
    migrate.add_argument("--downgrade", action="store_true", help="downgrade instead")
    migrate.set_defaults(run=_migrate)

    token = commands.add_parser("token", help="print a development token (HS256)")
    token.add_argument("--role", choices=[r.value for r in Role])
    token.add_argument("--org", help="ODS code of the caller's organisation")
    token.add_argument("--demo", action="store_true", help="one token per role, demo orgs")
    token.add_argument("--sub", help="subject (default: generated)")
    token.add_argument("--scope", help="SMART scopes, space-separated")
    token.add_argument("--ttl", type=int, default=8 * 3600, help="lifetime in seconds")
    token.set_defaults(run=_token)

    openapi = commands.add_parser("openapi", help="write the OpenAPI document")
    openapi.add_argument("--output", type=Path, default=OPENAPI_PATH)
    openapi.add_argument("--check", action="store_true", help="fail if the file differs")
    openapi.set_defaults(run=_openapi)

    import_directory = commands.add_parser(
        "import-directory", help="import an Open Referral UK JSON export (all or nothing)"
    )
    import_directory.add_argument("file", type=Path, help="services: a list or an ORUK page")
    import_directory.set_defaults(run=_import_directory)
    _add_sync_directory(commands)

    import_areas = commands.add_parser(
        "import-areas", help="load the ONS postcode lookup and/or the IMD deciles (CSV)"
    )
    import_areas.add_argument("--postcodes", type=Path, help="NSPL or ONSPD CSV (docs/areas.md)")
    import_areas.add_argument("--imd", type=Path, help="English IoD File 7 CSV (docs/areas.md)")
    import_areas.set_defaults(run=_import_areas)

    seed = commands.add_parser("seed-demo", help="load the demo data (idempotent)")
    seed.add_argument("--activities", type=_count, default=300, help="demo activities")
    seed.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
    seed.add_argument(
        "--area",
        choices=("borough", "region"),  # app.demo.directory.LAYOUTS
        default="borough",
        help="activities in one borough, or spread over a region of borough-sized tiles",
    )
    seed.add_argument("--referrals", type=_count, default=0, help="demo referrals")
    seed.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        default=None,
        help="referrals are authored in the 18 months up to this day (default: today)",
    )
    seed.add_argument(
        "--no-history",
        dest="history",
        action="store_false",
        help="referrals without bookings and outcomes (their Task walks only)",
    )
    seed.set_defaults(run=_seed_demo)

    refresh = commands.add_parser(
        "refresh-reports",
        help="bring the report summary tables up to date (after a bulk load; docs/reports.md)",
    )
    refresh.add_argument(
        "--all",
        action="store_true",
        help="rebuild the summaries of every referral, not only of those queued as changed",
    )
    refresh.set_defaults(run=_refresh_reports)

    purge = commands.add_parser(
        "purge", help="remove the personal data of referrals closed before a date"
    )
    purge.add_argument(
        "--before",
        type=dt.date.fromisoformat,
        help="cut-off date (YYYY-MM-DD); default and latest: today less the retention period",
    )
    purge.set_defaults(run=_purge)
    return parser


def _count(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 10_000_000:
        raise argparse.ArgumentTypeError("between 0 and 10000000")
    return value


def _concurrency(raw: str) -> int:
    value = int(raw)
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError("between 1 and 256")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.run(args, get_settings())
    return code


if __name__ == "__main__":
    sys.exit(main())
