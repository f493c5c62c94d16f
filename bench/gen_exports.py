#!/usr/bin/env python3
"""Large, realistic vendor exports for the ingest benchmark (bench/ingest.sh), written
independently of tally's own `synth` so that the two engines read data neither shaped.

    gen_exports.py OUT_DIR --rows N [--seed S] [--sites data/sites.toml]

Writes, streamed to disk a day at a time (memory stays flat whatever N is):

- envisionware.csv        N PC Reservation sessions (pcrKey unique and increasing),
                          2024-10-01 .. 2026-10-01, day by day and time-ordered within a day,
                          inside each site's opening hours (sites.toml, holidays closed);
                          ~50k patron cards (21221...), 10% guest passes (25555...), 2% staff
                          (pcrUserData1 = 1), 0.3% empty user, 0.5% zero-minute no-shows,
                          ~0.1% exact duplicate pairs differing only in pcrKey.
- koha_statistics.csv     N rows of Koha's statistics table: issue 45%, renew 20%,
                          return 30%, localuse 3%, payment 2%; interface cron only for
                          some renewals.
- osticket.csv            max(200, N/1000) help-desk tickets (osTicket's export columns,
                          dates MM/DD/YYYY HH:MM AM), Location = site code.
- nightly_envisionware.csv 200 sessions of one day (2026-09-29) with pcrKeys from
                          2,000,000,000, beyond any key of envisionware.csv. It depends on
                          the seed only, not on N: the same file for every size.

Everything is deterministic by --seed (each file has its own random stream). Site codes,
station counts, populations, hours and holidays come from sites.toml.
"""

import argparse
import bisect
import csv
import datetime as dt
import math
import os
import random
import sys
import tomllib
from pathlib import Path

FIRST_DAY = dt.date(2024, 10, 1)
END_DAY = dt.date(2026, 10, 1)  # exclusive
NIGHTLY_DAY = dt.date(2026, 9, 29)
NIGHTLY_ROWS = 200
NIGHTLY_FIRST_KEY = 2_000_000_000
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
PATRONS = 50_000
STAFF = 300
ITEMS = 500_000
BORROWERS = 50_000

# Session mix (cumulative shares of a random draw).
GUEST, STAFF_SHARE, UNKNOWN, ZERO = 0.10, 0.02, 0.003, 0.005
DUP_OF_GUEST = 0.01  # 1% of guest rows are doubled: ~0.1% of all rows
# Seconds of the day as HH:MM:SS, formatted once.
HMS = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)]
WEEKDAY_FACTOR = [1.0, 1.0, 1.0, 0.95, 0.85, 0.8, 0.45]


def load_sites(path):
    with open(path, "rb") as f:
        sites = tomllib.load(f)
    lib = sites["library"]
    holidays = {dt.date.fromisoformat(str(d)) for d in lib.get("closed", [])}
    out = []
    for s in sites["site"]:
        out.append(dict(
            code=s["code"],
            stations=max(int(s.get("stations", 1)), 1),
            population=max(int(s.get("population", 0) or 0), 5000),
            hours=s["hours"],
            closed=holidays | {dt.date.fromisoformat(str(d)) for d in s.get("closed", [])},
        ))
    return out


def open_spans(site, day):
    """(open_s, close_s) intervals of a site on a local day, clipped to 09:00-21:00."""
    if day in site["closed"]:
        return []
    text = site["hours"][DAYS[day.weekday()]].strip().lower()
    if text in ("", "closed"):
        return []
    spans = []
    for part in text.split(","):
        a, b = (x.strip() for x in part.split("-"))
        lo = int(a[:2]) * 3600 + int(a[3:5]) * 60
        hi = 86400 if b == "24:00" else int(b[:2]) * 3600 + int(b[3:5]) * 60
        lo, hi = max(lo, 9 * 3600), min(hi, 21 * 3600)
        if hi - lo > 900:
            spans.append((lo, hi))
    return spans


def days_between(a, b):
    d = a
    while d < b:
        yield d
        d += dt.timedelta(days=1)


def day_plan(sites, n, day_weight):
    """Rows per day summing to n (largest remainders), and each day's open (site, span)s."""
    days, weights, opens = [], [], []
    for day in days_between(FIRST_DAY, END_DAY):
        o = [(i, span) for i, s in enumerate(sites) for span in open_spans(s, day)]
        if not o:
            continue
        days.append(day)
        opens.append(o)
        weights.append(day_weight(day))
    total = sum(weights)
    raw = [n * w / total for w in weights]
    counts = [int(r) for r in raw]
    rest = n - sum(counts)
    for i in sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))[:rest]:
        counts[i] += 1
    return list(zip(days, counts, opens))


