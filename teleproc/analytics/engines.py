"""The SQL engines ``msoc`` and ``panel`` run ``queries.py`` on: DuckDB (the ``analytics``
extra) and Spark SQL (the ``spark`` extra), both over the Parquet dataset of ``teleproc
export``. The SQLite path (Python over the store's ledger texts) stays in msoc.py / panel.py as
the reference; it never writes.

An engine registers ``lines`` (the manifest's line files), ``changes``, the ``claim_lines``
view over them, ``msoc_days`` / ``msoc_multi`` (the msoc files) and their key tables
``msoc_practitioners`` / ``msoc_phns`` (the manifest's ``msoc_keys``), runs a computation's named
steps (each kept as a temp table) and returns the rows of its final SELECTs as tuples.
"""
from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Sequence

from teleproc.analytics import dataset, queries, schema
from teleproc.errors import UsageError

ENGINES = ("sqlite", "duckdb", "spark")
THREADS = max(1, min(os.cpu_count() or 1, 8))


def _importable(*modules: str) -> bool:
    """Whether every one of ``modules`` imports (an optional extra is installed and works)."""
    try:
        for m in modules:
            importlib.import_module(m)
    except ImportError:
        return False
    return True


def has_analytics() -> bool:
    return _importable("duckdb", "pyarrow")


def has_charts() -> bool:
    return _importable("matplotlib")


def has_spark() -> bool:
    return _importable("pyspark")


def default_engine() -> str:
    return "duckdb" if has_analytics() else "sqlite"


def is_uri(location: str) -> bool:
    return "://" in location and not location.startswith("file://")


class Engine:
    name = "?"

    def run(self, steps: Sequence[tuple[str, str]], finals: Sequence[str]) -> list[list[tuple]]:
        raise NotImplementedError

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------------- DuckDB
class DuckDBEngine(Engine):
    """DuckDB over the dataset's files; threads and memory limit set, spill folder inside the
    dataset (``.spill``)."""
    name = "duckdb"

    def __init__(self, directory: Path, manifest: dict, *, threads: int | None = None,
                 memory: str | None = None):
        import pyarrow as pa
        self._reading = dataset.reading(directory)     # held until close(): no export meanwhile
        self._reading.__enter__()
        try:
            self._open(directory, dataset.read_manifest(directory) or manifest, threads, memory, pa)
        except BaseException:
            self._reading.__exit__(None, None, None)
            raise

    def _open(self, directory, manifest, threads, memory, pa):
        if manifest.get("version") != schema.load().version:     # ensure_fresh upgrades first
            raise dataset.DatasetError(f"{directory}: dataset format version "
                                       f"{manifest.get('version')}: run teleproc export on it first")
        self.db = dataset._duckdb(directory, threads, memory)
        self._empty = {}
        for name, files, empty in (
                ("lines", dataset.files(directory, manifest), schema.arrow_schema),
                ("msoc_days", dataset.msoc_files(directory, manifest, "days"), schema.msoc_schema),
                ("msoc_multi", dataset.msoc_files(directory, manifest, "multi"), schema.msoc_schema)):
            if files:
                listed = ", ".join(queries._text(f) for f in files)
                self.db.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet([{listed}])")
            else:
                self._empty[name] = empty().empty_table()
                self.db.register(name, self._empty[name])
        for name, table in zip(("msoc_practitioners", "msoc_phns"), dataset.msoc_keys(manifest)):
            self._empty[name] = table
            self.db.register(name, table)
        changes = directory / dataset.CHANGES
        if changes.exists():
            self.db.execute(f"CREATE VIEW changes AS SELECT * FROM read_parquet({queries._text(str(changes))})")
        else:
            self._changes = pa.table({c.name: pa.array([], pa.int64()) for c in schema.load().changes})
            self.db.register("changes", self._changes)
        self.db.execute("CREATE VIEW claim_lines AS " + queries.CLAIM_LINES)

    def run(self, steps, finals):
        for name, sql in steps:
            self.db.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
        return [self.db.execute(sql).fetchall() for sql in finals]

    def close(self):
        try:
            self.db.close()
        finally:
            self._reading.__exit__(None, None, None)


# ---------------------------------------------------------------------------------- Spark
_SPARK_TYPES = {"int16": "SMALLINT", "int32": "INT", "int64": "BIGINT", "string": "STRING",
                "date32": "DATE", "bool": "BOOLEAN"}
_sessions: dict = {}
_KEY_DDL = {"msoc_practitioners": "id INT, practitioner STRING", "msoc_phns": "id BIGINT, phn STRING"}


