"""Which base column (role) each source column plays, detected from its header.

A header matches a role by its normalised name: lower case, accents removed, currency
suffixes such as ``(USD)`` removed, punctuation folded to spaces. An exact synonym wins over a
partial match; each role goes to at most one column. Synonyms include the common German,
French and Spanish headers of the ad platforms.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

DATE_ROLES = ("date",)
DIMENSION_ROLES = ("campaign", "channel", "variant")
KEY_ROLES = ("unit", "currency")
CORE_METRIC_ROLES = ("impressions", "clicks", "conversions", "spend", "revenue", "users")
# the columns behind the rest of the catalog (engagement, leads, retention, brand ...)
EXTRA_METRIC_ROLES = (
    "leads",
    "customers",
    "new_customers",
    "repeat_customers",
    "installs",
    "engagements",
    "video_views",
    "sessions",
    "bounces",
    "pageviews",
    "time_on_site",
    "cogs",
    "retained_users",
    "churned_users",
    "promoters",
    "passives",
    "detractors",
    "responses",
    "satisfied",
    "reach",
    "mentions",
    "competitor_mentions",
)
METRIC_ROLES = CORE_METRIC_ROLES + EXTRA_METRIC_ROLES
ROLES = DATE_ROLES + DIMENSION_ROLES + KEY_ROLES + METRIC_ROLES
CORE_ROLES = DATE_ROLES + DIMENSION_ROLES + KEY_ROLES + CORE_METRIC_ROLES
MONEY_ROLES = ("spend", "revenue")
CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}

SYNONYMS: dict[str, tuple[str, ...]] = {
    "date": (
        "date",
        "day",
        "report date",
        "reporting starts",
        "berichtsbeginn",
        "debut des rapports",
        "inicio del informe",
        "date start",
        "period",
        "time",
        "timestamp",
        "datetime",
        "date time",
        "event time",
        "event date",
        "week",
        "month",
        "segment date",
        "gregorian date",
        "stat time day",
        "start date in utc",
        "datum",
        "tag",
        "woche",
        "monat",
        "jour",
        "semaine",
        "mois",
        "fecha",
        "dia",
        "semana",
        "mes",
    ),
    "campaign": (
        "campaign",
        "campaign name",
        "campaign title",
        "campaign id",
        "kampagne",
        "kampagnenname",
        "kampagnen name",
        "campagne",
        "nom de la campagne",
        "campana",
        "nombre de la campana",
    ),
    "channel": (
        "channel",
        "source",
        "platform",
        "network",
        "medium",
        "publisher platform",
        "ad network",
        "media channel",
        "kanal",
        "netzwerk",
        "canal",
        "reseau",
        "red",
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
        "ab group",
    ),
    "unit": (
        "user id",
        "userid",
        "user",
        "visitor id",
        "visitorid",
        "customer id",
        "client id",
        "player id",
        "uid",
        "unit id",
        "member id",
        "account id",
    ),
    "currency": (
        "currency",
        "currency code",
        "wahrung",
        "wahrungscode",
        "devise",
        "code de devise",
        "moneda",
        "codigo de moneda",
        "divisa",
    ),
    "impressions": (
        "impressions",
        "impr",
        "impression",
        "imps",
        "total impressions",
        "impressionen",
        "impresiones",
    ),
    "clicks": (
        "clicks",
        "click",
        "link clicks",
        "clicks all",
        "total clicks",
        "klicks",
        "clics",
        "clics sur un lien",
        "clics en el enlace",
    ),
    "conversions": (
        "conversions",
        "conv",
        "conversion",
        "results",
        "ergebnisse",
        "purchases",
        "purchase",
        "converted",
        "total conversion",
        "total conversions",
        "orders",
        "konversionen",
        "conversiones",
        "resultats",
        "resultados",
        "kaufe",
        "achats",
        "compras",
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
        "kosten",
        "ausgegebener betrag",
        "betrag ausgegeben",
        "cout",
        "montant depense",
        "coste",
        "costo",
        "importe gastado",
        "gasto",
    ),
    "revenue": (
        "revenue",
        "conv value",
        "conversion value",
        "total conversion value",
        "purchases conversion value",
        "sales",
        "total complete payment",
        "gmv",
        "total revenue",
        "umsatz",
        "conv wert",
        "conversion wert",
        "einnahmen",
        "valeur de conv",
        "valeur de conversion",
        "chiffre d affaires",
        "revenus",
        "valor de conv",
        "valor de conversion",
        "ingresos",
    ),
    "users": (
        "users",
        "visitors",
        "unique users",
        "participants",
        "players",
        "total users",
        "nutzer",
        "utilisateurs",
        "usuarios",
    ),
    "leads": ("leads", "lead", "form submissions", "signups", "sign ups", "total leads"),
    "customers": ("customers", "total customers", "buyers", "active customers"),
    "new_customers": ("new customers", "customers acquired", "first purchases", "new buyers"),
    "repeat_customers": ("repeat customers", "repeat purchasers", "returning customers"),
    "installs": ("installs", "app installs", "mobile app installs", "install"),
    "engagements": ("engagements", "engagement", "post engagements", "post engagement"),
    "video_views": ("video views", "views", "thruplays", "video plays", "thruplay"),
    "sessions": ("sessions", "visits", "total sessions"),
    "bounces": ("bounces", "bounced sessions"),
    "pageviews": ("pageviews", "page views", "screen views", "screenviews"),
    "time_on_site": (
        "time on site",
        "total time on site",
        "session duration",
        "total session duration",
        "engagement time",
    ),
    "cogs": ("cogs", "cost of goods sold", "cost of goods", "product cost"),
    "retained_users": ("retained users", "retained", "returning users"),
    "churned_users": ("churned users", "churned", "lost customers", "churned customers"),
    "promoters": ("promoters",),
    "passives": ("passives",),
    "detractors": ("detractors",),
    "responses": ("responses", "survey responses", "csat responses"),
    "satisfied": ("satisfied", "satisfied responses", "satisfied customers"),
    "reach": ("reach", "unique reach", "people reached", "accounts reached"),
    "mentions": ("mentions", "brand mentions", "our mentions"),
    "competitor_mentions": ("competitor mentions", "competitors mentions"),
}

_CURRENCY_SUFFIX = re.compile(r"[(\[](?:[a-z]{3}|[$€£¥₹])[)\]]\s*$")  # (USD), [EUR], (€)
_ID_WORDS = {"name", "id", "title", "label", "code", "key", "nom", "nombre"}
_RATIO_WORDS = {
    "avg",
    "average",
    "rate",
    "per",
    "ctr",
    "cpc",
    "cpm",
    "cpa",
    "roas",
    "cpv",
    "pct",
    "moy",
    "moyen",
    "promedio",
    "durchschn",
    "taux",
    "tasa",
}


def normalise(header: str) -> str:
    text = unicodedata.normalize("NFKD", header.replace("\ufeff", "").strip().lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _CURRENCY_SUFFIX.sub("", text)
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def header_currency(header: str) -> str | None:
    """``Amount spent (USD)`` or ``Spend [EUR]`` → the code; ``Cost (€)`` → ``EUR``."""
    match = re.search(r"[(\[]([A-Za-z]{3}|[$€£¥₹])[)\]]\s*$", header.strip())
    if not match:
        return None
    code = match.group(1)
    return CURRENCY_SYMBOLS.get(code, code.upper())


def is_exported_ratio(header: str) -> bool:
    """``Avg. CPC``, ``Cost / conv.``, ``Conv. rate``: an exported ratio, never a base column."""
    return "/" in header or "%" in header or bool(_RATIO_WORDS & set(normalise(header).split()))


@dataclass(frozen=True)
class ColumnRole:
    column: str
    role: str
    confidence: float


def score(header: str, role: str, synonyms: tuple[str, ...] | None = None) -> float:
    """How well a header names a role: 1 for an exact synonym, about 0.5-0.7 for a partial one."""
    name = normalise(header)
    if not name:
        return 0.0
    if role in METRIC_ROLES and is_exported_ratio(header):
        return 0.0
    synonyms = synonyms or SYNONYMS[role]
    if name in synonyms:
        return 1.0
    words = name.split()
    if role in DIMENSION_ROLES + KEY_ROLES:
        # "xyz_campaign_id" is a campaign; "Campaign status" and "Conv. (Platform ...)" are not
        extra = [w for w in words if w not in synonyms]
        if len(extra) == len(words) or any(w not in _ID_WORDS and len(w) > 3 for w in extra):
            return 0.0
    if role in METRIC_ROLES and words[-1] not in synonyms:
        return 0.0  # "competitor_sales_control" is a control, not sales: the last word decides
    if role != "date" and any(syn in words for syn in synonyms if " " not in syn):
        # a whole-word synonym inside a longer header ("Total_Conversion", "xyz_campaign_id")
        return 0.7 - 0.1 * ("id" in words and role != "unit") - 0.05 * (len(words) - 1)
    return 0.0


def fits(role: str, kind: str) -> bool:
    """Can a column of this kind (``number``, ``date``, ``text``, ``empty``) play the role?"""
    if role in METRIC_ROLES:
        return kind in ("number", "empty")
    if role == "date":
        return kind in ("date", "empty")
    return kind != "empty" or role in DIMENSION_ROLES


def assign(scores: list[tuple[float, int, str, str]]) -> dict[str, ColumnRole]:
    """Greedy best-first assignment: (score, -index, column, role) → role → ColumnRole."""
    chosen: dict[str, ColumnRole] = {}
    taken: set[str] = set()
    for value, _, col, role in sorted(scores, reverse=True):
        if value <= 0 or role in chosen or col in taken:
            continue
        chosen[role] = ColumnRole(col, role, round(value, 2))
        taken.add(col)
    return {role: chosen[role] for role in ROLES if role in chosen}
