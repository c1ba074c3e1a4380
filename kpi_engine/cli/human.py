"""What the command line prints without ``--json``: a few readable lines per command."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from kpi_engine.budget.result import ONE_CAMPAIGN
from kpi_engine.currencies.conversion import ConversionNote
from kpi_engine.currencies.wording import conversion_line
from kpi_engine.experiments.result import ExperimentResult
from kpi_engine.experiments.wording import method_notes
from kpi_engine.explain.result import Explanation
from kpi_engine.explain.wording import signed_amount
from kpi_engine.formatting import format_cell, format_change, format_value
from kpi_engine.typed_json import from_json


def to_plain(value: Any) -> Any:
    """JSON for what ``json`` cannot write itself (dates, numpy scalars, NaN as null)."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return to_plain(value.item())
    if isinstance(value, Decimal):  # a DECIMAL column's values (an import's examples)
        number = float(value)
        return number if math.isfinite(number) else None
    return str(value)  # never the value itself: json would call this again, without end


def _share(result: dict) -> None:
    if "share" in result:
        print(f"read-only link: {result['share']['url']}")


def _rows(rows: list[dict], units: dict[str, str] | None = None, currency=None) -> None:
    """A table, tab-separated; with ``units``, numbers as the page writes them."""
    units = units or {}
    if rows:
        print("\t".join(rows[0]))
        for row in rows:
            print("\t".join(format_cell(v, units.get(k, "text"), currency) for k, v in row.items()))


def _kpis(result: dict) -> None:
    for card in result.get("cards", []):
        kpi = next(k for k in result["kpis"] if k["id"] == card["kpi"])
        change = f" ({format_change(card['change'])})" if card.get("change") is not None else ""
        print(
            f"{kpi['name']}: {format_value(card['value'], kpi['unit'], result['currency'])}{change}"
        )
    units = {k["id"]: k["unit"] for k in result["kpis"]}
    if result.get("by") or not result.get("cards"):
        _rows(result["rows"], units, result["currency"])
    _converted(result)
    _share(result)


def _converted(result: dict) -> None:
    if result.get("conversion"):
        print(conversion_line(from_json(ConversionNote, result["conversion"])))


def _token(result: dict) -> None:
    if "tokens" in result:
        for t in result["tokens"]:
            state = "revoked" if t["revoked"] else f"last used {t['last_used_at'] or 'never'}"
            print(f"{t['token_id']}  {t['email']:<32} {t['label']:<20} {state}")
    elif "token" in result:
        print(result["token"])
        print(f"{result['token_id']}: for {result['email']} ({result['label']}). It is shown"
              " only now: keep it like a password.")  # fmt: skip
    else:
        print(f"revoked {result['token_id']}")


def _team(result: dict) -> None:
    if "members" in result:
        for m in result["members"]:
            confirmed = ", address confirmed" if m["verified"] else ""
            print(f"{m['email']:<36} {m['role']:<7} {m['status']}{confirmed}")
    elif "team_id" in result:
        print(f"made team {result['name']} ({result['team_id']}); {result['admin']} is its"
              " admin")  # fmt: skip
    elif "removed" in result:
        print(f"removed {result['removed']}")
    else:
        print(f"{result['email']}: {result['role']} ({result['status']})")


def _explain(result: dict) -> None:
    e = Explanation.from_dict(result)
    print(e.sentence)
    _converted(result)
    unit, money = e.unit, e.currency
    print(
        f"{e.name}: {format_value(e.previous, unit, money)} ({e.vs[0]} to {e.vs[1]}) ->"
        f" {format_value(e.value, unit, money)} ({e.period[0]} to {e.period[1]})"
    )
    for p in e.parts:
        share = "n/a" if p.share is None else f"{p.share:.0%} of the change"
        noise = ", within noise" if p.within_noise else ""
        print(
            f"  {p.name:<24} {format_value(p.previous, p.unit, money)} ->"
            f" {format_value(p.value, p.unit, money)}  {format_change(p.change)}  ({share}{noise})"
        )
    for note in (e.parts_note if not e.parts else None, e.by_note):
        if note:
            print(f"  {note}")
    if e.mix is None or e.rate is None:
        return
    print(f"by {e.by}:  mix {signed_amount(e.mix, unit, money)} + rate"
          f" {signed_amount(e.rate, unit, money)}")  # fmt: skip
    for c in e.contributors:
        noise = "  (within noise)" if c.within_noise else ""
        print(
            f"  {c.group:<32} mix {signed_amount(c.mix, unit, money):>12}  rate"
            f" {signed_amount(c.rate, unit, money):>12}  total"
            f" {signed_amount(c.total, unit, money):>12}{noise}"
        )


def _imported(result: dict) -> None:
    if result.get("action") == "attach":
        print(
            f"attached {result['rows']} rows as {result['name']} ({result['dataset_id']}),"
            f" read where they live on {result['engine']}"
        )
    elif result.get("action") == "append":
        print(
            f"appended {result['rows_kept']} rows to {result['name']}"
            f" ({result['dataset_id']}): it now has {result['rows']} rows"
        )
    else:
        print(f"imported {result['rows']} rows as {result['name']} ({result['dataset_id']})")
    for source, role in result["columns"].items():
        print(f"  {source}: {role or '-'}")
    for warning in result["warnings"]:
        print(f"  warning: {warning['message']}")


