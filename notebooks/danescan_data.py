"""Load the tables of a danescan dataset into pandas DataFrames.

    import danescan_data
    domains = danescan_data.load("domains")                # $DANESCAN_DATASET
    hosts = danescan_data.load("mx_hosts", "/data/scan-1")

Tables: domains, mx_hosts and endpoints (datasets/SCHEMA.md documents their
columns), and findings, the report's table of the checks that fired
(DATASET/report/findings, written by `danescan analyze` and `danescan lab`).

The first reader that works is used (DANESCAN_BACKEND=duckdb|pyarrow|cli
forces one):

1. Python's duckdb module: read_parquet over the table's part files;
2. pyarrow: pyarrow.parquet.read_table of the table's folder;
3. the danescan binary ($DANESCAN_BIN, default `danescan` on PATH):
   `danescan sql --format csv DATASET 'SELECT * FROM <table>'`, read with
   pandas. This is what CI uses: Debian packages no Python Parquet reader.

The three give the same Python types: lists as Python lists, binary as
bytes, timestamps as UTC datetimes, booleans as bool, nullable integers as
pandas Int64. The CSV carries lists as JSON text and binary as hex; load
converts them using the column types that DuckDB reports (DESCRIBE). One
difference: the CLI presents parts of an older schema version with the
current columns, the Python readers read the parts as they are.
"""

import io
import json
import os
import shutil
import subprocess

import pandas as pd

TABLES = ("domains", "mx_hosts", "endpoints", "findings")
DEFAULT_DATASET = "../lab-out"


def dataset_path(dataset=None):
    """The dataset directory: the argument, else $DANESCAN_DATASET, else ../lab-out."""
    return dataset or os.environ.get("DANESCAN_DATASET") or DEFAULT_DATASET


def has_table(table, dataset=None):
    """Whether the dataset holds the table's folder (findings exist only after a report)."""
    return os.path.isdir(_folder(table, dataset_path(dataset)))


def backend():
    """The reader load uses: $DANESCAN_BACKEND, else duckdb, pyarrow or cli, the first importable."""
    forced = os.environ.get("DANESCAN_BACKEND")
    if forced:
        if forced not in ("duckdb", "pyarrow", "cli"):
            raise ValueError(f"DANESCAN_BACKEND={forced!r}: want duckdb, pyarrow or cli")
        return forced
    for module in ("duckdb", "pyarrow"):
        try:
            __import__(module)
            return module
        except ImportError:
            pass
    return "cli"


def load(table, dataset=None):
    """Return the table of the dataset as a DataFrame, one row per Parquet row.

    Raises ValueError for an unknown table, FileNotFoundError when the
    dataset lacks the table's folder or the danescan binary is missing, and
    RuntimeError with danescan's message when `danescan sql` fails.
    """
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}: want one of {', '.join(TABLES)}")
    path = dataset_path(dataset)
    folder = _folder(table, path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{folder}: no such table folder (is {path} a danescan dataset?)")
    how = backend()
    if how == "duckdb":
        import duckdb

        glob = os.path.join(folder, "*.parquet")
        return duckdb.sql(f"SELECT * FROM read_parquet({_quote(glob)}, union_by_name = true)").df()
    if how == "pyarrow":
        import pyarrow as pa
        import pyarrow.parquet as pq

        arrow = pq.read_table(folder)
        df = arrow.to_pandas()
        for field in arrow.schema:  # to_pandas makes lists numpy arrays
            if pa.types.is_list(field.type) or pa.types.is_large_list(field.type):
                df[field.name] = arrow.column(field.name).to_pylist()
        return df
    return _load_cli(table, path, folder)


def _folder(table, path):
    if table == "findings":
        return os.path.join(path, "report", "findings")
    return os.path.join(path, table)


def _quote(s):
    return "'" + s.replace("'", "''") + "'"


def _sql(path, query):
    binary = os.environ.get("DANESCAN_BIN") or "danescan"
    if shutil.which(binary) is None:
        raise FileNotFoundError(
            f"{binary}: not found; install duckdb or pyarrow for Python, "
            "or set DANESCAN_BIN to a danescan binary (go build ./cmd/danescan)"
        )
    run = subprocess.run([binary, "sql", "--format", "csv", path, query], capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"danescan sql {query!r}: {run.stderr.strip()}")
    return run.stdout


def _load_cli(table, path, folder):
    # The findings table is no view of `danescan sql`: read its parts directly.
    source = table if table != "findings" else f"read_parquet({_quote(os.path.join(folder, '*.parquet'))})"
    query = f"SELECT * FROM {source}"
    types = pd.read_csv(io.StringIO(_sql(path, "DESCRIBE " + query)), dtype=str, keep_default_na=False)
    df = pd.read_csv(io.StringIO(_sql(path, query)), dtype=str, keep_default_na=False)
    for name, kind in zip(types["column_name"], types["column_type"]):
        df[name] = _convert(df[name], kind)
    return df


def _convert(col, kind):
    """Convert a CSV column of DuckDB type kind to the type the Python readers give."""
    empty = col == ""
    if kind.endswith("[]") or kind.startswith(("STRUCT", "MAP")):
        values = [None if s == "" else json.loads(s) for s in col]
        if kind == "BLOB[]":
            values = [v if v is None else [None if b is None else bytes.fromhex(b) for b in v] for v in values]
        return pd.Series(values, index=col.index, dtype=object)
    if kind == "BOOLEAN":
        return col == "true" if not empty.any() else col.map({"true": True, "false": False, "": None})
    if kind in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"):
        return pd.to_numeric(col.mask(empty)).astype("Int64" if empty.any() else "int64")
    if kind in ("FLOAT", "DOUBLE") or kind.startswith("DECIMAL"):
        return pd.to_numeric(col.mask(empty))
    if kind.startswith("TIMESTAMP"):
        try:
            return pd.to_datetime(col.mask(empty), utc=True, format="ISO8601")  # pandas 2
        except (TypeError, ValueError):
            return pd.to_datetime(col.mask(empty), utc=True)  # pandas 1
    if kind == "BLOB":
        return col.map(bytes.fromhex)
    return col