def demand(day):
    """Relative use of a day: weekday, season (school year), slow growth over the range."""
    season = 1.0 + 0.08 * math.cos(2 * math.pi * (day.month - 3) / 12)
    trend = 1.0 + 0.06 * (day - FIRST_DAY).days / 365
    return WEEKDAY_FACTOR[day.weekday()] * season * trend


def cum(weights):
    out, t = [], 0.0
    for w in weights:
        t += w
        out.append(t)
    return out


class People:
    """Patron and staff cards, each patron with a home site and an activity level."""

    def __init__(self, seed, sites):
        rng = random.Random(f"{seed}-people")
        numbers = rng.sample(range(10**9), PATRONS + STAFF)
        self.patrons = [f"21221{x:09d}" for x in numbers[:PATRONS]]
        self.staff = [f"21221{x:09d}" for x in numbers[PATRONS:]]
        home_cw = cum(s["stations"] for s in sites)
        activity = [rng.paretovariate(1.3) for _ in self.patrons]
        self.all_cw = cum(activity)
        self.by_site = [([], []) for _ in sites]
        for p, a in zip(self.patrons, activity):
            i = bisect.bisect(home_cw, rng.random() * home_cw[-1])
            cards, w = self.by_site[i]
            cards.append(p)
            w.append(a)
        self.by_site = [(cards, cum(w)) for cards, w in self.by_site]

    def patron(self, rng, site):
        cards, cw = self.by_site[site]
        if cards and rng.random() < 0.75:
            return cards[bisect.bisect(cw, rng.random() * cw[-1])]
        return self.patrons[bisect.bisect(self.all_cw, rng.random() * self.all_cw[-1])]


def minutes_used(rng):
    r = rng.random()
    if r < 0.45:
        return rng.randint(1, 59)
    if r < 0.80:
        return 60  # the default session, used to the end
    if r < 0.95:
        return rng.randint(61, 120)
    return rng.randint(121, 180)


def session_lines(rng, sites, people, day, count, opens, key):
    """One day's EnvisionWare lines (time-ordered) and the next free pcrKey."""
    cw = cum(sites[i]["stations"] * (hi - lo) for i, (lo, hi) in opens)
    starts = []
    for _ in range(count):
        i, (lo, hi) = opens[bisect.bisect(cw, rng.random() * cw[-1])]
        # Afternoon-heavy: a triangle peaking 55% of the way through the opening.
        t = int(rng.triangular(lo, hi - 300, lo + 0.55 * (hi - lo)))
        starts.append((t, i))
    starts.sort()
    prefix = day.isoformat() + " "
    lines = []
    for t, i in starts:
        if len(lines) >= count:
            break
        s = sites[i]
        code = s["code"]
        r = rng.random()
        staff = ""
        if r < GUEST:
            user = f"25555{rng.randrange(10**9):09d}"
        elif r < GUEST + STAFF_SHARE:
            user = people.staff[rng.randrange(STAFF)]
            staff = "1"
        elif r < GUEST + STAFF_SHARE + UNKNOWN:
            user = ""
        else:
            user = people.patron(rng, i)
        minutes = 0 if rng.random() < ZERO else minutes_used(rng)
        area = "Teen" if rng.random() < 0.15 else "Adult"
        machine = f"{code}-PC{rng.randint(1, s['stations']):02d}"
        rest = f",{user},{minutes},{prefix}{HMS[t]},{code},{area},{staff},{machine}\n"
        lines.append(f"{key}{rest}")
        key += 1
        if r < GUEST * DUP_OF_GUEST and len(lines) < count:
            # Two guests on one pass, same second, same length: only pcrKey differs.
            lines.append(f"{key}{rest}")
            key += 1
    return lines, key


EW_HEADER = "pcrKey,pcrUserID,pcrMinutesUsed,pcrDateTime,pcrBranch,pcrArea,pcrUserData1,pcrMachineName\n"


def write_envisionware(path, n, seed, sites, people):
    rng = random.Random(f"{seed}-envisionware")
    key = 1
    with open(path, "w", newline="") as f:
        f.write(EW_HEADER)
        for day, count, opens in day_plan(sites, n, demand):
            if count:
                lines, key = session_lines(rng, sites, people, day, count, opens, key)
                f.writelines(lines)
    assert key < NIGHTLY_FIRST_KEY, "too many rows for the nightly file's keys"


def write_nightly(path, seed, sites, people):
    rng = random.Random(f"{seed}-nightly")
    opens = [(i, span) for i, s in enumerate(sites) for span in open_spans(s, NIGHTLY_DAY)]
    lines, _ = session_lines(rng, sites, people, NIGHTLY_DAY, NIGHTLY_ROWS, opens, NIGHTLY_FIRST_KEY)
    with open(path, "w", newline="") as f:
        f.write(EW_HEADER)
        f.writelines(lines)