def _inspected(result: dict) -> None:
    print(f"{result['file']}: {result['kind_label']}; platform {result['platform_name']}")
    for col in result["columns"]:
        role = "ignored" if col["ignored"] else (col["role"] or "-")
        print(f"  {col['column']}: {role} ({col['confidence']:.2f}), reads as {col['reads_as']}")


def _experiment(result: dict) -> None:
    srm = result["srm"]
    if srm["checked"]:
        print(f"SRM p = {srm['p_value']:.3g}" + ("  MISMATCH" if srm["flag"] else ""))
    for r in result["results"]:
        print(r["verdict"])
    _converted(result)
    for line in method_notes(ExperimentResult.from_dict(result)):
        print(line)
    for w in result["warnings"]:
        print(f"warning: {w['message']}")
    _share(result)


def _budget(result: dict) -> None:
    for note in result["notes"]:
        print(note)
    _converted(result)
    if result["status"] == ONE_CAMPAIGN:
        return
    money = result.get("currency")
    for c in result["campaigns"]:
        now, then = (
            format_value(c[k], "currency", money) for k in ("current_spend", "suggested_spend")
        )
        print(f"{c['campaign']}: {now} -> {then}  ({c['reason']})")
    p = result["portfolio"]
    unit = "count" if result.get("objective") == "conversions" else "currency"
    before, after = (
        format_value(p[k], unit, money) for k in ("current_outcome", "suggested_outcome")
    )
    uplift = format_value(abs(p["uplift"]), unit, money)
    print(f"outcome {before} -> {after} ({'+' if p['uplift'] >= 0 else '−'}{uplift} a day)")
    _share(result)


def _watches(result: dict) -> None:
    for w in result.get("watches", [result] if "watch_id" in result else []):
        print(f"{w['watch_id']}  {w['kpi'] or 'experiment'}  {w['rule']}  -> {w['destination']}")
    if "removed" in result:
        print(f"removed {result['removed']}")


def _monitor(result: dict) -> None:
    for s in result["sent"]:
        print(f"{s['status']}: {s['watch_id']} -> {s['destination']}")
    for f in result["failed"]:
        print(f"FAILED: {f['watch_id']} -> {f['destination']}: {f['reason']}")
    print(f"{result['not_due']} watch finding(s) with nothing new to send")


def _notes(result: dict) -> None:
    for n in result.get("notes", [result] if "annotation_id" in result else []):
        left_out = " (left out of baselines)" if n["exclude"] else ""
        print(f"{n['annotation_id']}  {n['start']} to {n['end']}  {n['text']}{left_out}")
    if "removed" in result:
        print(f"removed {result['removed']}")


def _rates(result: dict) -> None:
    if result.get("cleared"):
        print("the workspace's exchange rates are deleted")
    else:
        print(result.get("summary") or "this workspace has no exchange rates")


def _listed(command: str, result: dict) -> None:
    """The commands that print a list or a line or two."""
    if command == "share":
        print(json.dumps(result, indent=1, default=to_plain))
    elif command == "power":
        print(f"{result['n_per_arm']:,} users per arm, {result['n_total']:,} in total")
    elif command == "prune":
        print(f"removed {result['removed']} untouched workspaces; {result['kept']} remain")
        print(f"removed {result['files_swept']} files of rows that no dataset names any more")
    elif command == "presets":
        print("platforms: " + ", ".join(result["platforms"]))
        print("saved: " + (", ".join(result["saved"]) or "none"))
    elif command == "catalog":
        for kpi in result["kpis"]:
            print(f"{kpi['id']:<22} {kpi['family']:<22} {kpi['formula']}")
    elif command == "audit":
        for e in result["entries"]:
            detail = f" ({e['detail']})" if e["detail"] else ""
            print(f"{e['at']}  {e['actor']} ({e['role']})  {e['action']}  {e['subject']}{detail}")
    elif command == "migrate":
        moved = ", ".join(f"{n} {table}" for table, n in result["moved"].items() if n)
        print(f"moved {moved or 'nothing'} from {result['from']} into {result['state']}")
    elif command == "datasets":
        for d in result["datasets"]:
            print(f"{d['dataset_id']}  {d['rows']:>10}  {d['name']}")
    else:
        _rows(result["rows"])
        _share(result)


PRINTERS = {
    "import": _imported,
    "attach": _imported,
    "inspect": _inspected,
    "experiment": _experiment,
    "budget": _budget,
    "watch": _watches,
    "monitor": _monitor,
    "note": _notes,
    "rates": _rates,
    "token": _token,
    "team": _team,
    "explain": _explain,
    "kpis": _kpis,
}


def print_human(command: str, result: dict) -> None:
    printer = PRINTERS.get(command)
    if printer is not None:
        printer(result)
    else:
        _listed(command, result)
