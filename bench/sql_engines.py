#!/usr/bin/env python3
"""Runs one statement `tally sql` wrote on DuckDB or Spark and writes its result as CSV.

usage: sql_engines.py duckdb|spark FILE.sql OUT.csv

Used by bench/sql.sh, which times the whole process (the engine's start included, as a
user would meet it). The statement's SET lines are run first.
"""
import csv
import tempfile
import sys


def split(path):
    sets, body = [], []
    for line in open(path, encoding="utf-8"):
        if not body and line.startswith("SET ") and line.rstrip().endswith(";"):
            sets.append(line.strip().rstrip(";"))
        else:
            body.append(line)
    return sets, "".join(body).strip().rstrip(";")


def main():
    engine, path, out = sys.argv[1:4]
    sets, body = split(path)
    if engine == "duckdb":
        import duckdb
        con = duckdb.connect()
        for s in sets:
            con.execute(s)
        rel = con.execute(body)
        names = [d[0] for d in rel.description]
        rows = rel.fetchall()
    else:
        from pyspark.sql import SparkSession
        spark = (SparkSession.builder.master("local[2]").appName("tally-bench")
                 .config("spark.ui.enabled", "false")
                 .config("spark.driver.memory", "4g")
                 .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="tally-spark-"))
                 .config("spark.sql.shuffle.partitions", "4").getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        for s in sets:
            spark.sql(s)
        df = spark.sql(body)
        names = df.columns
        rows = [tuple(r) for r in df.collect()]
        spark.stop()
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(names)
        w.writerows(rows)


if __name__ == "__main__":
    main()
