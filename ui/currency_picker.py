"""Which currency a page's money is in: with the workspace's exchange rates, every amount
converted into one currency; without, one of the dataset's currencies at a time."""

from __future__ import annotations

import streamlit as st

from kpi_engine.currencies import wording
from kpi_engine.currencies.workspace_rates import workspace_rates
from kpi_engine.datasets import Dataset
from kpi_engine.store import Store
from ui.widget_keys import widget_key


def currency_choice(
    store: Store, dataset: Dataset, key: str, label: str, where=st
) -> tuple[str | None, bool]:
    """(the currency, whether every amount is converted into it)."""
    table = workspace_rates(store) if dataset.currencies and dataset.date_column else None
    if table is not None:
        choices = sorted(
            {*dataset.currencies, *table.currencies, *([table.base] if table.base else [])}
        )
        first = (
            dataset.currencies[0] if len(dataset.currencies) == 1 else (table.base or choices[0])
        )
        chosen = where.selectbox(
            label,
            choices,
            index=choices.index(first),
            key=widget_key(f"{key}_to", dataset.dataset_id),
            help=wording.CONVERT_HELP,
        )
        return chosen, True
    if len(dataset.currencies) > 1:
        chosen = where.segmented_control(
            label,
            dataset.currencies,
            default=dataset.currencies[0],
            required=True,
            key=widget_key(key, dataset.dataset_id),
            help=wording.NO_RATES,
        )
        return chosen, False
    return None, False