def spark_session(master: str | None = None):
    """One SparkSession per master in this process (local mode: ``local[N]``)."""
    master = master or f"local[{THREADS}]"
    spark = _sessions.get(master)
    if spark is None:
        from pyspark.sql import SparkSession
        local = master.startswith("local")
        if local:      # local mode talks to itself only: loopback, never the host's address
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = SparkSession.builder.master(master).appName("teleproc")
        if local:
            builder = (builder.config("spark.driver.host", "127.0.0.1")
                       .config("spark.driver.bindAddress", "127.0.0.1")
                       .config("spark.driver.memory",
                               os.environ.get("TELEPROC_SPARK_DRIVER_MEMORY", "2g")))
        spark = (builder.config("spark.ui.enabled", "false")
                 .config("spark.ui.showConsoleProgress", "false")
                 .config("spark.sql.shuffle.partitions", str(max(2, THREADS * 2)))
                 .config("spark.sql.session.timeZone", "UTC")
                 .getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        _sessions[master] = spark
    return spark


def _read_uri(spark, uri: str) -> str:
    """A small text file at any URI Spark reads, through Hadoop's file system API (Spark's own
    readers skip names starting with '_', as _manifest.json does)."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    stream = fs.open(path)
    try:
        return jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
    finally:
        stream.close()


def _ddl(columns) -> str:
    return ", ".join(f"{c.name} {_SPARK_TYPES[c.type]}" for c in columns)


class SparkEngine(Engine):
    """Spark SQL over the dataset at ``location`` (a folder or any URI Spark reads: every
    executor must read it, and it holds PHNs). Local mode unless ``master`` names a cluster."""
    name = "spark"

    def __init__(self, location: str, manifest: dict | None = None, master: str | None = None):
        self.spark = spark = spark_session(master)
        base = location.rstrip("/")
        if manifest is None:
            manifest = json.loads(_read_uri(spark, f"{base}/{dataset.MANIFEST}"))
        s = schema.load()
        if manifest.get("version") != s.version:
            raise dataset.DatasetError(
                f"{location}: dataset format version {manifest.get('version')}; this teleproc "
                f"reads version {s.version}: run teleproc export on it (or --engine duckdb, which "
                "brings a local dataset up to date) first")
        for name, columns, files in (
                ("lines", s.columns, [f"{base}/{f['path']}" for f in manifest["files"]]),
                *((f"msoc_{kind}", s.msoc, [f"{base}/{f['path']}" for f in manifest.get("msoc", ())
                                            if f["kind"] == kind]) for kind in dataset.MSOC_KINDS)):
            frame = (spark.read.schema(_ddl(columns)).parquet(*files) if files
                     else spark.createDataFrame([], _ddl(columns)))
            frame.createOrReplaceTempView(name)
        for (name, ddl), table in zip(_KEY_DDL.items(), dataset.msoc_keys(manifest)):
            spark.createDataFrame(table.to_pylist(), ddl).createOrReplaceTempView(name)
        changes = spark.read.schema(_ddl(s.changes)).parquet(f"{base}/{dataset.CHANGES}")
        changes.createOrReplaceTempView("changes")
        spark.sql(queries.CLAIM_LINES).createOrReplaceTempView("claim_lines")

    def run(self, steps, finals):
        # each step cached once (the finals share them: without it every final SELECT would
        # recompute the whole plan over the dataset), released at the end
        cached = []
        try:
            for name, sql in steps:
                df = self.spark.sql(sql).persist()
                cached.append(df)
                df.createOrReplaceTempView(name)
            return [[tuple(r) for r in self.spark.sql(sql).collect()] for sql in finals]
        finally:
            for df in cached:
                df.unpersist()


# ------------------------------------------------------------------------------ opening
def open_engine(name: str, state_conn, state: Path, location: str | None, *,
                spark_master: str | None = None):
    """The engine ``name`` over the dataset at ``location`` (default ``STATE.db.dataset``). A
    local dataset is brought up to date from the store first (exported under its lock when
    stale); a URI (Spark) is read as it is. Returns (engine, export summary or None)."""
    if name == "duckdb" and not has_analytics():
        raise UsageError("--engine duckdb needs the analytics extra: pip install 'teleproc[analytics]'")
    if name == "spark" and not has_spark():
        raise UsageError("--engine spark needs the spark extra: pip install 'teleproc[spark]'")
    if location is not None and is_uri(location):
        if name != "spark":
            raise UsageError(f"--dataset {location}: a URI is read by --engine spark only")
        return SparkEngine(location, None, spark_master), None
    directory = Path(location.removeprefix("file://")) if location else dataset.default_dir(state)
    if not has_analytics():
        raise UsageError(f"bringing the dataset {directory} up to date needs the analytics extra: "
                         "pip install 'teleproc[analytics]'")
    manifest, summary = dataset.ensure_fresh(state_conn, directory)
    if name == "duckdb":
        return DuckDBEngine(directory, manifest), summary
    return SparkEngine(str(directory.resolve()), manifest, spark_master), summary
