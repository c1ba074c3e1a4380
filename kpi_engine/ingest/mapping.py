"""The column mapping: a role per column, from a preset, the platform's headers, the generic
synonyms and the user's corrections, in that order of authority.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kpi_engine.errors import KpiLabError
from kpi_engine.ingest.parsing import ColumnParse
from kpi_engine.ingest.platforms import PLATFORMS
from kpi_engine.roles import METRIC_ROLES, ROLES, assign, fits, normalise, score

IGNORE = "ignore"
NO_ROLE = "none"
_WIDE = re.compile(
    r"^(?P<prefix>.+?)[ _\-.]+(?P<metric>spend|cost|impressions?|clicks?|conversions?|revenue)$",
    re.IGNORECASE,
)
_WIDE_ROLE = {
    "spend": "spend",
    "cost": "spend",
    "impression": "impressions",
    "impressions": "impressions",
    "click": "clicks",
    "clicks": "clicks",
    "conversion": "conversions",
    "conversions": "conversions",
    "revenue": "revenue",
}
_PER_CONVERSION = {
    "revenue per conversion",
    "value per conversion",
    "revenue per conv",
    "conv value per conv",
    "value per conv",
}


@dataclass
class MappedColumn:
    name: str
    parse: ColumnParse
    role: str | None = None
    confidence: float = 0.0
    ignored: bool = False

    def to_dict(self) -> dict:
        return {
            "column": self.name,
            "role": self.role,
            "confidence": self.confidence,
            "reads_as": self.parse.describe(),
            "ignored": self.ignored,
        }


@dataclass(frozen=True)
class WideLayout:
    """One column per channel and metric (``Channel0_spend``): channel → role → column."""

    groups: dict[str, dict[str, str]]

    unpaid: frozenset[str] = frozenset()  # per-channel columns of channels with no spend

    @property
    def columns(self) -> set[str]:
        return {col for group in self.groups.values() for col in group.values()}


def detect_wide(headers: list[str]) -> WideLayout | None:
    groups: dict[str, dict[str, str]] = {}
    for header in headers:
        match = _WIDE.match(header.strip())
        if match:
            role = _WIDE_ROLE[match["metric"].lower()]
            groups.setdefault(match["prefix"], {}).setdefault(role, header)
    paid = {prefix: roles for prefix, roles in groups.items() if "spend" in roles}
    if len(paid) < 2:
        return None
    unpaid = {
        col for prefix, roles in groups.items() if prefix not in paid for col in roles.values()
    }
    return WideLayout(paid, frozenset(unpaid))


def _kind(parse: ColumnParse) -> str:
    return "number" if parse.kind == "bool" else parse.kind


def parse_overrides(pairs: list[str] | dict[str, str] | None) -> dict[str, str]:
    """``["Cost=spend", "Notes=ignore"]`` (the CLI's --map) or a dict → {column: role}."""
    if not pairs:
        return {}
    if isinstance(pairs, dict):
        items = list(pairs.items())
    else:
        items = []
        for pair in pairs:
            if "=" not in pair:
                raise KpiLabError(f"--map {pair!r} needs the form SOURCE=ROLE, e.g. Cost=spend")
            source, _, role = pair.rpartition("=")
            items.append((source.strip(), role.strip().lower()))
    allowed = (*ROLES, IGNORE, NO_ROLE)
    for source, role in items:
        if role not in allowed:
            raise KpiLabError(
                f"unknown role {role!r} for {source!r}: use one of {', '.join(allowed)}"
            )
    return dict(items)


def map_columns(
    parses: dict[str, ColumnParse],
    platform: str,
    preset: dict[str, str] | None = None,
    overrides: dict[str, str] | None = None,
    wide: WideLayout | None = None,
) -> list[MappedColumn]:
    """A role for each column. ``preset`` is a saved mapping (header → role): it applies to
    the columns of this file it names; ``overrides`` (the user's corrections) come last."""
    overrides = overrides or {}
    unknown = [c for c in overrides if c not in parses]
    if unknown:
        raise KpiLabError(
            f"no column {unknown[0]!r} to map: the file's columns are {', '.join(parses)}"
        )
    overrides = {**{k: v for k, v in (preset or {}).items() if k in parses}, **overrides}
    platform_headers = PLATFORMS[platform].headers if platform in PLATFORMS else {}
    skip = set(wide.columns) | set(wide.unpaid) if wide else set()
    candidates = []
    for index, (name, parse) in enumerate(parses.items()):
        if name in overrides or name in skip:
            continue
        for role in ROLES:
            if not fits(role, _kind(parse)):
                continue
            best = score(name, role)
            preset_role, confidence = platform_headers.get(normalise(name), (None, 0.0))
            if preset_role == role:
                best = max(best, confidence)
            candidates.append((best, -index, name, role))
    forced = {role for role in overrides.values() if role in ROLES}
    chosen = {cr.column: cr for role, cr in assign(candidates).items() if role not in forced}
    columns = []
    for name, parse in parses.items():
        mapped = MappedColumn(name, parse)
        wanted = overrides.get(name)
        if wanted == IGNORE:
            mapped.ignored = True
        elif wanted in ROLES:
            mapped.role, mapped.confidence = wanted, 1.0
        elif name in chosen and wanted is None:
            mapped.role, mapped.confidence = chosen[name].role, chosen[name].confidence
        columns.append(mapped)
    return columns


def roles_of(columns: list[MappedColumn]) -> dict[str, str]:
    return {c.role: c.name for c in columns if c.role and not c.ignored}


def per_conversion_column(columns: list[MappedColumn]) -> str | None:
    """A revenue-per-conversion column to derive revenue from, when there is no revenue."""
    roles = roles_of(columns)
    if "revenue" in roles or "conversions" not in roles:
        return None
    return next(
        (
            c.name
            for c in columns
            if not c.ignored and c.parse.kind == "number" and normalise(c.name) in _PER_CONVERSION
        ),
        None,
    )


AD_METRICS = ("impressions", "clicks", "spend")  # roles that make rows campaign rows


def dataset_kind(roles: dict[str, str]) -> str:
    """campaign (rows per day/campaign), user_level (a row per user) or variant_totals."""
    if "unit" in roles:
        return "user_level"
    ad_metrics = any(r in roles for r in AD_METRICS)
    if "variant" in roles and "users" in roles and ("date" not in roles or not ad_metrics):
        return "variant_totals"
    return "campaign"


KIND_LABELS = {
    "campaign": "Campaign report: rows per day, campaign or channel",
    "user_level": "User-level file: one row per user (an experiment log)",
    "variant_totals": "Experiment totals: one row per variant (or per variant and day)",
}


def has_metric(columns: list[MappedColumn]) -> bool:
    return any(c.role in METRIC_ROLES for c in columns if not c.ignored)
