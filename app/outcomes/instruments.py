"""Validated wellbeing and loneliness instruments: item definitions and exact scoring.

Pure: plain values in, frozen dataclasses out; no I/O, no framework, no settings. The rules are
DESIGN.md section 9; each instrument's scoring, thresholds and sources: docs/outcomes.md
"Instruments".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from app.errors import Issue, Unprocessable

Answer = int | str


class Direction(StrEnum):
    HIGHER_IS_BETTER = "higher-is-better"
    LOWER_IS_BETTER = "lower-is-better"


class LonelinessTransition(StrEnum):
    BECAME_LONELY = "became-lonely"
    NO_LONGER_LONELY = "no-longer-lonely"
    STAYED_LONELY = "stayed-lonely"
    STAYED_NOT_LONELY = "stayed-not-lonely"


@dataclass(frozen=True)
class Band:
    code: str
    low: int
    high: int


@dataclass(frozen=True)
class Item:
    """One question: its id (the key in ``answers``), a short label and its allowed answers."""

    id: str
    label: str
    values: tuple[Answer, ...]
    value_labels: tuple[str, ...] = ()
    bands: tuple[Band, ...] = ()
    direction: Direction = Direction.HIGHER_IS_BETTER

    @property
    def is_numeric(self) -> bool:
        return all(isinstance(v, int) for v in self.values)

    def band(self, value: int) -> str | None:
        return next((b.code for b in self.bands if b.low <= value <= b.high), None)


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    items: tuple[Item, ...]
    snomed_code: str | None = None
    snomed_display: str | None = None
    score_range: tuple[float, float] | None = None
    # measure keys (see Measure.key) the change from baseline to follow-up is computed on
    change_measures: tuple[str, ...] = ()
    reliable_change: float | None = None

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)

    def item(self, item_id: str) -> Item:
        return next(item for item in self.items if item.id == item_id)

    @property
    def headline_measures(self) -> tuple[str, ...]:
        """The scores that stand for a record: those its change is measured on (SWEMWBS
        ``metric``, WEMWBS and UCLA3 ``total``, each ONS4 item), else its one answer."""
        return self.change_measures or self.item_ids


@dataclass(frozen=True)
class Measure:
    """One derived score of a record: an item (ONS4), ``total`` or ``metric``."""

    key: str
    value: float
    direction: Direction
    band: str | None = None


@dataclass(frozen=True)
class ScoredRecord:
    instrument: str
    answers: tuple[tuple[str, Answer], ...]
    measures: tuple[Measure, ...]
    lonely: bool | None = None
    category: str | None = None

    def measure(self, key: str) -> Measure:
        for measure in self.measures:
            if measure.key == key:
                return measure
        raise KeyError(key)

    @property
    def total(self) -> int | None:
        found = [m for m in self.measures if m.key == "total"]
        return int(found[0].value) if found else None

    @property
    def metric(self) -> float | None:
        found = [m for m in self.measures if m.key == "metric"]
        return found[0].value if found else None


@dataclass(frozen=True)
class MeasureChange:
    """Change of one measure from baseline to follow-up (``change = follow_up - baseline``)."""

    key: str
    baseline: float
    follow_up: float
    change: float
    direction: Direction
    improved: bool
    deteriorated: bool
    reliable_change_threshold: float | None
    reliable_improvement: bool | None
    reliable_deterioration: bool | None
    baseline_band: str | None = None
    follow_up_band: str | None = None


@dataclass(frozen=True)
class OutcomeChange:
    instrument: str
    measures: tuple[MeasureChange, ...]
    lonely_transition: LonelinessTransition | None = None

    def measure(self, key: str) -> MeasureChange:
        for measure in self.measures:
            if measure.key == key:
                return measure
        raise KeyError(key)


# Warwick SWEMWBS raw score -> Rasch metric score (DESIGN.md section 9; see module docstring).
SWEMWBS_METRIC: Mapping[int, float] = {
    7: 7.00,
    8: 9.51,
    9: 11.25,
    10: 12.40,
    11: 13.33,
    12: 14.08,
    13: 14.75,
    14: 15.32,
    15: 15.84,
    16: 16.36,
    17: 16.88,
    18: 17.43,
    19: 17.98,
    20: 18.59,
    21: 19.25,
    22: 19.98,
    23: 20.73,
    24: 21.54,
    25: 22.35,
    26: 23.21,
    27: 24.11,
    28: 25.03,
    29: 26.02,
    30: 27.03,
    31: 28.13,
    32: 29.31,
    33: 30.70,
    34: 32.55,
    35: 35.00,
}

UCLA3_LONELY_FROM = 6
ONS_LONELY_CATEGORY = "often-always"

_ONS4_POSITIVE_BANDS = (
    Band("low", 0, 4),
    Band("medium", 5, 6),
    Band("high", 7, 8),
    Band("very-high", 9, 10),
)
_ONS4_ANXIETY_BANDS = (
    Band("very-low", 0, 1),
    Band("low", 2, 3),
    Band("medium", 4, 5),
    Band("high", 6, 10),
)
_ZERO_TO_TEN = tuple(range(11))
_ONE_TO_FIVE = tuple(range(1, 6))
_ONE_TO_FIVE_LABELS = (
    "None of the time",
    "Rarely",
    "Some of the time",
    "Often",
    "All of the time",
)

_WEMWBS_TOPICS = (
    "Optimistic",
    "Useful",
    "Relaxed",
    "Interested in other people",
    "Energy to spare",
    "Dealing with problems well",
    "Thinking clearly",
    "Feeling good about myself",
    "Feeling close to others",
    "Confident",
    "Able to make up my own mind",
    "Feeling loved",
    "Interested in new things",
    "Cheerful",
)
# SWEMWBS items 1-7 are WEMWBS items 1, 2, 3, 6, 7, 9, 11.
_SWEMWBS_TOPICS = tuple(_WEMWBS_TOPICS[i - 1] for i in (1, 2, 3, 6, 7, 9, 11))


def _likert_items(topics: tuple[str, ...]) -> tuple[Item, ...]:
    return tuple(
        Item(str(n), topic, _ONE_TO_FIVE, _ONE_TO_FIVE_LABELS)
        for n, topic in enumerate(topics, start=1)
    )


_UCLA3_VALUE_LABELS = ("Hardly ever or never", "Some of the time", "Often")

INSTRUMENTS: Mapping[str, Instrument] = {
    "ONS4": Instrument(
        code="ONS4",
        name="ONS4 personal wellbeing",
        items=(
            Item("life_satisfaction", "Life satisfaction", _ZERO_TO_TEN, (), _ONS4_POSITIVE_BANDS),
            Item(
                "worthwhile", "Things done are worthwhile", _ZERO_TO_TEN, (), _ONS4_POSITIVE_BANDS
            ),
            Item("happy", "Happiness yesterday", _ZERO_TO_TEN, (), _ONS4_POSITIVE_BANDS),
            Item(
                "anxious",
                "Anxiety yesterday",
                _ZERO_TO_TEN,
                (),
                _ONS4_ANXIETY_BANDS,
                Direction.LOWER_IS_BETTER,
            ),
        ),
        change_measures=("life_satisfaction", "worthwhile", "happy", "anxious"),
    ),
    "SWEMWBS": Instrument(
        code="SWEMWBS",
        name="Short Warwick-Edinburgh Mental Wellbeing Scale",
        items=_likert_items(_SWEMWBS_TOPICS),
        snomed_code="718466001",
        snomed_display="Short Warwick-Edinburgh Mental Well-being Scale score",
        score_range=(7, 35),
        change_measures=("metric",),
        reliable_change=3,
    ),
    "WEMWBS": Instrument(
        code="WEMWBS",
        name="Warwick-Edinburgh Mental Wellbeing Scale",
        items=_likert_items(_WEMWBS_TOPICS),
        snomed_code="718426000",
        snomed_display="Warwick-Edinburgh Mental Well-being Scale score",
        score_range=(14, 70),
        change_measures=("total",),
        reliable_change=9,
    ),
    "UCLA3": Instrument(
        code="UCLA3",
        name="UCLA three-item loneliness scale",
        items=tuple(
            Item(item_id, label, (1, 2, 3), _UCLA3_VALUE_LABELS)
            for item_id, label in (
                ("lack_companionship", "Lack companionship"),
                ("left_out", "Feel left out"),
                ("isolated", "Feel isolated from others"),
            )
        ),
        score_range=(3, 9),
        change_measures=("total",),
    ),
    "ONS_LONELINESS": Instrument(
        code="ONS_LONELINESS",
        name="ONS direct loneliness question",
        items=(
            Item(
                "how_often",
                "How often lonely",
                ("often-always", "some-of-the-time", "occasionally", "hardly-ever", "never"),
                ("Often or always", "Some of the time", "Occasionally", "Hardly ever", "Never"),
            ),
        ),
    ),
}


def instrument(code: str) -> Instrument:
    """The instrument with this code, or a 422 naming ``instrument``."""
    try:
        return INSTRUMENTS[code]
    except (KeyError, TypeError):
        known = ", ".join(INSTRUMENTS)
        raise Unprocessable(
            f"Unknown instrument {code!r}; expected one of {known}",
            [Issue(f"Unknown instrument {code!r}; expected one of {known}", "instrument")],
        ) from None


def validate_answers(code: str, answers: object) -> dict[str, Answer]:
    """Check every item is present, known, of the right type and in range.

    Returns the answers in item order. Raises ``Unprocessable`` with one ``Issue`` per faulty
    item, each with ``expression="answers.<item>"``; the message names the first.
    """
    spec = instrument(code)
    if not isinstance(answers, Mapping):
        raise Unprocessable(
            "answers must be an object of item id to answer",
            [Issue("answers must be an object of item id to answer", "answers")],
        )
    issues: list[Issue] = []
    for item in spec.items:
        if item.id not in answers:
            issues.append(Issue(f"Item {item.id!r} of {code} is missing", f"answers.{item.id}"))
            continue
        problem = _item_problem(item, answers[item.id])
        if problem:
            issues.append(Issue(f"Item {item.id!r} of {code} {problem}", f"answers.{item.id}"))
    known = set(spec.item_ids)
    for key in answers:
        if key not in known:
            issues.append(Issue(f"Item {key!r} is not an item of {code}", f"answers.{key}"))
    if issues:
        raise Unprocessable(issues[0].message, issues)
    return {item.id: answers[item.id] for item in spec.items}


def _item_problem(item: Item, value: object) -> str | None:
    if item.is_numeric:
        # bool is an int subclass; true/false is never a valid score
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be an integer, got {type(value).__name__}"
        if value not in item.values:
            numbers = [v for v in item.values if isinstance(v, int)]
            low, high = min(numbers), max(numbers)
            return f"must be between {low} and {high}, got {value}"
        return None
    if not isinstance(value, str):
        return f"must be a string, got {type(value).__name__}"
    if value not in item.values:
        return f"must be one of {', '.join(map(str, item.values))}, got {value!r}"
    return None


def score(
    code: str, answers: object, *, ucla3_lonely_from: int = UCLA3_LONELY_FROM
) -> ScoredRecord:
    """Validate and score one completed instrument.

    ``ucla3_lonely_from`` is the UCLA3 total from which a person is flagged lonely (default 6).
    """
    spec = instrument(code)
    valid = validate_answers(code, answers)
    pairs = tuple(valid.items())
    if code == "ONS4":
        measures = tuple(
            Measure(item.id, _int(valid[item.id]), item.direction, item.band(_int(valid[item.id])))
            for item in spec.items
        )
        return ScoredRecord(code, pairs, measures)
    if code == "ONS_LONELINESS":
        category = str(valid["how_often"])
        return ScoredRecord(
            code, pairs, (), lonely=category == ONS_LONELY_CATEGORY, category=category
        )
    total = sum(_int(v) for v in valid.values())
    if code == "SWEMWBS":
        measures = (
            Measure("total", total, Direction.HIGHER_IS_BETTER),
            Measure("metric", SWEMWBS_METRIC[total], Direction.HIGHER_IS_BETTER),
        )
        return ScoredRecord(code, pairs, measures)
    if code == "WEMWBS":
        return ScoredRecord(code, pairs, (Measure("total", total, Direction.HIGHER_IS_BETTER),))
    # UCLA3: higher is lonelier
    return ScoredRecord(
        code,
        pairs,
        (Measure("total", total, Direction.LOWER_IS_BETTER),),
        lonely=total >= ucla3_lonely_from,
    )


def _int(value: Answer) -> int:
    assert isinstance(value, int)
    return value


def change(
    baseline: ScoredRecord,
    follow_up: ScoredRecord,
    *,
    reliable_change: float | None = None,
) -> OutcomeChange:
    """The change from ``baseline`` to ``follow_up`` of the same instrument.

    ``reliable_change`` overrides the instrument's threshold (SWEMWBS 3 metric points, WEMWBS 9);
    where an instrument has none, the reliable flags are ``None``. A change reaches the threshold
    when its size is at least the threshold, in the direction that is better (improvement) or
    worse (deterioration) for the measure: for UCLA3 and ONS4 ``anxious`` lower is better.
    """
    if baseline.instrument != follow_up.instrument:
        raise Unprocessable(
            f"Cannot compare {baseline.instrument} with {follow_up.instrument}",
            [Issue("Baseline and follow-up must be the same instrument", "instrument")],
        )
    spec = instrument(baseline.instrument)
    threshold = reliable_change if reliable_change is not None else spec.reliable_change
    changes = tuple(
        _measure_change(baseline.measure(key), follow_up.measure(key), threshold)
        for key in spec.change_measures
    )
    transition = None
    if baseline.lonely is not None and follow_up.lonely is not None:
        transition = {
            (False, True): LonelinessTransition.BECAME_LONELY,
            (True, False): LonelinessTransition.NO_LONGER_LONELY,
            (True, True): LonelinessTransition.STAYED_LONELY,
            (False, False): LonelinessTransition.STAYED_NOT_LONELY,
        }[(baseline.lonely, follow_up.lonely)]
    return OutcomeChange(spec.code, changes, transition)


def _measure_change(before: Measure, after: Measure, threshold: float | None) -> MeasureChange:
    # Scores have at most two decimals; rounding keeps 17.43 - 14.08 from being 3.3499999.
    delta = round(after.value - before.value, 2)
    better = delta if before.direction is Direction.HIGHER_IS_BETTER else -delta
    return MeasureChange(
        key=before.key,
        baseline=before.value,
        follow_up=after.value,
        change=delta,
        direction=before.direction,
        improved=better > 0,
        deteriorated=better < 0,
        reliable_change_threshold=threshold,
        reliable_improvement=None if threshold is None else better >= threshold,
        reliable_deterioration=None if threshold is None else -better >= threshold,
        baseline_band=before.band,
        follow_up_band=after.band,
    )
