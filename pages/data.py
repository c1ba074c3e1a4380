"""Data: upload a file, check and correct its column mapping, import it; manage datasets."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import streamlit as st

from kpi_engine.compute import ATTACH_ENGINES, FORMATS
from kpi_engine.datasets import Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.export import to_csv_bytes
from kpi_engine.ingest import ImportOptions, ImportPlan, import_file, inspect_file, mapping_of
from kpi_engine.ingest.attach import AttachOptions, attach, inspect_source
from kpi_engine.ingest.mapping import IGNORE, KIND_LABELS, NO_ROLE, MappedColumn
from kpi_engine.ingest.platforms import PLATFORMS
from kpi_engine.ingest.source import drop_spool, spool_upload
from kpi_engine.roles import CORE_ROLES, ROLES
from kpi_engine.store import Store
from ui.dataset_picker import current_dataset, select_after_rerun
from ui.identity import can, current_store, writable_store
from ui.messages import show_error
from ui.navigation import require_app_navigation
from ui.rates_panel import rates_panel
from ui.resources import session_spool
from ui.state import Keys
from ui.text import plain

UPLOAD_TYPES = ["csv", "tsv", "txt", "gz", "xlsx", "parquet"]
ROLE_CHOICES = [NO_ROLE, IGNORE, *ROLES]
MAX_DOWNLOAD_ROWS = 200_000
AUTO = "(detect)"


def _forget_pending() -> None:
    """Drop the pending upload: its file in this session's spool and how it was read."""
    if st.session_state.pop(Keys.PENDING_UPLOAD, None):
        drop_spool(session_spool())
    st.session_state.pop(Keys.PENDING_PLAN, None)
    for key in [k for k in st.session_state if str(k).startswith(Keys.MAPPING_EDITOR)]:
        del st.session_state[key]


def _take_upload(upload) -> None:
    """Keep a new upload as a temporary file until it is imported or cancelled, and empty the
    uploader: Streamlit then frees the upload's bytes, which it holds in memory otherwise."""
    _forget_pending()
    st.session_state.pop(Keys.LAST_IMPORT, None)
    st.session_state[Keys.UPLOADER] = st.session_state.get(Keys.UPLOADER, 0) + 1
    try:
        path = spool_upload(upload.getbuffer(), upload.name, session_spool())
    except KpiLabError as exc:
        st.session_state[Keys.UPLOAD_REFUSED] = str(exc)
        st.rerun()
    st.session_state[Keys.PENDING_UPLOAD] = {
        "file_id": upload.file_id,
        "path": str(path),
        "name": upload.name,
    }
    st.rerun()


def _options_form(store: Store, pending: dict, plan: ImportPlan | None) -> ImportOptions:
    """Sheet, preset, unpivot and target: the choices that change how the file is read."""
    cols = st.columns(3)
    sheet = None
    if plan is not None and plan.source.sheets:
        sheet = cols[0].selectbox("Sheet", plan.source.sheets, key=Keys.IMPORT_SHEET)
    presets = [AUTO, *PLATFORMS, *store.presets()]
    preset = cols[1].selectbox(
        "Preset",
        presets,
        key=Keys.IMPORT_PRESET,
        format_func=lambda p: PLATFORMS[p].name if p in PLATFORMS else p,
        help="Column names per ad platform, or a mapping you saved. (detect) recognises the"
        " platform from the headers.",
    )
    unpivot = False
    if plan is not None and plan.wide:
        unpivot = cols[2].toggle(
            "One row per channel",
            value=True,
            key=Keys.IMPORT_UNPIVOT,
            help=f"The file has one column per channel ({', '.join(sorted(plan.wide.groups))}).",
        )
    return ImportOptions(preset=None if preset == AUTO else preset, sheet=sheet, unpivot=unpivot)


def _inspect(store: Store, pending: dict, options: ImportOptions) -> ImportPlan | None:
    """How the pending file reads with these options: worked out once, not on every rerun
    (a large or hostile file costs seconds to read)."""
    key = (pending["file_id"], options.preset, options.sheet)
    known = st.session_state.get(Keys.PENDING_PLAN)
    if known is None or known[0] != key:
        try:
            known = (key, inspect_file(store, pending["path"], options, pending["name"]), None)
        except KpiLabError as exc:
            known = (key, None, str(exc))
        st.session_state[Keys.PENDING_PLAN] = known
    if known[2]:
        show_error(known[2])
    return known[1]


