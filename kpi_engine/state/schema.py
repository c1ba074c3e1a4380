"""The state database's tables (SQLAlchemy Core): what people made and decided, never rows.

Every table of a workspace's things carries ``workspace``; rows of data live in Parquet
files (``kpi_engine.rows``) that the registry names by ``location``. Text columns hold JSON
where a value is a document (columns, a report, a view, a result). Times are naive UTC.
The migrations in ``migrations/versions`` create exactly these tables; a test checks that
the two agree.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
)

metadata = MetaData()
ID = 64  # ids and tokens' hashes
NAME = 200

workspaces = Table(
    "workspaces",
    metadata,
    Column("workspace_id", String(ID), primary_key=True),
    Column("token_hash", String(ID), unique=True),  # a private link's hash; NULL: none
    Column("created_at", DateTime, nullable=False),
    Column("kind", String(16), nullable=False, server_default="anonymous"),  # or local, team
)

datasets = Table(
    "datasets",
    metadata,
    Column("workspace", String(ID), primary_key=True),
    Column("dataset_id", String(ID), primary_key=True),
    Column("name", String(NAME), nullable=False),
    Column("name_key", String(NAME), nullable=False),  # lower(name): unique per workspace
    Column("source_file", Text),
    Column("rows", Integer, nullable=False),
    Column("columns", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("currencies", Text, nullable=False),
    Column("report", Text, nullable=False),
    Column("engine", String(16), nullable=False),  # duckdb (imported) or spark (attached)
    Column("source", Text),  # an attached dataset's path or table (JSON)
    Column("location", Text),  # an imported dataset's Parquet file, under the data folder
    Column("version", String(ID), nullable=False),  # new with every change of the rows
    Index("datasets_name", "workspace", "name_key", unique=True),
    Index("datasets_location", "location"),
)

presets = Table(
    "presets",
    metadata,
    Column("workspace", String(ID), primary_key=True),
    Column("name", String(NAME), primary_key=True),
    Column("mapping", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

custom_kpis = Table(
    "custom_kpis",
    metadata,
    Column("workspace", String(ID), primary_key=True),
    Column("kpi_id", String(ID), primary_key=True),
    Column("formula", Text, nullable=False),
    Column("unit", String(32), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
)

targets = Table(
    "targets",
    metadata,
    Column("workspace", String(ID), primary_key=True),
    Column("dataset_id", String(ID), primary_key=True),
    Column("kpi", String(ID), primary_key=True),
    Column("scope", String(2000), primary_key=True),  # the filters and currency (JSON)
    Column("target", Float, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("deadline", Date, nullable=False),
)

views = Table(
    "views",
    metadata,
    Column("view_id", String(ID), primary_key=True),
    Column("workspace", String(ID), nullable=False, index=True),
    Column("name", String(NAME), nullable=False),
    Column("state", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

annotations = Table(
    "annotations",
    metadata,
    Column("annotation_id", String(ID), primary_key=True),
    Column("workspace", String(ID), nullable=False, index=True),
    Column("dataset_id", String(ID), nullable=True),  # none: every dataset of the workspace
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("text", String(NAME), nullable=False),
    Column("exclude", Boolean, nullable=False, server_default=false()),  # from baselines
    Column("created_by", String(NAME), nullable=False),
    Column("created_at", DateTime, nullable=False),
)

rate_sets = Table(  # a workspace's exchange rates: where they came from
    "rate_sets",
    metadata,
    Column("workspace", String(ID), primary_key=True),
    Column("source", String(NAME), nullable=False),  # the file's name
    Column("base", String(3)),  # NULL: rates are quoted against the reporting currency
    Column("pick", String(8), nullable=False),  # day or month
    Column("version", String(ID), nullable=False),  # new with every upload
    Column("created_by", String(NAME), nullable=False),
    Column("created_at", DateTime, nullable=False),
)

exchange_rates = Table(  # one unit of the base buys ``rate`` units of ``currency`` on ``day``
    "exchange_rates",
    metadata,
    Column("workspace", String(ID), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("rate", Float, nullable=False),
)

shares = Table(
    "shares",
    metadata,
    Column("share_id", String(ID), primary_key=True),
    Column("token_hash", String(ID), nullable=False, unique=True),
    Column("workspace", String(ID), nullable=False, index=True),
    Column("title", String(NAME), nullable=False),
    Column("state", Text, nullable=False),  # the view (JSON)
    Column("dataset", Text, nullable=False),  # the dataset's name and rows then (JSON)
    Column("result", Text, nullable=False),  # the frozen result (JSON)
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime),
    Column("revoked_at", DateTime),
    Column("opens", Integer, nullable=False, server_default="0"),  # how often it was opened
    Column("last_opened_at", DateTime),
)

watches = Table(
    "watches",
    metadata,
    Column("watch_id", String(ID), primary_key=True),
    Column("workspace", String(ID), nullable=False, index=True),
    Column("dataset_id", String(ID), nullable=False),
    Column("kpi", String(ID)),
    Column("experiment", String(ID)),
    Column("rule", String(200), nullable=False),
    Column("destination", String(2000), nullable=False),
    Column("digest", String(16)),
    Column("hour", Integer, nullable=False),
    Column("channel_type", String(32)),
    Column("created_at", DateTime, nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("workspace", String(ID), primary_key=True),
    Column("watch_id", String(ID), primary_key=True),
    Column("period", String(64), primary_key=True),
    Column("destination", String(2000), primary_key=True),
    Column("fingerprint", String(ID), nullable=False),
    Column("status", String(16), nullable=False),  # sending, sent or failed
    Column("attempts", Integer, nullable=False),
    Column("reason", Text),
    Column("message", Text, nullable=False),
    Column("first_try", DateTime, nullable=False),
    Column("last_try", DateTime, nullable=False),
    Column("next_try", DateTime),
    Column("claimed_until", DateTime),  # a monitor is sending it until then
)

settings = Table(
    "settings",
    metadata,
    Column("workspace", String(ID), primary_key=True),
    Column("key", String(ID), primary_key=True),
    Column("value", Text, nullable=False),
)

kpi_seen = Table(
    "kpi_seen",
    metadata,
    Column("workspace", String(ID), primary_key=True),
    Column("dataset_id", String(ID), primary_key=True),
    Column("kpi", String(ID), primary_key=True),
    Column("seen_at", DateTime, nullable=False),
)

# -- sign-in: teams, their members and invitations, personal tokens, the audit log ---------

teams = Table(
    "teams",
    metadata,
    Column("team_id", String(ID), primary_key=True),
    Column("name", String(NAME), nullable=False),
    Column("workspace_id", String(ID), nullable=False, unique=True),  # the team's data
    Column("created_at", DateTime, nullable=False),
    Column("links_need_signin", Boolean, nullable=False, server_default=false()),
    Column("links_domain", String(NAME)),  # with sign-in: only addresses at this domain
    Column("email_domains", Text, nullable=False, server_default="[]"),  # alerts may go there
)

members = Table(
    "members",
    metadata,
    Column("team_id", String(ID), primary_key=True),
    Column("email", String(NAME), primary_key=True),  # lower case
    Column("role", String(16), nullable=False),  # viewer, editor or admin
    Column("verified", Boolean, nullable=False, server_default=false()),  # said the provider
    Column("added_at", DateTime, nullable=False),
    Column("added_by", String(NAME), nullable=False),
    Index("members_email", "email"),
)

invites = Table(
    "invites",
    metadata,
    Column("team_id", String(ID), primary_key=True),
    Column("email", String(NAME), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("invited_by", String(NAME), nullable=False),
    Column("invited_at", DateTime, nullable=False),
    Index("invites_email", "email"),
)

tokens = Table(
    "tokens",
    metadata,
    Column("token_id", String(ID), primary_key=True),
    Column("token_hash", String(ID), nullable=False, unique=True),
    Column("team_id", String(ID), nullable=False),
    Column("email", String(NAME), nullable=False),  # the member it acts as
    Column("label", String(NAME), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("created_by", String(NAME), nullable=False),
    Column("last_used_at", DateTime),
    Column("revoked_at", DateTime),
)

audit = Table(
    "audit",
    metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("workspace", String(ID), nullable=False),
    Column("actor", String(NAME), nullable=False),  # an e-mail, or the local owner...
    Column("role", String(16), nullable=False),
    Column("action", String(32), nullable=False),  # upload, replace, delete, share...
    Column("subject", String(NAME), nullable=False),  # what it was done to
    Column("detail", Text),
    Index("audit_workspace", "workspace", "at"),
)

rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", String(ID), primary_key=True),  # what is limited, e.g. new workspaces by IP
    Column("window", String(32), primary_key=True),  # e.g. the hour
    Column("count", Integer, nullable=False),
)

WORKSPACE_TABLES = (
    datasets,
    presets,
    custom_kpis,
    targets,
    views,
    shares,
    watches,
    settings,
    annotations,
    rate_sets,
    exchange_rates,
)
