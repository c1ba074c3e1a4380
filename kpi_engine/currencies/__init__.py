"""One reporting currency: exchange rates from a file or the workspace's table, and money
converted at each row's date (the last earlier rate where a day has none)."""
