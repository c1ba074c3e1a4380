"""Which base column (role) each source column plays, detected from its header.

A header matches a role by its normalised name: lower case, currency suffixes such as
``(USD)`` removed, punctuation folded to spaces. An exact synonym wins over a partial match;
each role goes to at most one column, and a metric role only to a column that holds numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DATE_ROLES = ("date",)
DIMENSION_ROLES = ("campaign", "channel", "variant")
METRIC_ROLES = ("impressions", "clicks", "conversions", "spend", "revenue", "users")
ROLES = DATE_ROLES + DIMENSION_ROLES + METRIC_ROLES

SYNONYMS: dict[str, tuple[str, ...]] = {
    "date": (
        "date",
        "day",
        "report date",
        "reporting starts",
        "date start",
        "period",
        "time",
        "week",
        "month",
        "segment date",
    ),
    "campaign": ("campaign", "campaign name", "campaign title", "campaign id"),
    "channel": (
        "channel",
        "source",
        "platform",
        "network",
        "medium",
        "publisher platform",
        "ad network",
        "media channel",
    ),
    "variant": (
        "variant",
        "variation",
        "group",
        "test group",
        "experiment group",
        "arm",
        "version",
        "treatment",
        "bucket",
        "cohort",
    ),
    "impressions": ("impressions", "impr", "impression", "imps", "total impressions"),
    "clicks": ("clicks", "click", "link clicks", "clicks all", "total clicks"),
    "conversions": (
        "conversions",
        "conv",
        "conversion",
        "results",
        "purchases",
        "converted",
        "total conversion",
        "total conversions",
        "orders",
        "leads",
    ),
    "spend": (
        "spend",
        "cost",
        "spent",
        "amount spent",
        "total spent",
        "media cost",
        "ad spend",
        "total cost",
    ),
    "revenue": (
        "revenue",
        "conv value",
        "conversion value",
        "total conversion value",
        "purchases conversion value",
        "sales",
        "total complete payment",
        "value",
        "gmv",
        "total revenue",
    ),
    "users": ("users", "visitors", "unique users", "participants", "players", "total users"),
}

_CURRENCY_SUFFIX = re.compile(r"\((?:[a-z]{3}|[$€£¥₹])\)\s*$")
NUMERIC_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "FLOAT",
    "DOUBLE",
    "BOOLEAN",
)


def normalise(header: str) -> str:
    text = header.replace("\ufeff", "").strip().lower()
    text = _CURRENCY_SUFFIX.sub("", text)
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


@dataclass(frozen=True)
class ColumnRole:
    column: str
    role: str
    confidence: float


_ID_WORDS = {"name", "id", "title", "label", "code", "key"}
_RATIO_WORDS = {"avg", "average", "rate", "per", "ctr", "cpc", "cpm", "cpa", "roas", "cpv", "pct"}


def _score(header: str, role: str) -> float:
    name = normalise(header)
    if not name:
        return 0.0
    if role in METRIC_ROLES and (
        "/" in header or "%" in header or _RATIO_WORDS & set(name.split())
    ):
        return 0.0  # an exported ratio (Avg. CPC, Cost / conv.) is not a base column
    synonyms = SYNONYMS[role]
    if name in synonyms:
        return 1.0
    words = name.split()
    if role in DIMENSION_ROLES:
        # "xyz_campaign_id" is a campaign; "Campaign status" and "Conv. (Platform ...)" are not
        extra = [w for w in words if w not in synonyms]
        if len(extra) == len(words) or any(w not in _ID_WORDS and len(w) > 3 for w in extra):
            return 0.0
    if role != "date" and any(syn in words for syn in synonyms if " " not in syn):
        # a whole-word synonym inside a longer header ("Total_Conversion", "xyz_campaign_id")
        return 0.7 - 0.1 * ("id" in words) - 0.05 * (len(words) - 1)
    return 0.0


def _is_numeric(duck_type: str) -> bool:
    return duck_type.upper().startswith(("DECIMAL",) + NUMERIC_TYPES)


def _fits(role: str, duck_type: str) -> bool:
    if role in METRIC_ROLES:
        return _is_numeric(duck_type) or duck_type.upper() == "VARCHAR"
    if role == "date":
        return duck_type.upper() in (
            "DATE",
            "TIMESTAMP",
            "VARCHAR",
        ) or duck_type.upper().startswith("TIMESTAMP")
    return True


def detect_roles(columns: dict[str, str]) -> dict[str, ColumnRole]:
    """Map role → the source column that plays it, from ``{column name: DuckDB type}``."""
    candidates = sorted(
        (
            (_score(col, role), -index, col, role)
            for index, (col, typ) in enumerate(columns.items())
            for role in ROLES
            if _fits(role, typ)
        ),
        reverse=True,
    )
    chosen: dict[str, ColumnRole] = {}
    taken: set[str] = set()
    for score, _, col, role in candidates:
        if score <= 0 or role in chosen or col in taken:
            continue
        chosen[role] = ColumnRole(col, role, round(score, 2))
        taken.add(col)
    return {role: chosen[role] for role in ROLES if role in chosen}
