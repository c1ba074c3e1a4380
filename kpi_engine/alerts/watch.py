"""A watch: what to keep an eye on (a KPI with a rule, a target's pace, an experiment), where
to say it (a webhook or an e-mail address) and whether to say it at once or in a daily or
weekly digest. Every setting is checked here (the destination when the watch is added: it
may need the network); an error names the field it is about."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from kpi_engine.errors import KpiLabError
from kpi_engine.kpis.typical import CHANNEL_TYPES

KPI_RULES = ("anomaly", "change", "range", "typical", "pace")
EXPERIMENT_RULES = ("srm", "decision")
DIGESTS = ("daily", "weekly")
DEFAULT_HOUR = 8
RULE_HELP = "anomaly, change:PCT, range:LOW:HIGH, typical or pace (a KPI); srm or decision"


@dataclass(frozen=True)
class Rule:
    """A parsed rule: its name and, for change and range, its numbers."""

    name: str
    pct: float | None = None  # change: the relative change that fires, e.g. 0.2
    low: float | None = None  # range: below this fires
    high: float | None = None  # range: above this fires


def _number(text: str, rule: str) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise KpiLabError(f"{rule!r} has {text!r} where a number belongs", "rule") from None
    if not math.isfinite(value):
        raise KpiLabError(f"{rule!r} needs finite numbers", "rule")
    return value


def parse_rule(text: str) -> Rule:
    """``anomaly``, ``change:20`` (±20%), ``range:LOW:HIGH`` (either end may be empty),
    ``typical``, ``pace``, ``srm`` or ``decision``."""
    name, _, rest = text.strip().lower().partition(":")
    if name in ("anomaly", "typical", "pace", "srm", "decision") and not rest:
        return Rule(name)
    if name == "change":
        pct = _number(rest, text)
        if pct is None or pct <= 0:
            raise KpiLabError(
                f"{text!r}: write change:PCT with PCT above 0, e.g. change:20", "rule"
            )
        return Rule(name, pct=pct / 100)
    if name == "range":
        low_text, colon, high_text = rest.partition(":")
        low, high = _number(low_text, text), _number(high_text, text)
        if not colon or (low is None and high is None):
            raise KpiLabError(f"{text!r}: write range:LOW:HIGH, e.g. range:0.02:0.05", "rule")
        if low is not None and high is not None and low > high:
            raise KpiLabError(f"{text!r}: LOW is above HIGH", "rule")
        return Rule(name, low=low, high=high)
    raise KpiLabError(f"{text!r} is not a rule: use {RULE_HELP}", "rule")


@dataclass(frozen=True)
class Watch:
    watch_id: str
    workspace: str
    dataset_id: str
    rule: str
    destination: str  # a webhook URL (http/https) or an e-mail address
    kpi: str | None = None
    experiment: str | None = None  # a saved experiment view (JSON)
    digest: str | None = None  # daily or weekly; None: an alert as soon as the rule fires
    hour: int = DEFAULT_HOUR  # digests go out at this hour, in the workspace's time zone
    channel_type: str | None = None  # for "typical": search, social, display, video, email
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        rule = parse_rule(self.rule)
        if (self.kpi is None) == (self.experiment is None):
            raise KpiLabError("watches either a KPI or an experiment: give one of them", "kpi")
        allowed = KPI_RULES if self.kpi is not None else EXPERIMENT_RULES
        if rule.name not in allowed:
            what = "a KPI" if self.kpi is not None else "an experiment"
            raise KpiLabError(
                f"{self.rule!r} does not apply to {what}: use {', '.join(allowed)}", "rule"
            )
        if self.digest is not None and self.digest not in DIGESTS:
            raise KpiLabError(f"{self.digest!r}: use daily or weekly", "digest")
        if not (isinstance(self.hour, int) and 0 <= self.hour <= 23):
            raise KpiLabError(f"must be a whole hour from 0 to 23, not {self.hour!r}", "hour")
        if self.channel_type is not None and self.channel_type not in CHANNEL_TYPES:
            raise KpiLabError(
                f"{self.channel_type!r}: use one of {', '.join(CHANNEL_TYPES)}", "channel_type"
            )

    @property
    def parsed(self) -> Rule:
        return parse_rule(self.rule)

    @property
    def kind(self) -> str:
        return "webhook" if re.match(r"^https?://", self.destination, re.I) else "email"

    def subject(self) -> str:
        return self.kpi if self.kpi is not None else "experiment"