def _mapping_editor(
    columns: list[MappedColumn], sample: pd.DataFrame | None, key: str
) -> dict[str, str]:
    """The detected mapping, editable: a role per column, or ignore it (uploads and attached
    tables alike)."""
    sample = sample if sample is not None else pd.DataFrame()
    table = pd.DataFrame(
        {
            "column": [c.name for c in columns],
            "role": [IGNORE if c.ignored else (c.role or NO_ROLE) for c in columns],
            "confidence": [c.confidence for c in columns],
            "reads as": [c.parse.describe() for c in columns],
            "first values": [
                ", ".join(str(v) for v in sample[c.name].dropna().head(3))
                if c.name in sample
                else ""
                for c in columns
            ],
        }
    )
    edited = st.data_editor(
        table,
        key=key,
        hide_index=True,
        disabled=["column", "confidence", "reads as", "first values"],
        column_config={
            "role": st.column_config.SelectboxColumn(
                "role",
                options=ROLE_CHOICES,
                required=True,
                help="none: keep the column without a role; ignore: leave it out",
            ),
            "confidence": st.column_config.ProgressColumn(
                "confidence",
                min_value=0.0,
                max_value=1.0,
                format="%.2f",
            ),
        },
    )
    return dict(zip(edited["column"], edited["role"], strict=True))


def _pending_upload(store: Store, pending: dict) -> None:
    st.subheader(f"Check the columns of {plain(pending['name'])}", anchor=False)
    plan = _inspect(
        store,
        pending,
        ImportOptions(
            sheet=st.session_state.get(Keys.IMPORT_SHEET),
            preset=None
            if st.session_state.get(Keys.IMPORT_PRESET, AUTO) == AUTO
            else st.session_state.get(Keys.IMPORT_PRESET),
        ),
    )
    options = _options_form(store, pending, plan)
    if plan is None:
        if st.button("Cancel", icon=":material/close:"):
            _forget_pending()
            st.rerun()
        return
    st.caption(
        f"{KIND_LABELS[plan.kind]} · {PLATFORMS[plan.platform].name} layout"
        + (f" · delimiter {plan.dialect.delimiter!r}" if plan.dialect else "")
        + (f" · currency {plan.currency}" if plan.currency else "")
        + f" · encoding {plan.source.encoding}"
    )
    for note in plan.notes:
        st.info(plain(note["message"]), icon=":material/info:")
    editor_key = f"{Keys.MAPPING_EDITOR}_{pending['file_id']}_{options.preset}_{options.sheet}"
    options.mapping = _mapping_editor(plan.columns, plan.preview, editor_key)
    _import_controls(store, pending, options)


