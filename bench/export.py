#!/usr/bin/env python3
"""What the log as evidence costs on a large log made with `loa simulate`: a busy schedule (twelve slots a day, each
an intro jingle and ten segments picked from 300 across the three pillars) simulated day after day until it holds
ROWS airings (default 1,000,000); the first year is timed apart. Then `loa report --year` on one year of it,
`loa log export` (CSV and NDJSON) against `sqlite3 -csv` writing the same rows, `loa verify`, and database bytes
per million rows. Usage: export.py LOA_BINARY WORK_FOLDER [ROWS] [RUNS]. Prints Markdown."""
import os, statistics, subprocess, sys, time

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
# `loa fetch` creates the database at the current schema (`schedule validate` reads a missing one as empty, making
# nothing); with no [[feed]] it then says so and exits 1.
subprocess.run([LOA, "fetch", "--config", config], capture_output=True)
if not os.path.exists(database):
    sys.exit(f"loa fetch made no database at {database}")

# The library goes straight into the database: simulate reads the segments, never their audio.
run(["sqlite3", database, """
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 299)
INSERT INTO segment (id, title, pillar, campaign, path, duration_seconds, format, sample_rate, channels, sha256,
                     imported_at, feed, feed_entry, category)
SELECT 'tin-' || i, 'Bản tin số ' || i || ': Hội nghị cấp cao ASEAN',
       CASE i % 3 WHEN 0 THEN 'kinh-te' WHEN 1 THEN 'chinh-tri-an-ninh' ELSE 'van-hoa-xa-hoi' END, 'HNCC ASEAN 37',
       'tin-' || i || '.mp3', 90 + i % 60, 'mp3', 48000, 1, printf('%064x', i), 1767225600, 'tinh', 'tin-' || i,
       CASE i % 4 WHEN 0 THEN 'Thời sự' WHEN 1 THEN 'Kinh tế' WHEN 2 THEN 'An ninh trật tự' ELSE 'Văn hóa' END
FROM n;
INSERT INTO segment (id, title, path, duration_seconds, format, sample_rate, channels, sha256, imported_at)
VALUES ('nhac-hieu', 'Nhạc hiệu', 'nhac-hieu.ogg', 8, 'ogg', 48000, 2, printf('%064x', 1000), 1767225600);
COMMIT;
"""])
with open(os.path.join(folder, "schedules", "ngay.toml"), "w") as schedule:
    for n in range(12):
        start, end = 300 + n * 75, 300 + n * 75 + 25  # minutes since midnight: 05:00 to 18:45, 25 minutes each
        schedule.write(f'[[slot]]\nid = "khung-{n}"\nstart = "{start // 60:02d}:{start % 60:02d}"\nend = "{end // 60:02d}:{end % 60:02d}"\n'
                       'pillar = ["chinh-tri-an-ninh", "kinh-te", "van-hoa-xa-hoi"]\ncount = 10\nintro = "nhac-hieu"\n\n')

# Eleven rows a slot, twelve slots a day.
days = -(-ROWS // 132)
first_year, first_year_rss = timed([LOA, "simulate", "--config", config, "--from", "2026-01-01", "--to", "2026-12-31"])
year_rows = int(run(["sqlite3", database, "SELECT COUNT(*) FROM airing"]).stdout)
last = subprocess.run(["date", "-u", "-d", f"2026-01-01 + {days - 1} days", "+%F"], capture_output=True, text=True).stdout.strip()
rest, rest_rss = timed([LOA, "simulate", "--config", config, "--from", "2027-01-01", "--to", last]) if days > 365 else (0, 0)
total = int(run(["sqlite3", database, "SELECT COUNT(*) FROM airing"]).stdout)
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
    report, report_rss = timed([LOA, "report", "--config", config, "--year", "2030"])
    rows.append((export_csv, export_ndjson, peer, verify, export_rss, verify_rss, peer_rss, report, report_rss))

med = lambda i: statistics.median(r[i] for r in rows)
print(f"{total:,} airings made by `loa simulate` (2026-01-01 to {last}); medians of {RUNS} runs.")
print()
print("| measure | loa | sqlite3 | ratio (loa rows/s ÷ sqlite3's) |")
print("|---|---|---|---|")
print(f"| `loa log export` CSV, s ({total / med(0):,.0f} rows/s) | {med(0):.2f} | {med(2):.2f} (`sqlite3 -csv`) | {med(2) / med(0):.2f} |")
print(f"| `loa log export` NDJSON, s ({total / med(1):,.0f} rows/s) | {med(1):.2f} | | |")
print(f"| `loa verify` the CSV, s ({total / med(3):,.0f} rows/s) | {med(3):.2f} | | |")
print(f"| peak RSS, KB: export / verify | {med(4):.0f} / {med(5):.0f} | {med(6):.0f} | |")
print(f"| `loa report --year 2030` (the year's {year_rows:,} rows), s; peak RSS KB | {med(7):.2f}; {med(8):.0f} | | |")
print(f"| export file, bytes per row | {os.path.getsize(csv) / total:.0f} | {os.path.getsize(os.path.join(WORK, 'sqlite.csv')) / total:.0f} | |")
print()
print(f"`loa simulate`: the first year ({year_rows:,} rows) {first_year:.2f} s, peak RSS {first_year_rss:,} KB; the other "
      f"{days - 365:,} days ({total - year_rows:,} rows, chained as they are written) {rest:.1f} s, peak RSS {rest_rss:,} KB. "
      f"Database after VACUUM: {size / total * 1e6 / 1e6:.0f} MB per million rows.")
