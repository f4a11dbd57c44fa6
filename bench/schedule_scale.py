#!/usr/bin/env python3
"""`loa schedule validate` on large generated schedules: seconds, peak RSS and output size.

    bench/schedule_scale.py [LOA] [RUNS]

LOA defaults to .build/debug/loa, RUNS to 3; the figures printed are medians. Three cases: 3,000 and 10,000
slots that all overlap (every slot daily, 10:00 + i s until 12:00), and 10,000 that overlap nothing
(8 seconds each, one after the other). Each run is timed by /usr/bin/time -v; the output goes to a file whose
size is reported. A run is stopped after LIMIT seconds (default 600) and counted as such. LARGE=1 runs instead
100,000 slots that all overlap (7,200 start times from 10:00, until 13:00).
"""
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

LOA = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".build/debug/loa")
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
LIMIT = int(os.environ.get("LIMIT", "600"))


def clock(seconds):
    return "%02d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60)


def station(folder, slots):
    os.makedirs(os.path.join(folder, "schedules"))
    os.makedirs(os.path.join(folder, "audio"))
    open(os.path.join(folder, "loa.toml"), "w").write('station = "Bench"\ndevice = "null"\n')
    # Imported, as a station's files are: `validate` refuses a played file that is not in the library, and the
    # figures are to measure the overlaps alone.
    tone = os.path.join(folder, "audio", "a.wav")
    subprocess.run(["sox", "-n", "-r", "48000", "-c", "1", tone, "synth", "1", "sine", "440"], check=True)
    subprocess.run([LOA, "segment", "add", tone, "--title", "A"], cwd=folder, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(folder, "schedules", "lich.toml"), "w") as out:
        for i, (start, end) in enumerate(slots):
            out.write('[[slot]]\nid = "s%d"\nstart = "%s"\nend = "%s"\nplay = ["a.wav"]\n\n' % (i, clock(start), clock(end)))


CASES = [
    ("3000 overlapping", [(36000 + i, 43200) for i in range(3000)]),
    ("10000 overlapping", [(36000 + i, 43200) for i in range(10000)]),
    ("10000 apart", [(i * 8, i * 8 + 8) for i in range(10000)]),
]
if os.environ.get("LARGE"):
    # Only for a build that reports each slot once: comparing every pair would need about 70 GB here.
    CASES = [("100000 overlapping", [(36000 + i % 7200, 46800) for i in range(100000)])]

print("| case | exit | seconds | max RSS KB | output bytes |")
print("|---|---|---|---|---|")
for name, slots in CASES:
    folder = tempfile.mkdtemp(prefix="loa-bench-")
    try:
        station(folder, slots)
        seconds, rss, sizes, codes = [], [], [], []
        for _ in range(RUNS):
            output = os.path.join(folder, "out.txt")
            with open(output, "wb") as sink:
                run = subprocess.Popen(["/usr/bin/time", "-v", LOA, "schedule", "validate"], cwd=folder,
                                       stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
                try:
                    codes.append(run.wait(timeout=LIMIT))
                except subprocess.TimeoutExpired:
                    os.killpg(run.pid, signal.SIGKILL)  # time and loa alike: the run has its own session
                    run.wait()
                    codes.append("timeout")
            # The output can be gigabytes: only its tail, where time writes its report, is read.
            size = os.path.getsize(output)
            with open(output, "rb") as out:
                out.seek(max(0, size - 8192))
                tail = out.read()
            report = tail[tail.rfind(b"\tCommand being timed"):].decode("utf-8", "replace")
            wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", report)
            peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report)
            if wall:
                seconds.append(int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 + float(wall.group(3)))
            if peak:
                rss.append(int(peak.group(1)))
            sizes.append(size - len(report.encode("utf-8")))
        median = lambda values: statistics.median(values) if values else float("nan")
        print("| %s | %s | %.2f | %d | %d |" % (name, "/".join(map(str, sorted(set(codes), key=str))),
                                                 median(seconds), median(rss) if rss else 0, median(sizes)))
        sys.stdout.flush()
    finally:
        shutil.rmtree(folder)
