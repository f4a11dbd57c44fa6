#!/usr/bin/env python3
"""What the log as evidence costs on a large log: ROWS finished airings (default 1,000,000, ten minutes apart)
written straight into a station's database with the sqlite3 shell, chained by the daemon at its start (it closes
the one row left `started`, and that write links every final row not yet in the chain), then `loa log export`
(CSV and NDJSON) against `sqlite3 -csv` writing the same rows, and `loa verify`; database bytes per million rows.
Usage: export.py LOA_BINARY WORK_FOLDER [ROWS] [RUNS]. Prints Markdown."""
import os, signal, statistics, subprocess, sys, time

LOA, WORK = sys.argv[1], sys.argv[2]
ROWS = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
RUNS = int(sys.argv[4]) if len(sys.argv) > 4 else 3
folder = os.path.join(WORK, "station")
subprocess.run(["rm", "-rf", folder], check=True)
os.makedirs(os.path.join(folder, "schedules"))
config = os.path.join(folder, "loa.toml")
database = os.path.join(folder, "loa.sqlite")


def run(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"{args[0]} {args[1] if len(args) > 1 else ''} failed: {r.stdout}{r.stderr}")
    return r


def timed(args, out=None):
    """Wall seconds and peak RSS (KB) of args, stdout to `out` when given."""
    report = os.path.join(WORK, "time.txt")
    start = time.monotonic()
    with open(out, "w") if out else open(os.devnull, "w") as sink:
        r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report] + args, stdout=sink, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - start
    if r.returncode != 0:
        sys.exit(f"{' '.join(args)} failed: {r.stderr}")
    return wall, int(open(report).read().split()[-1])


run([LOA, "keygen", "--out", os.path.join(folder, "khoa", "xa")])
open(config, "w").write('station = "Xã Thử"\ndevice = "null"\nsigning_key = "khoa/xa.key"\n')
run([LOA, "segment", "list", "--config", config])  # creates the database at the current schema

base = 1_767_225_600  # 2026-01-01 00:00 UTC
run(["sqlite3", database, f"""
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS - 1})
INSERT INTO airing (slot, slot_starts_at, segment_id, title, pillar, campaign, path, scheduled_at, planned_seconds,
                    started_at, ended_at, aired_seconds, outcome, device, kind, sha256, category)
SELECT 'khung-' || (i % 12), {base} + i * 600, 'tin-' || (i % 300), 'Bản tin số ' || (i % 300) || ': Hội nghị cấp cao ASEAN',
       CASE i % 3 WHEN 0 THEN 'kinh-te' WHEN 1 THEN 'chinh-tri-an-ninh' ELSE 'van-hoa-xa-hoi' END, 'HNCC ASEAN 37',
       'tin-' || (i % 300) || '.mp3', {base} + i * 600, 120, {base} + i * 600 + 0.004, {base} + i * 600 + 120.004, 120,
       'completed', 'default', 'segment', printf('%064x', i % 300), 'thoi-su'
FROM n;
INSERT INTO airing (slot, slot_starts_at, segment_id, title, path, scheduled_at, outcome)
VALUES ('khung-0', {base + ROWS * 600}, 'tin-0', 'Bản tin dở', 'tin-0.mp3', {base + ROWS * 600}, 'started');
COMMIT;
"""])

# The daemon's start closes the row left `started`; that write chains every final row not yet chained.
start = time.monotonic()
daemon = subprocess.Popen([LOA, "daemon", "--config", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
while True:
    left = run(["sqlite3", database, "SELECT COUNT(*) FROM airing WHERE chain_seq IS NULL"]).stdout.strip()
    if left == "0":
        break
    if daemon.poll() is not None:
        sys.exit("the daemon stopped before chaining the log")
    time.sleep(0.1)
chained = time.monotonic() - start
daemon.send_signal(signal.SIGTERM)
daemon.wait(timeout=30)
run(["sqlite3", database, "PRAGMA wal_checkpoint(TRUNCATE); VACUUM;"])
size = os.path.getsize(database)

rows = []
for _ in range(RUNS):
    csv = os.path.join(WORK, "xa.csv")
    export_csv, export_rss = timed([LOA, "log", "export", "--config", config, "--out", csv])
    export_ndjson, _ = timed([LOA, "log", "export", "--config", config, "--format", "ndjson", "--out", os.path.join(WORK, "xa.ndjson")])
    peer, peer_rss = timed(["sqlite3", "-csv", "-header", database, "SELECT * FROM airing ORDER BY chain_seq"],
                           out=os.path.join(WORK, "sqlite.csv"))
    verify, verify_rss = timed([LOA, "verify", csv, "--key", os.path.join(folder, "khoa", "xa.pub")])
    report, report_rss = timed([LOA, "report", "--config", config, "--year", "2026"])
    rows.append((export_csv, export_ndjson, peer, verify, export_rss, verify_rss, peer_rss, report, report_rss))

med = lambda i: statistics.median(r[i] for r in rows)
total = ROWS + 1
print(f"{total:,} finished airings; medians of {RUNS} runs.")
print()
print("| measure | loa | sqlite3 | ratio (loa rows/s ÷ sqlite3's) |")
print("|---|---|---|---|")
print(f"| `loa log export` CSV, s ({total / med(0):,.0f} rows/s) | {med(0):.2f} | {med(2):.2f} (`sqlite3 -csv`) | {med(2) / med(0):.2f} |")
print(f"| `loa log export` NDJSON, s ({total / med(1):,.0f} rows/s) | {med(1):.2f} | | |")
print(f"| `loa verify` the CSV, s ({total / med(3):,.0f} rows/s) | {med(3):.2f} | | |")
print(f"| peak RSS, KB: export / verify | {med(4):.0f} / {med(5):.0f} | {med(6):.0f} | |")
print(f"| `loa report --year 2026` (the year's 52,518 rows), s; peak RSS KB | {med(7):.2f}; {med(8):.0f} | | |")
print(f"| export file, bytes per row | {os.path.getsize(csv) / total:.0f} | {os.path.getsize(os.path.join(WORK, 'sqlite.csv')) / total:.0f} | |")
print()
print(f"Chaining the {total:,} rows at the daemon's start (one transaction): {chained:.1f} s. "
      f"Database after VACUUM: {size / total * 1e6 / 1e6:.0f} MB per million rows.")
