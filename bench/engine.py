"""Micro-benchmark of the pure matching engine (not a test).

Times `app.matching.engine.match` over 5 000 random candidates, the size of a prefiltered
candidate list (in-person activities in the person's bounding box plus online and phone ones),
and prints p50/p95 in milliseconds. The database side is measured by bench/matching.py.

    .venv/bin/python bench/engine.py [--candidates 5000] [--runs 60] [--seed 7]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from datetime import date, timedelta

from app.matching.engine import (
    ACCESSIBILITY,
    CATEGORY_LABELS,
    DAYS,
    NEED_LABELS,
    Activity,
    CostOption,
    Location,
    Person,
    Schedule,
    match,
)

TODAY = date(2026, 11, 27)
HOME = (53.4808, -2.2426)
KM_PER_DEGREE = 111.195


def suitability(rng: random.Random) -> dict[str, dict[str, float]]:
    return {
        need: {c: round(rng.random(), 2) for c in rng.sample(sorted(CATEGORY_LABELS), 6)}
        for need in NEED_LABELS
    }


def candidate(rng: random.Random, i: int, radius_km: float) -> Activity:
    kind = rng.choices(["in-person", "hybrid", "online", "phone"], [70, 10, 12, 8])[0]
    locations = ()
    if kind in {"in-person", "hybrid"}:
        locations = tuple(
            Location(
                HOME[0] + rng.uniform(-radius_km, radius_km) / KM_PER_DEGREE,
                HOME[1]
                + rng.uniform(-radius_km, radius_km)
                / (KM_PER_DEGREE * math.cos(math.radians(HOME[0]))),
                frozenset(rng.sample(ACCESSIBILITY, rng.randint(0, 3))),
            )
            for _ in range(rng.choice([1, 1, 1, 2]))
        )
    minimum = rng.choice([None, None, None, 16, 18, 50])
    available = rng.choice([None, None, 0, 1, 3, 8, 15])
    return Activity(
        id=f"act-{i:06d}",
        name=f"Activity {i}",
        status=rng.choices(["active", "inactive", "temporarily closed"], [90, 5, 5])[0],
        accepting_referrals=rng.random() < 0.95,
        attending_type=kind,  # type: ignore[arg-type]
        minimum_age=minimum,
        maximum_age=rng.choice([None, None, None, 25, 99]),
        eligibility_gender=rng.choice([None] * 18 + ["female", "male"]),
        capacity_available=available,
        capacity_maximum=None if available is None else 20,
        categories=frozenset(rng.sample(sorted(CATEGORY_LABELS), rng.randint(1, 3))),
        target_needs=frozenset(rng.sample(sorted(NEED_LABELS), rng.randint(0, 2))),
        locations=locations,
        service_areas=rng.choice([frozenset()] * 4 + [frozenset({"E08000003"}), frozenset({"M2"})]),
        schedules=tuple(
            Schedule(
                byday=frozenset(rng.sample(DAYS, rng.randint(1, 3))),
                freq="weekly",
                valid_from=TODAY - timedelta(days=rng.randint(0, 400)),
                valid_to=rng.choice([None, None, TODAY + timedelta(days=rng.randint(-30, 200))]),
            )
            for _ in range(rng.randint(0, 2))
        ),
        cost_options=rng.choice([(), (CostOption(free=True),), (CostOption(amount=3.5),)]),
        languages=rng.choice([frozenset()] * 6 + [frozenset({"en", "pl"}), frozenset({"ur"})]),
        near_public_transport=rng.choice([None, True, False]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    table = suitability(rng)
    activities = [candidate(rng, i, radius_km=12.0) for i in range(args.candidates)]
    people = {
        "typical": Person(
            age=67,
            max_travel_km=10,
            location=HOME,
            area_codes=frozenset({"M1", "E08000003"}),
            imd_decile=2,
            needs=("loneliness-isolation", "low-mood"),
            interests=frozenset({"music-singing", "walking"}),
            available_days=frozenset({"tue", "thu", "sat"}),
            languages=("en",),
        ),
        "many needs": Person(
            age=45,
            max_travel_km=10,
            gender="female",
            location=HOME,
            area_codes=frozenset({"M1", "E08000003"}),
            needs=tuple(NEED_LABELS)[:5],
            interests=frozenset(list(CATEGORY_LABELS)[:6]),
            accessibility_needs=frozenset({"step-free"}),
            free_only=True,
            languages=("pl", "en"),
        ),
    }
    print(f"engine.match over {args.candidates} candidates, {args.runs} runs each")
    for label, person in people.items():
        timings = []
        for _ in range(args.runs):
            start = time.perf_counter()
            result = match(person, activities, today=TODAY, suitability=table, limit=10)
            timings.append((time.perf_counter() - start) * 1000)
        timings.sort()
        p50 = statistics.median(timings)
        p95 = timings[min(len(timings) - 1, math.ceil(0.95 * len(timings)) - 1)]
        print(
            f"  {label:<11} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  "
            f"(eligible {result.eligible}, excluded {sum(result.excluded.values())})"
        )


if __name__ == "__main__":
    main()
