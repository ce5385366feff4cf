"""Matching's answers for the demo directory, written canonically, to compare two versions.

Seeds the demo directory (``--activities`` activities, each layout of ``--layouts``) and
``--referrals`` demo referrals into a temporary SQLite file, runs every referral of the demo
link-worker service through the matching service in this process (`service.match_referral`,
with ``include_full`` off and on and the limits of ``--limits``) on one fixed day, and writes one
JSON document: per layout, referral and variant the matches (activity id, score, components,
reasons, attendance, distance, waiting list), ``eligible``, the exclusion count per rule and the
warnings. Floats are written as their ``repr`` (every bit shows), keys sorted.

A change meant to keep matching's answers (a refactor, a speed-up) is checked by running this on
the commit before and after and diffing the two files: they must be identical.

    .venv/bin/python bench/matching_equivalence.py --out after.json
    git worktree add /tmp/before <commit>
    PYTHONPATH=/tmp/before .venv/bin/python bench/matching_equivalence.py --out before.json
    diff before.json after.json

It is not a timing benchmark: it makes a few thousand matches, one after another.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import inspect
import json
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app import migrations
from app.audit import service as audit
from app.auth.dependencies import Caller
from app.auth.policy import Action, authorize
from app.auth.principal import Principal, Role
from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.demo.referrals import LINK_WORKER_ODS
from app.demo.seed import DemoOptions, seed_demo
from app.matching import engine, learning, service, snapshot
from app.referrals import service as referrals_service
from app.referrals.models import Referral

SECRET = "assetlink-equivalence-secret-0123456789abcdef"  # noqa: S105 (a throwaway HS256 key)


def _float(value: float | None) -> str | None:
    return None if value is None else repr(value)


def _canonical(result: engine.MatchResult, warnings: tuple[str, ...]) -> dict[str, Any]:
    return {
        "matches": [
            {
                "activity_id": m.activity_id,
                "score": _float(m.score),
                "components": {
                    name: _float(getattr(m.components, name))
                    for name in engine.Components.__slots__
                },
                "reasons": list(m.reasons),
                "attendance": m.attendance,
                "distance_km": _float(m.distance_km),
                "waitlist": m.waitlist,
            }
            for m in result.matches
        ],
        "eligible": result.eligible,
        "excluded": {str(int(rule)): count for rule, count in result.excluded.items()},
        "warnings": list(warnings),
    }


async def _layout(
    directory: Path, layout: str, args: argparse.Namespace, today: dt.date
) -> dict[str, Any]:
    path = directory / f"{layout}.db"
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(migrations.upgrade, url)
    settings = Settings(database_url=url, jwt_secret=SECRET, log_level="WARNING")
    db = create_engine(settings, pooled=False)
    sessionmaker = create_sessionmaker(db)
    options = DemoOptions(
        activities=args.activities,
        referrals=args.referrals,
        seed=args.seed,
        area=layout,
        as_of=today,
    )
    await seed_demo(sessionmaker, options)
    principal = Principal(sub="equivalence", role=Role.ADMIN, org=LINK_WORKER_ODS)
    caller = Caller(principal, Action.MATCH_READ, authorize(principal, Action.MATCH_READ))
    ctx = referrals_service.Context(caller, audit.Actor(principal, None), sessionmaker)
    answers: dict[str, Any] = {}
    # the snapshot registry the application passes (since issue 14 item 4), when the service
    # takes one: so that the commits before run too
    extra: dict[str, Any] = {}
    parameters = inspect.signature(service.match_referral).parameters
    if "snapshots" in parameters:
        extra["snapshots"] = snapshot.Snapshots()
    if "details" in parameters:  # what is shown of each match (since issue 19): the cards
        extra["details"] = service.CARDS
    if "priors" in parameters:  # the outcome priors of the seeded history, as the API has them
        extra["priors"] = learning.OutcomePriors()
    async with sessionmaker() as session:
        referral_ids = list(
            await session.scalars(
                select(Referral.id)
                .where(Referral.performer_ods == LINK_WORKER_ODS)
                .order_by(Referral.id)
            )
        )
    for referral_id in referral_ids:
        per_variant: dict[str, Any] = {}
        for limit in args.limits:
            for include_full in (False, True):
                async with sessionmaker() as session, session.begin():
                    found = await service.match_referral(
                        session,
                        ctx,
                        referral_id,
                        settings,
                        limit=limit,
                        include_full=include_full,
                        today=today,
                        **extra,
                    )
                per_variant[f"limit={limit},include_full={include_full}"] = _canonical(
                    found.result, found.warnings
                )
        answers[str(referral_id)] = per_variant
    await db.dispose()
    return answers


async def _main(args: argparse.Namespace) -> None:
    today = dt.date.fromisoformat(args.today)
    with tempfile.TemporaryDirectory(prefix="assetlink-equivalence-") as directory:
        document = {
            layout: await _layout(Path(directory), layout, args, today) for layout in args.layouts
        }
    args.out.write_text(json.dumps(document, sort_keys=True, indent=1) + "\n")
    count = sum(len(referrals) for referrals in document.values())
    print(f"{count} referrals x {2 * len(args.limits)} variants written to {args.out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--activities", type=int, default=3000)
    parser.add_argument("--referrals", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--layouts", type=lambda s: s.split(","), default=["borough", "region"])
    parser.add_argument(
        "--limits", type=lambda s: [int(n) for n in s.split(",")], default=[3, 10, 50]
    )
    parser.add_argument("--today", default=dt.datetime.now(dt.UTC).date().isoformat())
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
