"""Rate limits kept in the state database, so they hold across processes: how many times a
key (e.g. new workspaces from one address) was counted in the current window."""

from __future__ import annotations

import time

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from kpi_engine.state.schema import rate_limits
from kpi_engine.store import Store


def allow(store: Store, key: str, limit: int, window_seconds: int = 3600) -> bool:
    """Count one for ``key`` in this window; False once the window holds ``limit``."""
    window = str(int(time.time() // window_seconds))
    where = (rate_limits.c.key == key[:64], rate_limits.c.window == window)
    with store.state.write() as conn:
        count = conn.execute(select(rate_limits.c.count).where(*where)).scalar_one_or_none()
        if count is not None and count >= limit:
            return False
        if count is not None:
            conn.execute(update(rate_limits).where(*where).values(count=count + 1))
            return True
    try:
        with store.state.write() as conn:
            conn.execute(rate_limits.insert().values(key=key[:64], window=window, count=1))
    except IntegrityError:  # another process counted the first one: count again
        return allow(store, key, limit, window_seconds)
    return True