def _import_controls(store: Store, pending: dict, options: ImportOptions) -> None:
    datasets = {d.dataset_id: d.name for d in store.datasets()}
    target_col, name_col = st.columns(2)
    target = target_col.radio(
        "Import as",
        ["new", "append", "replace"],
        horizontal=True,
        key=Keys.IMPORT_TARGET,
        format_func={
            "new": "a new dataset",
            "append": "rows added to a dataset",
            "replace": "a replacement of a dataset",
        }.get,
        help="Appending replaces rows with the same date and dimensions (a re-exported period).",
    )
    label, ready = "Import", True
    if target == "new":
        options.name = name_col.text_input(
            "Name", value=Path(pending["name"]).name.split(".")[0], max_chars=120
        )
    elif datasets:
        ids = list(datasets)
        selected = current_dataset(store)
        chosen = name_col.selectbox(
            "Dataset",
            ids,
            index=ids.index(selected.dataset_id) if selected and selected.dataset_id in ids else 0,
            format_func=datasets.get,
            key=f"{Keys.IMPORT_TARGET}_dataset",
        )
        name = plain(datasets[chosen])
        if target == "append":
            options.append = chosen
            label = f"Append to {name}"
        else:
            options.replace = chosen
            label = f"Replace {name}"
            rows = next(d.rows for d in store.datasets() if d.dataset_id == chosen)
            ready = st.checkbox(
                f"Replace all {rows:,} rows of {name} with this file",
                key=f"{Keys.IMPORT_TARGET}_confirm_{chosen}",
            )
            options.force = st.checkbox(
                "Replace even if the file lacks metrics the dataset has",
                key=f"{Keys.IMPORT_TARGET}_force_{chosen}",
                help="Its KPIs on those metrics, and the views and links using them, turn n/a.",
            )
    import_col, save_col, cancel_col = st.columns([1, 2, 1])
    if import_col.button(label, type="primary", icon=":material/download:", disabled=not ready):
        _run_import(store, pending, options)
    with save_col.popover("Save mapping as preset", icon=":material/bookmark:"):
        preset_name = st.text_input("Preset name", max_chars=120, key=Keys.PRESET_NAME)
        if st.button("Save preset") and preset_name.strip():
            try:
                writable_store().save_preset(preset_name, dict(options.mapping or {}))
                st.success(f"Saved preset {plain(preset_name)}.")
            except KpiLabError as exc:
                show_error(exc)
    if cancel_col.button("Cancel", icon=":material/close:"):
        _forget_pending()
        st.rerun()


def _attach_form(store: Store) -> None:
    """A table in a data lake or a catalog, attached: nothing is copied; every analysis of it
    runs on Spark."""
    where_col, source_col, format_col = st.columns([1, 2, 1])
    where = where_col.radio(
        "Where it is",
        ["path", "table"],
        format_func={"path": "a path", "table": "a catalog table"}.get,
        key=Keys.ATTACH_WHERE,
    )
    text = source_col.text_input(
        "Parquet file, folder or glob" if where == "path" else "Table",
        key=Keys.ATTACH_SOURCE,
        placeholder="/lake/ads/daily/ or s3a://bucket/ads/*.parquet"
        if where == "path"
        else "catalog.schema.table",
    ).strip()
    engine = where_col.selectbox(
        "Engine", ATTACH_ENGINES, format_func=str.capitalize, key=Keys.ATTACH_ENGINE
    )
    fmt = format_col.selectbox("Format", FORMATS, key=Keys.ATTACH_FORMAT, disabled=where != "path")
    name = format_col.text_input("Name", key=Keys.ATTACH_NAME, placeholder="the file's name")
    options = AttachOptions(
        path=text if where == "path" else None,
        table=text if where == "table" else None,
        engine=engine,
        format=fmt,
        name=name.strip() or None,
    )
    if st.button("Read its columns", icon=":material/table_view:", disabled=not text):
        st.session_state[Keys.ATTACH_READ] = (where, text, fmt)
    if st.session_state.get(Keys.ATTACH_READ) != (where, text, fmt):
        return
    try:
        with st.spinner("Reading it on Spark (the first time starts Spark: 10-30 s)"):
            plan = inspect_source(store, options)
    except KpiLabError as exc:
        show_error(exc, paths=True)  # the path the admin typed, and the roots they may use
        return
    mapping = _mapping_editor(
        plan.columns, plan.preview, f"{Keys.MAPPING_EDITOR}_attach_{where}_{text}_{fmt}"
    )
    if st.button("Attach", type="primary", icon=":material/add_link:"):
        try:
            with st.spinner("Counting its rows on Spark"):
                result = attach(store, replace(options, mapping=mapping))
        except KpiLabError as exc:
            show_error(exc, paths=True)
            return
        st.session_state[Keys.LAST_IMPORT] = result.to_dict()
        st.session_state.pop(Keys.ATTACH_READ, None)
        select_after_rerun(result.dataset.dataset_id)
        st.rerun()


def _run_import(store: Store, pending: dict, options: ImportOptions) -> None:
    bar = st.progress(0.0, text="Starting")
    try:
        result = import_file(
            writable_store(),
            pending["path"],
            source_name=pending["name"],
            options=options,
            progress=lambda fraction, message: bar.progress(fraction, text=message),
        )
    except KpiLabError as exc:
        bar.empty()
        show_error(exc)
        return
    st.session_state[Keys.LAST_IMPORT] = result.to_dict()
    select_after_rerun(result.dataset.dataset_id)
    _forget_pending()
    st.rerun()


