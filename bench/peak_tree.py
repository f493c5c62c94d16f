#!/usr/bin/env python3
"""Runs a command and prints its wall seconds and the peak resident memory (MB) of its
whole process tree (a Spark driver's JVM is a child of the Python that starts it, which
/usr/bin/time does not count), sampled every 50 ms from /proc.

usage: peak_tree.py OUT_FILE COMMAND...   (prints "SECONDS MB" on stderr's last line)
"""
import os
import subprocess
import sys
import time


def tree_rss_kb(root):
    children = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(pid))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def main():
    out, cmd = sys.argv[1], sys.argv[2:]
    start = time.monotonic()
    with open(out, "w") as f:
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.PIPE)
        peak = 0
        while p.poll() is None:
            peak = max(peak, tree_rss_kb(p.pid))
            time.sleep(0.05)
        err = p.stderr.read().decode(errors="replace")
    secs = time.monotonic() - start
    if p.returncode != 0:
        sys.stderr.write(err)
        sys.exit(p.returncode)
    print(f"{secs:.2f} {peak // 1024}", file=sys.stderr)


if __name__ == "__main__":
    main()
