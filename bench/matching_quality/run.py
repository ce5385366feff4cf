"""Runs the matching-quality benchmark (``bench/matching_quality.py`` is its command line).

Loads the benchmark's areas and directory into a fresh database, sends each persona's referral
through the real intake (``POST /fhir/ServiceRequest`` in-process, httpx ASGITransport), asks the
matching service for every eligible activity on the run date (`service.match_referral`, the
function behind ``GET /api/v1/referrals/{id}/matches``, with ``today`` fixed so the run is
deterministic), checks the labels (`check`), and scores four rankers over the same eligible
set: ``assetlink`` (the service's order), ``random`` (seeded per persona), ``distance`` (nearest
first, online and phone after, then id) and ``need+distance`` (the service's need-fit
component, higher first, then distance, then id).

Metrics per persona and ranker, over the first five (k = 5):

- nDCG@5 = DCG@5 / IDCG@5 with DCG = sum over ranks i = 1..5 of gain_i / log2(i + 1) and gain 3
  for ``ideal``, 1 for ``accept``, 0 for ``never`` and unlabelled activities; IDCG@5 is the DCG of
  the labelled activities that are eligible on the run date, best gains first;
- ideal recall@5 = ideals in the first five / min(ideals, 5);
- violations = ``never`` activities in the first five.

Overall: the mean of nDCG@5 and recall over personas, the sum of violations, and the number of
personas with nDCG@5 below 0.7.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import random
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app import migrations
from app.areas.importer import FIXTURE_IMD, FIXTURE_POSTCODES, import_areas
from app.audit import service as audit
from app.auth.context import Context
from app.auth.dependencies import Caller
from app.auth.policy import Action, authorize
from app.auth.principal import Principal, Role
from app.auth.tokens import mint_hs256
from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.directory.schemas import ActivityCard
from app.main import create_app
from app.matching import engine, service, snapshot
from app.referrals import service as referrals_service
from app.terminology.suitability import need_category_suitability
from bench.matching_quality import check, directory
from bench.matching_quality.personas import PERSONAS, Persona, referral

HERE = Path(__file__).resolve().parent
SECRET = "assetlink-quality-bench-secret-0123456789abcdef"  # noqa: S105 (a throwaway HS256 key)
LINK_WORKER_ODS = "Y02718"
K = 5
GAINS = {"ideal": 3, "accept": 1, "never": 0}
RUN_DATE = dt.date(2026, 12, 7)  # a Monday
SEED = 19
RANKERS = ("assetlink", "random", "distance", "need+distance")


@dataclass(frozen=True)
class Scores:
    ndcg: float
    recall: float
    violations: int
    top: tuple[str, ...]


@dataclass
class PersonaResult:
    persona: Persona
    eligible: int
    scores: dict[str, Scores]
    problems: list[str]


@dataclass
class Report:
    today: dt.date
    results: list[PersonaResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def overall(self, ranker: str) -> tuple[float, float, int, int]:
        scores = [r.scores[ranker] for r in self.results]
        return (
            sum(s.ndcg for s in scores) / len(scores),
            sum(s.recall for s in scores) / len(scores),
            sum(s.violations for s in scores),
            sum(s.ndcg < 0.7 for s in scores),
        )


def _dcg(gains: Sequence[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains[:K]))


def score(persona: Persona, ranked: Sequence[str], eligible: set[str]) -> Scores:
    """nDCG@5, ideal recall@5 and violations of ``ranked`` (activity ids, best first)."""
    gain = {f"bench-{a}": GAINS[label] for label in GAINS for a in getattr(persona, label)}
    top = tuple(ranked[:K])
    ideal_gains = sorted((g for a, g in gain.items() if a in eligible), reverse=True)
    best = _dcg(ideal_gains)
    ideals = {f"bench-{a}" for a in persona.ideal}
    never = {f"bench-{a}" for a in persona.never}
    return Scores(
        ndcg=_dcg([gain.get(a, 0) for a in top]) / best if best else 0.0,
        recall=len(ideals & set(top)) / min(len(ideals), K) if ideals else 0.0,
        violations=len(never & set(top)),
        top=tuple(a.removeprefix("bench-") for a in top),
    )


def _distance_key(m: engine.Match) -> tuple[bool, float, str]:
    return (m.distance_km is None, m.distance_km or 0.0, m.activity_id)


def rankings(persona: Persona, matches: Sequence[engine.Match]) -> dict[str, list[str]]:
    """Each ranker's order of the eligible activities (``matches``, in the service's order)."""
    ids = sorted(m.activity_id for m in matches)
    shuffled = list(ids)
    random.Random(f"{SEED}:{persona.id}").shuffle(shuffled)
    by: dict[str, Callable[[engine.Match], tuple[Any, ...]]] = {
        "distance": _distance_key,
        "need+distance": lambda m: (-m.components.need_fit, *_distance_key(m)),
    }
    return {
        "assetlink": [m.activity_id for m in matches],
        "random": shuffled,
        **{name: [m.activity_id for m in sorted(matches, key=key)] for name, key in by.items()},
    }


def _combined(fixture: Path, extra: Path, target: Path) -> Path:
    """The app's Hackney fixture with the benchmark's rows for Islington and Tower Hamlets."""
    lines = fixture.read_text().splitlines()
    lines += extra.read_text().splitlines()[1:]
    target.write_text("\n".join(lines) + "\n")
    return target


async def run(
    url: str, personas: Sequence[Persona] = PERSONAS, today: dt.date = RUN_DATE
) -> Report:
    """The benchmark on the (empty) database ``url``: migrated, loaded, matched, scored."""
    report = Report(today)
    report.problems += check.static_problems(personas, directory.activity_ids())
    await asyncio.to_thread(migrations.upgrade, url)
    settings = Settings(
        database_url=url,
        jwt_secret=SECRET,
        log_level="WARNING",
        default_performer_ods=LINK_WORKER_ODS,
        rate_limit_per_s=0,
        match_warmup=False,
    )
    db = create_engine(settings, pooled=False)
    sessionmaker = create_sessionmaker(db)
    with tempfile.TemporaryDirectory(prefix="assetlink-quality-") as tmp:
        async with sessionmaker() as session, session.begin():
            await import_areas(
                session,
                postcodes_file=_combined(
                    FIXTURE_POSTCODES, HERE / "areas_postcodes.csv", Path(tmp) / "postcodes.csv"
                ),
                imd_file=_combined(
                    FIXTURE_IMD, HERE / "areas_deprivation.csv", Path(tmp) / "imd.csv"
                ),
            )
    app = create_app(settings)

    def bearer(role: Role, org: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_hs256(settings, role=role, org=org, sub='bench')}"}

    referral_ids: dict[str, uuid.UUID] = {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench"
    ) as client:
        imported = await client.post(
            "/api/v1/directory/import", json=directory.services(), headers=bearer(Role.ADMIN, "X26")
        )
        if imported.status_code != 200:
            raise RuntimeError(f"directory import failed: {imported.text}")
        for p in personas:
            sent = await client.post(
                "/fhir/ServiceRequest", json=referral(p), headers=bearer(Role.REFERRER, "A81001")
            )
            if sent.status_code != 201:
                raise RuntimeError(f"referral of {p.id} refused: {sent.text}")
            referral_ids[p.id] = uuid.UUID(sent.json()["id"])
    await app.state.engine.dispose()

    principal = Principal(sub="quality-bench", role=Role.LINK_WORKER, org=LINK_WORKER_ODS)
    caller = Caller(principal, Action.MATCH_READ, authorize(principal, Action.MATCH_READ))
    ctx = Context(caller, audit.Actor(principal, None), sessionmaker)
    snapshots = snapshot.Snapshots()
    for p in personas:
        async with sessionmaker() as session, session.begin():
            found = await service.match_referral(
                session,
                ctx,
                referral_ids[p.id],
                settings,
                snapshots,
                service.CARDS,
                limit=10_000,
                include_full=False,
                today=today,
            )
            matches = found.result.matches
            eligible = {m.activity_id for m in matches}
            broken = await _broken_rules(session, found, p, eligible, settings, snapshots, today)
        problems = check.ideal_problems(p, eligible, broken)
        report.problems += problems
        report.results.append(
            PersonaResult(
                p,
                len(matches),
                {name: score(p, ranked, eligible) for name, ranked in rankings(p, matches).items()},
                problems,
            )
        )
    await db.dispose()
    return report


async def _broken_rules(
    session: AsyncSession,
    found: service.Matches[ActivityCard],
    p: Persona,
    eligible: set[str],
    settings: Settings,
    snapshots: snapshot.Snapshots,
    today: dt.date,
) -> dict[str, str]:
    """For each ideal the service did not return, the hard rule it breaks, from the engine
    given that activity alone and the service's view of the person."""
    missing = [f"bench-{a}" for a in p.ideal if f"bench-{a}" not in eligible]
    if not missing:
        return {}
    patient = await referrals_service.patient_of(session, found.referral)
    needs = await referrals_service.needs_of(session, found.referral)
    person, _ = await service.person_for(session, found.referral, patient, needs, settings, today)
    activities = (await snapshots.directory(session)).activities
    broken = {}
    for activity_id in missing:
        if activity_id not in activities:
            broken[activity_id] = "not in the directory"
            continue
        alone = engine.match(
            person,
            [activities[activity_id]],
            today=today,
            suitability=need_category_suitability(),
            weights=service.weights(settings),
            limit=1,
        )
        rules = [rule for rule, n in alone.excluded.items() if n]
        broken[activity_id] = (
            f"rule {int(rules[0])} ({rules[0].description})" if rules else "returned alone"
        )
    return broken