def _show_last_import() -> None:
    last = st.session_state.get(Keys.LAST_IMPORT)
    if last:
        dropped = f", {last['rows_dropped']:,} dropped" if last["rows_dropped"] else ""
        replaced = f", {last['rows_replaced']:,} replaced" if last["rows_replaced"] else ""
        counts = f" ({last['rows_read']:,} read{dropped}{replaced})"
        rows, name = f"**{last['rows_kept']:,}** rows", f"**{plain(last['name'])}**"
        text = {
            "append": f"Appended {rows} to {name}{counts}; it now has {last['rows']:,} rows.",
            "replace": f"Replaced the rows of {name} with {rows}{counts}.",
            "attach": f"Attached {name}: {rows}, read where they live, on {last.get('engine')}.",
        }.get(last.get("action"), f"Imported {rows} as {name}{counts}.")
        st.success(text, icon=":material/check_circle:")


def _report(dataset: Dataset) -> None:
    """Every import's findings, newest first: an append keeps what the earlier files had."""
    report = dataset.report
    if not report:
        return
    reports = [report, *report.get("earlier", [])]
    count = sum(len(r.get("warnings", [])) for r in reports)
    title = f"Data quality: {count} finding(s)" if count else "Data quality: no issues"
    with st.expander(title, expanded=bool(report.get("warnings")), icon=":material/fact_check:"):
        for i, one in enumerate(reports):
            if len(reports) > 1:
                when = str(one.get("imported_at", "")).replace("T", " ")
                st.markdown(
                    f"**{plain(one.get('file') or 'import')}** · {one.get('action', 'import')}"
                    f"{' (latest)' if i == 0 else ''} · {plain(when)}"
                )
            st.caption(
                f"{one.get('rows_read', dataset.rows):,} rows read,"
                f" {one.get('rows_dropped', 0):,} dropped"
            )
            for w in one.get("warnings", []):
                st.markdown(f"- `{w['code']}` ({w['count']:,}): {plain(w['message'])}")
                if w.get("examples"):
                    st.caption("e.g. " + plain("; ".join(str(e) for e in w["examples"])))


def _roles_table(dataset: Dataset) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "column": [c.name for c in dataset.columns],
            "detected role": [c.role or "—" for c in dataset.columns],
            "type": [c.type for c in dataset.columns],
        }
    )


def _dataset_details(store: Store, dataset: Dataset) -> None:
    st.subheader(plain(dataset.name), anchor=False)
    currencies = f" · {plain(', '.join(dataset.currencies))}" if dataset.currencies else ""
    origin = (
        f"attached from {plain(dataset.source_file or '')}, read there on {dataset.engine}"
        if dataset.attached
        else f"from {plain(dataset.source_file or 'unknown file')}"
    )
    st.caption(
        f"{dataset.rows:,} rows · {origin} · {KIND_LABELS.get(dataset.kind, dataset.kind)} ·"
        f" {PLATFORMS[dataset.platform].name}{currencies} ·"
        f" {'attached' if dataset.attached else 'imported'} {dataset.created_at:%Y-%m-%d %H:%M}"
    )
    _report(dataset)
    roles_col, preview_col = st.columns([1, 2])
    with roles_col:
        st.markdown("**Columns and detected roles**")
        st.dataframe(_roles_table(dataset), hide_index=True)
        missing = [r for r in CORE_ROLES if r not in dataset.roles]
        if missing:
            st.caption("Not found in this file: " + ", ".join(missing))
    with preview_col:
        st.markdown("**Preview** (first 20 rows)")
        dates = {
            c.name: st.column_config.DateColumn(format="YYYY-MM-DD")
            for c in dataset.columns
            if c.type == "DATE"
        }
        st.dataframe(store.preview(dataset.dataset_id, 20), hide_index=True, column_config=dates)
        if dataset.rows <= MAX_DOWNLOAD_ROWS and not dataset.attached:
            st.download_button(
                "Download rows (CSV)",
                to_csv_bytes(store.preview(dataset.dataset_id, dataset.rows)),
                file_name=f"{dataset.name}.csv",
                mime="text/csv",
                icon=":material/download:",
                on_click="ignore",
            )
    _manage(store, dataset)


