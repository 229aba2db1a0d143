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

A dataset path may also be a directory of datasets (one or two levels
down: the shards of a scan made with `danescan scan --shard K/N`, or
several scans each holding its shards), or a list of paths. The shards of
one scan (one scan_id) load as one scan, as `danescan analyze` reads them:
domains rows side by side (a domain belongs to one shard), mx_hosts rows
deduplicated by (scan_id, host) and endpoints rows by (scan_id, host,
address, sigalgs), since a host used by domains of several shards has its
rows in each; of repeated rows the one with most evidence is kept (not
interrupted, then probed), else the lowest shard's. Shards that cannot make
one scan (the same shard twice, shard counts, schema versions, flags or
inputs that differ) raise ValueError; a missing or unfinished shard is a
warning (warnings.warn).
"""

import io
import json
import os
import shutil
import subprocess
import warnings

import pandas as pd

TABLES = ("domains", "mx_hosts", "endpoints", "findings")
DEFAULT_DATASET = "../lab-out"
MANIFEST = "manifest.json"

# The key columns of the tables whose rows repeat across the shards of one scan.
DEDUP_KEYS = {"mx_hosts": ["scan_id", "host"], "endpoints": ["scan_id", "host", "address", "sigalgs"]}

# Config keys that may differ between the shards of one scan: speed, politeness and the
# machine's EHLO name, not what is measured (as in analysis/scan.go).
TUNING_KEYS = {"workers", "dns_qps", "part_rows", "host_cache", "smtp_workers", "smtp_rate", "address_interval", "ehlo"}


def dataset_path(dataset=None):
    """The dataset path: the argument, else $DANESCAN_DATASET, else ../lab-out."""
    return dataset or os.environ.get("DANESCAN_DATASET") or DEFAULT_DATASET


def dataset_dirs(dataset=None):
    """The dataset directories that the path (or list of paths) names, in order.

    A directory with a manifest.json is a dataset; one without stands for the
    datasets among its subdirectories, one or two levels down, sorted by name.
    Raises FileNotFoundError when a path is missing or holds no dataset.
    """
    paths = dataset_path(dataset)
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out = []
    for path in paths:
        path = os.fspath(path)
        if not os.path.isdir(path):
            raise FileNotFoundError(f"{path}: no such dataset directory")
        found = [path] if _is_dataset(path) else _sub_datasets(path, 2)
        if not found:
            raise FileNotFoundError(f"{path} is not a danescan dataset: it has no {MANIFEST}, "
                                    "and no subdirectory one or two levels down has one")
        for d in found:
            if os.path.realpath(d) not in {os.path.realpath(o) for o in out}:
                out.append(d)
    return out


def _is_dataset(path):
    return os.path.isfile(os.path.join(path, MANIFEST))


def _sub_datasets(path, depth):
    out = []
    for name in sorted(os.listdir(path)):
        sub = os.path.join(path, name)
        if name.startswith(".") or not os.path.isdir(sub):
            continue
        if _is_dataset(sub):
            out.append(sub)
        elif depth > 1:
            out.extend(_sub_datasets(sub, depth - 1))
    return out


def scans(dataset=None):
    """The scans of the datasets, {scan_id: [(directory, manifest), ...]}, shards by index.

    Raises ValueError for shards that cannot make one scan; warns of a missing or
    unfinished shard.
    """
    groups = {}
    for d in dataset_dirs(dataset):
        with open(os.path.join(d, MANIFEST)) as f:
            m = json.load(f)
        groups.setdefault(m.get("scan_id", ""), []).append((d, m))
    for scan_id, sets in groups.items():
        _check_scan(scan_id, sets)
    return groups


def _shard_name(m):
    sh = m.get("shard")
    return f"shard {sh['index']}/{sh['count']}" if sh else "the whole scan"


def _check_scan(scan_id, sets):
    d0, m0 = sets[0]
    for d, m in sets[1:]:
        a, b = m0.get("shard"), m.get("shard")
        if not a and not b:
            raise ValueError(f"scan {scan_id} is given twice: {d0} and {d} both hold the whole scan (give one)")
        if not a or not b or a["count"] != b["count"]:
            raise ValueError(f"scan {scan_id}: the shard counts disagree: {d0} holds {_shard_name(m0)}, "
                             f"{d} holds {_shard_name(m)}")
    if not m0.get("shard"):
        if not m0.get("complete"):
            warnings.warn(f"dataset {scan_id} is incomplete: figures cover the domains scanned before it stopped")
        return
    sets.sort(key=lambda dm: dm[1]["shard"]["index"])
    for (da, ma), (db, mb) in zip(sets, sets[1:]):
        if ma["shard"]["index"] == mb["shard"]["index"]:
            raise ValueError(f"scan {scan_id}: {_shard_name(mb)} is given twice: {da} and {db} (give one)")
    for d, m in sets[1:]:
        if m.get("schema_version") != m0.get("schema_version"):
            raise ValueError(f"scan {scan_id}: its shards have different schema versions: "
                             f"{d0} has {m0.get('schema_version')}, {d} has {m.get('schema_version')}")
        ca, cb = m0.get("config") or {}, m.get("config") or {}
        for k in sorted((set(ca) | set(cb)) - TUNING_KEYS):
            if ca.get(k, "(none)") != cb.get(k, "(none)"):
                raise ValueError(f"scan {scan_id}: its shards were scanned with different flags: "
                                 f"{d0} has {k}={ca.get(k, '(none)')}, {d} has {k}={cb.get(k, '(none)')}")
        ia, ib = m0.get("inputs") or [], m.get("inputs") or []
        if len(ia) != len(ib) or any(x.get("sha256") and y.get("sha256") and x["sha256"] != y["sha256"] for x, y in zip(ia, ib)):
            raise ValueError(f"scan {scan_id}: its shards read different inputs: {d0} and {d}")
    count = m0["shard"]["count"]
    missing = sorted(set(range(count)) - {m["shard"]["index"] for _, m in sets})
    if missing:
        warnings.warn(f"scan {scan_id} is missing shards {', '.join(map(str, missing))} of its {count} shards: "
                      "its figures cover only the entries of the shards given")
    for d, m in sets:
        if not m.get("complete"):
            warnings.warn(f"{_shard_name(m)} of scan {scan_id} (dataset {d}) is incomplete: "
                          "figures cover the domains it scanned before it stopped")


def has_table(table, dataset=None):
    """Whether the dataset holds the table's folder (findings exist only after a report)."""
    if table == "findings":
        return os.path.isdir(_folder(table, _first(dataset)))
    return any(os.path.isdir(_folder(table, d)) for d in dataset_dirs(dataset))


