"""Names in SQL: every table and column name is quoted; values are always bound parameters."""


def quote_identifier(name: str) -> str:
    """Quote a column or table name (DuckDB and Spark SQL both read double quotes this way
    once SQLGlot has transpiled them)."""
    return '"' + name.replace('"', '""') + '"'