def _manage(store: Store, dataset: Dataset) -> None:
    """Rename and save the mapping (editors), delete (admins)."""
    if not can("edit"):
        return
    rename_col, preset_col, delete_col = st.columns(3)
    with rename_col, st.form("rename", border=False):
        new_name = st.text_input("New name", value=dataset.name, max_chars=120)
        if st.form_submit_button("Rename", icon=":material/edit:"):
            try:
                writable_store().rename(dataset.dataset_id, new_name)
                st.rerun()
            except KpiLabError as exc:
                show_error(exc)
    with preset_col, st.form("save_preset", border=False):
        preset_name = st.text_input("Save its mapping as a preset", max_chars=120)
        if st.form_submit_button("Save preset", icon=":material/bookmark:") and preset_name:
            try:
                writable_store().save_preset(preset_name, mapping_of(dataset))
                st.success(f"Saved preset {plain(preset_name)}.")
            except KpiLabError as exc:
                show_error(exc)
    if not can("delete"):
        return
    with delete_col:
        st.markdown("Delete this dataset")
        confirm = st.checkbox(
            "Yes, delete it for good", key=f"{Keys.CONFIRM_DELETE}_{dataset.dataset_id}"
        )
        if st.button("Delete", icon=":material/delete:", disabled=not confirm, type="primary"):
            try:
                writable_store().delete(dataset.dataset_id)
            except KpiLabError as exc:
                show_error(exc)
                return
            st.session_state.pop(Keys.LAST_IMPORT, None)
            st.rerun()


require_app_navigation()
store = current_store()
st.title("Data", anchor=False)
st.caption(
    "Upload a report exported from Google Ads, Meta, LinkedIn, TikTok, Microsoft Ads or any"
    " tool (CSV, TSV, Excel, Parquet, or gzip): one row per day, campaign or channel with"
    " columns such as Impressions, Clicks, Cost, Conversions and Revenue, or one row per user"
    " of an experiment."
)
if can("edit"):
    upload = st.file_uploader(
        "Campaign file", type=UPLOAD_TYPES, key=f"upload_{st.session_state.get(Keys.UPLOADER, 0)}"
    )
    if upload is not None:
        _take_upload(upload)
    if refused := st.session_state.pop(Keys.UPLOAD_REFUSED, None):
        show_error(refused)
else:
    st.info(
        "You can read this team's data. Uploads are for its editors and admins.",
        icon=":material/visibility:",
    )
if can("attach"):
    with st.expander(
        "Attach a table from a data lake or a catalog (Spark)", icon=":material/cloud:"
    ):
        st.caption(
            "Nothing is copied: the table stays where it is and every analysis of it runs on"
            " Spark (KPILAB_SPARK_MASTER; credentials stay in the cluster's own configuration)."
            " Its rows cannot be changed from here. Only the folders and catalogs this"
            " server's operator allows can be attached."
        )
        _attach_form(store)
pending = st.session_state.get(Keys.PENDING_UPLOAD)
if pending and can("edit"):
    _pending_upload(store, pending)
_show_last_import()

datasets = store.datasets()
st.subheader("Datasets", anchor=False)
if not datasets:
    st.info("No datasets yet: upload a file above.")
else:
    st.dataframe(
        pd.DataFrame(
            {
                "name": [d.name for d in datasets],
                "rows": [d.rows for d in datasets],
                "kind": [d.kind for d in datasets],
                "engine": [d.engine for d in datasets],
                "source file": [d.source_file for d in datasets],
                "imported": [d.created_at for d in datasets],
            }
        ),
        hide_index=True,
        column_config={"rows": st.column_config.NumberColumn(format="localized")},
    )
    selected = current_dataset(store)
    if selected is not None:
        _dataset_details(store, selected)
rates_panel(store)