def _labelled(persona: Persona, top: Sequence[str]) -> str:
    """The first five with their labels: ``rent-bills-line (ideal)``, unlabelled bare."""
    label = {a: name for name in GAINS for a in getattr(persona, name)}
    return ", ".join(f"{a} ({label[a]})" if a in label else a for a in top)


def render(report: Report, *, verbose: bool = False) -> str:
    """Per persona and overall, one line per ranker; with ``verbose`` the first five too."""
    out = [f"matching quality benchmark, run date {report.today.isoformat()}, k={K}"]
    header = f"{'persona':<28} {'elig':>4}  " + "  ".join(f"{r:>22}" for r in RANKERS)
    out += [header, f"{'':<28} {'':>4}  " + "  ".join(f"{'nDCG  rec  viol':>22}" for _ in RANKERS)]
    for r in report.results:
        cells = "  ".join(
            f"{s.ndcg:>10.3f} {s.recall:>5.2f} {s.violations:>4}"
            for s in (r.scores[name] for name in RANKERS)
        )
        out.append(f"{r.persona.id:<28} {r.eligible:>4}  {cells}")
        if verbose:
            out.append(
                f"{'':<34}assetlink top 5: {_labelled(r.persona, r.scores['assetlink'].top)}"
            )
    out.append("")
    out.append(f"{'overall':<28} {'':>4}  " + "  ".join(f"{r:>22}" for r in RANKERS))
    overall = [report.overall(name) for name in RANKERS]
    out.append(f"{'  mean nDCG@5':<34}" + "  ".join(f"{o[0]:>22.3f}" for o in overall))
    out.append(f"{'  mean ideal recall@5':<34}" + "  ".join(f"{o[1]:>22.3f}" for o in overall))
    out.append(f"{'  violations (never in top 5)':<34}" + "  ".join(f"{o[2]:>22}" for o in overall))
    out.append(f"{'  personas below 0.7':<34}" + "  ".join(f"{o[3]:>22}" for o in overall))
    if report.problems:
        out += ["", f"LABEL PROBLEMS ({len(report.problems)}):", *report.problems]
    return "\n".join(out)