def _first(dataset):
    path = dataset_path(dataset)
    return path if isinstance(path, (str, os.PathLike)) else path[0]


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

    The dataset may be a directory of datasets or a list of paths (see the module's
    doc): the shards of one scan load as one scan, their MX hosts and endpoints once.
    Raises ValueError for an unknown table or shards that cannot make one scan,
    FileNotFoundError when the dataset lacks the table's folder or the danescan binary
    is missing, and RuntimeError with danescan's message when `danescan sql` fails.
    """
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}: want one of {', '.join(TABLES)}")
    if table == "findings":
        path = _first(dataset)
        folder = _folder(table, path)
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"{folder}: no such table folder (is {path} a danescan dataset?)")
        return _load_one(table, path, folder)
    frames = []
    for scan_sets in scans(dataset).values():
        for d, m in scan_sets:
            folder = _folder(table, d)
            if os.path.isdir(folder):
                frames.append(_load_one(table, d, folder).assign(_shard=(m.get("shard") or {}).get("index", 0)))
    if not frames:
        raise FileNotFoundError(f"no {table} folder in {dataset_path(dataset)} (is it a danescan dataset?)")
    if len(frames) == 1:
        return frames[0].drop(columns="_shard")
    return _dedup(table, pd.concat(frames, ignore_index=True))


def _dedup(table, df):
    """Keep one row per key of the tables whose rows repeat across shards (DEDUP_KEYS).

    Of repeated rows the one with most evidence: not interrupted, then probed, then the
    lowest shard's (as the views of `danescan sql` and `danescan analyze` do).
    """
    keys = DEDUP_KEYS.get(table)
    if keys and len(df):
        status = df["dane_status"]
        unprobed = status.isin(["", "not_probed"]) | status.isna() if table == "mx_hosts" else status == "not_probed"
        df = df.assign(_bad=(df["failure"] == "interrupted").astype(bool), _unprobed=unprobed.astype(bool))
        df = (df.sort_values(["_bad", "_unprobed", "_shard"], kind="stable")
              .drop_duplicates(keys, keep="first").sort_index().drop(columns=["_bad", "_unprobed"]))
    return df.drop(columns="_shard").reset_index(drop=True)


def _load_one(table, path, folder):
    """The table of one dataset (or the findings folder), read with backend()."""
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