# Koha: per item, a stable type, shelving location and collection; per borrower a category.
ITYPES = ["BK"] * 13 + ["DVD"] * 3 + ["CD", "MAG", "AUDIOBK", "KIT"]
LOCS = ["ADULT"] * 10 + ["JUV"] * 6 + ["YA"] * 3 + ["REF"]
CCODES = ["FIC"] * 6 + ["NFIC"] * 5 + ["PIC"] * 3 + ["JFIC"] * 3 + ["BIO", "LP", "LOCAL"]
CATS = ["PT"] * 14 + ["J"] * 3 + ["YA", "ST", "SENIOR"]
KOHA_TYPES = cum([45, 20, 30, 3, 2])
KOHA_HEADER = "datetime,branch,value,type,other,itemnumber,itemtype,location,borrowernumber,ccode,categorycode,interface\n"


def write_koha(path, n, seed, sites):
    rng = random.Random(f"{seed}-koha")
    with open(path, "w", newline="") as f:
        f.write(KOHA_HEADER)
        for day, count, opens in day_plan(sites, n, demand):
            if not count:
                continue
            cw = cum(sites[i]["population"] * (hi - lo) for i, (lo, hi) in opens)
            events = []
            for _ in range(count):
                i, (lo, hi) = opens[bisect.bisect(cw, rng.random() * cw[-1])]
                events.append((rng.randrange(lo, hi), i))
            events.sort()
            prefix = day.isoformat() + " "
            lines = []
            for t, i in events:
                code = sites[i]["code"]
                kind = bisect.bisect(KOHA_TYPES, rng.random() * 100)
                item = int(ITEMS * rng.random() ** 2) + 1  # popular items circulate more
                borrower = int(BORROWERS * rng.random() ** 1.5) + 1
                itype, loc, ccode = ITYPES[item % len(ITYPES)], LOCS[item // 7 % len(LOCS)], CCODES[item // 3 % len(CCODES)]
                cat = CATS[borrower % len(CATS)]
                when = prefix + HMS[t]
                if kind == 0:
                    iface = "opac" if rng.random() < 0.1 else "intranet"
                    lines.append(f"{when},{code},0,issue,,{item},{itype},{loc},{borrower},{ccode},{cat},{iface}\n")
                elif kind == 1:
                    r = rng.random()
                    iface = "cron" if r < 0.4 else "opac" if r < 0.75 else "intranet"
                    lines.append(f"{when},{code},0,renew,,{item},{itype},{loc},{borrower},{ccode},{cat},{iface}\n")
                elif kind == 2:
                    lines.append(f"{when},{code},0,return,,{item},{itype},{loc},,{ccode},,intranet\n")
                elif kind == 3:
                    lines.append(f"{when},{code},0,localuse,,{item},{itype},{loc},,{ccode},,intranet\n")
                else:
                    amount = f"{rng.choice([0.25, 0.5, 1.0, 1.5, 2.0, 5.0, 10.0, 25.0]):.2f}"
                    iface = "opac" if rng.random() < 0.3 else "intranet"
                    lines.append(f"{when},{code},{amount},payment,{rng.randint(1, 9)},,,,{borrower},,{cat},{iface}\n")
            f.writelines(lines)


OST_HEADER = [
    "Ticket Number", "Date Created", "Subject", "From", "From Email", "Priority", "Department", "Help Topic",
    "Source", "Current Status", "Last Updated", "SLA Due Date", "Due Date", "Closed Date", "Overdue", "Merged",
    "Linked", "Answered", "Agent Assigned", "Team Assigned", "Thread Count", "Reopen Count", "Attachment Count",
    "Task Count", "Location", "Asset Tag",
]
SUBJECTS = [
    ("PC frozen at login", "Public PCs"), ("Printer jam, tray 2", "Printing"), ("Cannot print from laptop", "Printing"),
    ("Wi-Fi drops every few minutes", "Network"), ("Monitor flickering", "Public PCs"), ("Keyboard missing keys", "Public PCs"),
    ("Reservation screen shows wrong time", "PC Reservation"), ("Guest pass not accepted", "PC Reservation"),
    ("Scanner not detected", "Hardware"), ("Staff PC slow, again", "Staff PCs"), ("Receipt printer offline", "Hardware"),
    ("Self-checkout kiosk error", "Circulation Hardware"), ("Projector in meeting room", "AV"), ("New account for staff", "Accounts"),
]
PRIORITIES = ["Low", "Normal", "High", "Emergency"]
PRIORITY_CW = cum([20, 55, 20, 5])
MEDIAN_HOURS = {"Low": 150.0, "Normal": 60.0, "High": 18.0, "Emergency": 3.0}
SLA_HOURS = {"Low": 168, "Normal": 72, "High": 24, "Emergency": 4}
AGENTS = ["Sam Ortiz", "Priya Nair", "Lee Chen", "Dana Brooks", "Ravi Patel", "Jo Miller"]
FROMS = [("Circulation Desk", "circ"), ("Reference Desk", "reference"), ("Branch Manager", "manager"), ("Teen Services", "teens")]


def ost_time(t):
    return t.strftime("%m/%d/%Y %I:%M %p")


def write_osticket(path, n, seed, sites):
    rng = random.Random(f"{seed}-osticket")
    end = dt.datetime.combine(END_DAY, dt.time(0))
    site_cw = cum(s["stations"] for s in sites)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(OST_HEADER)
        plan = day_plan(sites, n, lambda d: 1.0 if d.weekday() < 5 else 0.3)
        number = 100_001
        for day, count, _ in plan:
            for t in sorted(rng.randrange(8 * 3600, 20 * 3600) for _ in range(count)):
                opened = dt.datetime.combine(day, dt.time(0)) + dt.timedelta(seconds=t - t % 60)
                priority = PRIORITIES[bisect.bisect(PRIORITY_CW, rng.random() * 100)]
                hours = max(0.1, rng.lognormvariate(math.log(MEDIAN_HOURS[priority]), 0.9))
                closed = opened + dt.timedelta(minutes=math.ceil(hours * 60))
                if closed.hour < 7:  # nobody closes tickets at night (and no DST gaps)
                    closed = closed.replace(hour=8, minute=rng.randrange(60))
                recent = (end - opened).days < 45
                if closed >= end or rng.random() < (0.3 if recent else 0.03):
                    status, closed = "Open", None
                else:
                    status = "Closed" if rng.random() < 0.7 else "Resolved"
                sla = opened + dt.timedelta(hours=SLA_HOURS[priority])
                s = sites[bisect.bisect(site_cw, rng.random() * site_cw[-1])]
                location = "" if rng.random() < 0.03 else s["code"]
                r = rng.random()
                asset = f"{s['code']}-PC{rng.randint(1, s['stations']):02d}" if r < 0.6 else (
                    f"{s['code']}-PRN01" if r < 0.75 else "")
                subject, topic = SUBJECTS[rng.randrange(len(SUBJECTS))]
                who, mail = FROMS[rng.randrange(len(FROMS))]
                updated = closed or min(end - dt.timedelta(minutes=1), opened + dt.timedelta(hours=rng.randint(1, 48)))
                w.writerow([
                    number, ost_time(opened), subject, f"{who} ({s['code']})", f"{mail}.{s['code'].lower()}@library.example.org",
                    priority, "IT", topic, rng.choice(["Web", "Email", "Phone"]), status, ost_time(updated), ost_time(sla), "",
                    ost_time(closed) if closed else "", "Yes" if (closed or end) > sla else "No", "No", "No",
                    "Yes" if closed or rng.random() < 0.5 else "No", rng.choice(AGENTS), "Library IT",
                    rng.randint(1, 8), 1 if rng.random() < 0.04 else 0, rng.choice([0, 0, 0, 1, 2]), 0, location, asset,
                ])
                number += rng.randint(1, 3)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out_dir")
    p.add_argument("--rows", type=int, required=True, help="EnvisionWare sessions and Koha statistics rows")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sites", default=str(Path(__file__).resolve().parent.parent / "data" / "sites.toml"))
    a = p.parse_args()
    out = Path(a.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sites = load_sites(a.sites)
    people = People(a.seed, sites)
    files = [
        ("envisionware.csv", lambda path: write_envisionware(path, a.rows, a.seed, sites, people)),
        ("koha_statistics.csv", lambda path: write_koha(path, a.rows, a.seed, sites)),
        ("osticket.csv", lambda path: write_osticket(path, max(200, a.rows // 1000), a.seed, sites)),
        ("nightly_envisionware.csv", lambda path: write_nightly(path, a.seed, sites, people)),
    ]
    for name, write in files:
        # Written under a temporary name: an interrupted run leaves no half file behind.
        tmp = out / (name + ".part")
        write(tmp)
        os.replace(tmp, out / name)
        size = (out / name).stat().st_size
        with open(out / name, "rb") as f:
            rows = sum(1 for _ in f) - 1
        print(f"{name:<26} {rows:>11,d} rows {size / 1e6:>10.1f} MB", flush=True)


if __name__ == "__main__":
    sys.exit(main())
