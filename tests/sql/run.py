#!/usr/bin/env python3
"""Runs SQL statements tally wrote on DuckDB or Spark and writes each result as CSV.

usage: run.py duckdb|spark MANIFEST

MANIFEST is a tab-separated file: one line per statement, `<sql file>\t<csv out>`. Each
SQL file holds the dialect's settings (SET lines) and one statement. Every result is
written with a header; NULL is an empty cell, a boolean true/false, a float in Python's
repr (the shortest text that reads back as the same double). Spark runs in local mode in
one session for the whole manifest (its JVM start is the cost). A statement that fails
writes its error to `<csv out>.err` instead, and the others still run.
"""
import csv
import tempfile
import logging
import math
import sys


def cell(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return repr(v)
    return str(v)


def statements(path):
    """The SET lines and the one statement of a file (split on the first line not SET)."""
    text = open(path, encoding="utf-8").read()
    sets, rest = [], []
    for line in text.splitlines():
        if not rest and line.startswith("SET ") and line.rstrip().endswith(";"):
            sets.append(line.rstrip().rstrip(";"))
        else:
            rest.append(line)
    body = "\n".join(rest).strip()
    if body.endswith(";"):
        body = body[:-1]
    return sets, body


def write(out, names, rows):
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(names)
        for r in rows:
            w.writerow([cell(v) for v in r])


def failed(out, e):
    """Writes the error's first lines (for Spark, the Java exception's, not Py4J's)."""
    java = getattr(e, "java_exception", None)
    text = str(java.toString()) if java is not None else str(e)
    lines = [l for l in text.strip().splitlines() if l.strip()][:3]
    with open(out + ".err", "w", encoding="utf-8") as f:
        f.write(" / ".join(lines) if lines else type(e).__name__)


def run_duckdb(jobs):
    import duckdb
    for sql_file, out in jobs:
        con = duckdb.connect()
        sets, body = statements(sql_file)
        try:
            for s in sets:
                con.execute(s)
            rel = con.execute(body)
            names = [d[0] for d in rel.description]
            write(out, names, rel.fetchall())
        except Exception as e:  # noqa: BLE001
            failed(out, e)
        finally:
            con.close()
    return 0


def run_spark(jobs):
    from pyspark.sql import SparkSession
    try:
        from pyspark.logger import PySparkLogger
        PySparkLogger.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    except ImportError:
        pass
    spark = (SparkSession.builder.master("local[2]").appName("tally-check")
             .config("spark.ui.enabled", "false")
             # The fleet's statements (the device join, the year before beside it) plan
             # to more than the default 1 GiB driver holds.
             .config("spark.driver.memory", "4g")
             .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="tally-spark-"))
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.sql.session.timeZone", "UTC")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    try:
        for sql_file, out in jobs:
            sets, body = statements(sql_file)
            try:
                for s in sets:
                    spark.sql(s)
                df = spark.sql(body)
                names = df.columns
                write(out, names, [tuple(r) for r in df.collect()])
            except Exception as e:  # noqa: BLE001
                failed(out, e)
    finally:
        spark.stop()
    return 0


def main():
    engine, manifest = sys.argv[1], sys.argv[2]
    jobs = [tuple(line.rstrip("\n").split("\t")) for line in open(manifest, encoding="utf-8") if line.strip()]
    return run_duckdb(jobs) if engine == "duckdb" else run_spark(jobs)


if __name__ == "__main__":
    sys.exit(main())
