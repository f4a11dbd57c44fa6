#!/usr/bin/env python3
"""What a live relay costs and how it sounds: the release `loa daemon` relaying real upstreams on 127.0.0.1 (icecast2
fed by an ffmpeg MP3 source at 128 kb/s, 440 Hz, and a live HLS AAC stream at 880 Hz behind nginx: bench/upstreams.sh)
through ALSA `pulse` into a private PulseAudio null sink (bench/monitor.py).

1. CPU and RSS: a relay slot of each stream (its fallback a 660 Hz tone), beside `ffmpeg -i URL -f alsa pulse` (and with
   `-ar 48000`, resampling in the client as Loa does) and Liquidsoap (bench/relay-liquidsoap.liq) relaying the same URL
   to the same device, all at once; CPU = utime + stime from /proc/PID/stat over a window of BENCH_RELAY_SECONDS (600)
   that opens 20 s after the slot's start, scaled to an hour; VmRSS sampled every 10 s. BENCH_RELAY_RUNS windows (1).
2. Return: during a relay of the Icecast MP3, its source is killed (SIGKILL; the fallback airs), restarted 10 s later,
   and the 440 Hz tone is looked for in the recorded monitor: seconds from the restart (ffmpeg started again) and from
   the mount being live again to the upstream heard again (tone within 6 % of 440 Hz above −30 dBFS for 0.5 s). 3 times.
3. Onset: relay slots (Icecast MP3 and HLS) beside file slots in one run of the daemon; first sound minus the slot's
   second as bench/onset.py measures it, and which tone that first sound is (the upstream's, or the fallback's).
Usage: relay.py LOA_BINARY WORK_FOLDER. Prints Markdown; raw figures go to WORK_FOLDER/*.txt.
NO_RELAY_CPU=1, NO_RELAY_RETURN=1, NO_RELAY_ONSET=1 skip a part; LIQUIDSOAP=0 leaves Liquidsoap out."""
import os, signal, sqlite3, statistics, subprocess, sys, time
from datetime import datetime
from zoneinfo import ZoneInfo

from monitor import Server, onset_row, tone

LOA, WORK = sys.argv[1], os.path.abspath(sys.argv[2])
HERE = os.path.dirname(os.path.abspath(__file__))
WINDOW = int(os.environ.get("BENCH_RELAY_SECONDS", "600"))
RUNS = int(os.environ.get("BENCH_RELAY_RUNS", "1"))
TICK = os.sysconf("SC_CLK_TCK")
WARMUP = 20
os.makedirs(WORK, exist_ok=True)


def station_zone(seconds):
    """The station's timezone: Vietnam's, unless the run would cross its midnight (a slot's HH:MM:SS is of one day);
    then the first of a few zones where it does not."""
    now = time.time()
    for name in ["Asia/Ho_Chi_Minh", "UTC", "America/New_York", "Asia/Tokyo"]:
        zone = ZoneInfo(name)
        if datetime.fromtimestamp(now, zone).date() == datetime.fromtimestamp(now + seconds + 300, zone).date():
            return name
    return "UTC"


def clock(t, zone):
    return datetime.fromtimestamp(t, ZoneInfo(zone)).strftime("%H:%M:%S")


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_kb(pid, key="VmRSS:"):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key):
            return int(line.split()[1])
    return 0


def tone_file(path, frequency, seconds):
    sh("sox", "-n", "-r", "44100", "-c", "1", path, "synth", str(seconds), "sine", str(frequency), "vol", "0.5")


class Station:
    """A station folder for `loa daemon`: loa.toml with the upstreams as `[[source]]`, a 660 Hz fallback imported."""
    def __init__(self, folder, zone, sources):
        self.folder, self.zone = folder, zone
        self.config = os.path.join(folder, "loa.toml")
        os.makedirs(os.path.join(folder, "audio"), exist_ok=True)
        os.makedirs(os.path.join(folder, "schedules"), exist_ok=True)
        with open(self.config, "w") as f:
            f.write(f'station = "Đo tiếp sóng"\ntimezone = "{zone}"\ndevice = "pulse"\n')
            for name, url in sources.items():
                f.write(f'\n[[source]]\nname = "{name}"\nlabel = "{name.upper()}"\nurl = "{url}"\n')
        self.file("fb.wav", 660, 5)

    def file(self, name, frequency, seconds):
        tone_file(os.path.join(self.folder, "audio", name), frequency, seconds)
        self.loa("segment", "add", os.path.join(self.folder, "audio", name), "--title", name)

    def loa(self, *args):
        return sh(LOA, *args, "--config", self.config)

    def relay(self, slot, start, end, source):
        self.loa("schedule", "add", slot, "--start", clock(start, self.zone), "--end", clock(end, self.zone),
                 "--relay", source, "--fallback", "fb.wav")

    def play(self, slot, start, end, name):
        self.loa("schedule", "add", slot, "--start", clock(start, self.zone), "--end", clock(end, self.zone),
                 "--play", name)

    def daemon(self, env):
        return subprocess.Popen([LOA, "daemon", "--config", self.config], env=env,
                                stdout=open(os.path.join(self.folder, "daemon.log"), "w"), stderr=subprocess.STDOUT)

    def rows(self):
        db = sqlite3.connect(os.path.join(self.folder, "loa.sqlite"))
        try:
            return db.execute("SELECT kind, segment_id, planned_seconds, aired_seconds, outcome, reason_code "
                              "FROM airing ORDER BY id").fetchall()
        finally:
            db.close()


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


upstreams = os.path.join(WORK, "upstreams")
lifetime = RUNS * (WINDOW + 120) + 1200
urls = dict(line.split("=", 1) for line in sh(os.path.join(HERE, "upstreams.sh"), "start", upstreams, str(lifetime)).stdout.split())
STREAMS = {"mp3": urls["ICECAST_MP3_URL"], "hls": urls["HLS_URL"]}
LABEL = {"mp3": "Icecast MP3 128 kb/s (44.1 kHz)", "hls": "HLS AAC 128 kb/s (48 kHz, 2 s segments)"}
upstream_pid = int(open(os.path.join(upstreams, "pid")).read())
liquidsoap = os.environ.get("LIQUIDSOAP", "1") != "0" and subprocess.run(["which", "liquidsoap"], capture_output=True).returncode == 0

try:
    # 1. CPU and RSS, every relayer at once on one server.
    if not os.environ.get("NO_RELAY_CPU"):
        results = {}  # (stream, who) -> list of (cpu per hour, rss start, rss end, rss peak)
        notes = []
        for run in range(RUNS):
            server = Server(os.path.join(WORK, f"pa-cpu{run}"), sink="bench", record=False)
            server.start()
            zone = station_zone(WINDOW + 120)
            start = int(time.time()) + 20
            procs = {}
            stations = {}
            for kind, url in STREAMS.items():
                st = Station(os.path.join(WORK, f"cpu{run}-{kind}"), zone, {kind: url})
                st.relay("tiep-song", start, start + WARMUP + WINDOW + 60, kind)
                stations[kind] = st
                procs[(kind, "loa")] = st.daemon(server.client)
            time.sleep(max(0, start - time.time()))
            quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=server.client, stdin=subprocess.DEVNULL)
            peer_logs = {}
            for kind, url in STREAMS.items():
                # At warning level ffmpeg says each ALSA underrun ("ALSA buffer xrun"), counted beside the daemon's.
                for who, rate in [("ffmpeg", []), ("ffmpeg -ar 48000", ["-ar", "48000"])]:
                    peer_logs[(kind, who)] = os.path.join(WORK, f"{kind}-{who.replace(' ', '')}-run{run}.log")
                    procs[(kind, who)] = subprocess.Popen(
                        ["ffmpeg", "-nostdin", "-loglevel", "warning", "-i", url, *rate, "-f", "alsa", "pulse"],
                        stdout=subprocess.DEVNULL, stderr=open(peer_logs[(kind, who)], "w"), env=server.client,
                        stdin=subprocess.DEVNULL)
                if liquidsoap:
                    procs[(kind, "liquidsoap")] = subprocess.Popen(
                        ["liquidsoap", os.path.join(HERE, "relay-liquidsoap.liq"), "--", url, "pulse"], **quiet)
            time.sleep(max(0, start + WARMUP - time.time()))
            pa = server.pid()
            cpu0 = {k: cpu_seconds(p.pid) for k, p in procs.items() if p.poll() is None}
            pa0 = cpu_seconds(pa) if pa else None
            rss = {k: [] for k in cpu0}
            t0 = time.time()
            while True:
                for k in cpu0:
                    if procs[k].poll() is None:
                        rss[k].append(rss_kb(procs[k].pid))
                if time.time() - t0 >= WINDOW:
                    break
                time.sleep(min(10, max(0, t0 + WINDOW - time.time())))
            elapsed = time.time() - t0
            with open(os.path.join(WORK, f"rss{run}.txt"), "w") as f:  # every 10 s sample, for the curve
                for k, r in rss.items():
                    f.write(f"{k[0]}\t{k[1]}\t{' '.join(map(str, r))}\n")
            for k, p in procs.items():
                if k in cpu0 and p.poll() is None:
                    cpu = cpu_seconds(p.pid) - cpu0[k]
                    r = rss[k]
                    results.setdefault(k, []).append((cpu * 3600 / elapsed, r[0], r[-1], max(max(r), rss_kb(p.pid)), rss_kb(p.pid, "VmHWM:")))
                else:
                    notes.append(f"{k[1]} on {k[0]} was not running at the end of run {run + 1} (exit {p.poll()})")
            if pa0 is not None:
                results.setdefault(("all", "pulseaudio"), []).append(((cpu_seconds(pa) - pa0) * 3600 / elapsed, 0, 0, 0, 0))
            for p in procs.values():
                stop(p)
            for kind, st in stations.items():
                relay = [r for r in st.rows() if r[0] == "relay"]
                fallback = [r for r in st.rows() if r[0] != "relay"]
                underruns = sum(1 for line in open(os.path.join(st.folder, "daemon.log")) if "hết dữ liệu" in line)
                notes.append(f"run {run + 1}, {kind}: the relay's row (kind, segment, planned s, aired s, outcome, reason) "
                             f"{relay[-1] if relay else 'none'}; fallback rows {len(fallback)}"
                             + (f" (reasons {sorted(set(r[5] for r in fallback))})" if fallback else "")
                             + f"; underruns logged by the daemon: {underruns}; by ffmpeg (\"ALSA buffer xrun\"): "
                             + ", ".join(f"{who} {sum(1 for line in open(path) if 'xrun' in line)}"
                                         for (k, who), path in peer_logs.items() if k == kind))
            server.stop()
        with open(os.path.join(WORK, "cpu.txt"), "w") as f:
            for k, v in results.items():
                f.write(f"{k[0]}\t{k[1]}\t{v}\n")
            f.write("\n".join(notes) + "\n")

        def med(k, i):
            return statistics.median(v[i] for v in results[k])
        print(f"CPU (utime + stime, all threads) per hour of relaying, over a window of {WINDOW} s opening {WARMUP} s after the "
              f"slot's start, every relayer at once into one null sink; VmRSS sampled every 10 s (start / end / peak of the "
              f"samples, and VmHWM). {'Medians of ' + str(RUNS) + ' runs.' if RUNS > 1 else 'One run.'}")
        print()
        print("| stream | relayer | CPU s/h | ratio to `ffmpeg -f alsa pulse` | RSS start KB | RSS end KB | RSS peak KB | VmHWM KB |")
        print("|---|---|---|---|---|---|---|---|")
        for kind in STREAMS:
            base = med((kind, "ffmpeg"), 0) if (kind, "ffmpeg") in results else None
            for who in ["loa", "ffmpeg", "ffmpeg -ar 48000", "liquidsoap"]:
                k = (kind, who)
                if k not in results:
                    continue
                ratio = f"{med(k, 0) / base:.2f}" if base else "–"
                name = {"loa": "`loa daemon` relay slot", "ffmpeg": "`ffmpeg -i URL -f alsa pulse`",
                        "ffmpeg -ar 48000": "`ffmpeg -i URL -ar 48000 -f alsa pulse`",
                        "liquidsoap": "Liquidsoap 2.1.3 (`input.http` → `output.alsa`)"}[who]
                print(f"| {LABEL[kind]} | {name} | {med(k, 0):.1f} | {ratio} | {med(k, 1):.0f} | {med(k, 2):.0f} | {med(k, 3):.0f} | {med(k, 4):.0f} |")
        if ("all", "pulseaudio") in results:
            print()
            print(f"The PulseAudio server itself (mixing every relayer, resampling those that hand it 44.1 kHz): "
                  f"{med(('all', 'pulseaudio'), 0):.1f} CPU s/h.")
        print()
        for n in notes:
            print(f"- {n}")
        print()

    # 2. Return: the Icecast source killed and restarted during a relay.
    if not os.environ.get("NO_RELAY_RETURN"):
        server = Server(os.path.join(WORK, "pa-return"), sink="bench")
        server.start()
        zone = station_zone(400)
        st = Station(os.path.join(WORK, "return"), zone, {"mp3": STREAMS["mp3"]})
        start = int(time.time()) + 15
        st.relay("tiep-song", start, start + 330, "mp3")
        daemon = st.daemon(server.client)
        events = os.path.join(upstreams, "events")

        def event(what, after):
            deadline = time.time() + 30
            while time.time() < deadline:
                if os.path.exists(events):
                    for line in open(events):
                        name, at = line.split()
                        if name == what and float(at) > after:
                            return float(at)
                        if name == "failed" and float(at) > after:
                            raise RuntimeError("loa-bench upstreams could not kill or restart the source")
                time.sleep(0.05)
            raise RuntimeError(f"no '{what}' event from loa-bench upstreams")

        def heard(frequency, since, timeout):
            """Wall-clock time from which the tone is heard for 0.5 s (10 windows of 50 ms), or None."""
            deadline = since + timeout
            while time.time() < deadline + 1:
                time.sleep(0.5)
                samples, first = server.span(since, deadline - since)
                if samples is None:
                    continue
                w, run = 2400, 0
                for i in range(0, len(samples) - w, w):
                    f, level = tone(samples[i:i + w])
                    run = run + 1 if abs(f - frequency) < 0.06 * frequency and level > -30 else 0
                    if run == 10:
                        return first + (i - 9 * w) / 48000
            return None

        time.sleep(max(0, start + 10 - time.time()))
        figures = []
        for cycle in range(3):
            t = time.time()
            os.kill(upstream_pid, signal.SIGUSR1)
            killed = event("killed", t)
            fallback_at = heard(660, t, 20)
            time.sleep(max(0, t + 12 - time.time()))
            t = time.time()
            os.kill(upstream_pid, signal.SIGUSR2)
            restarted = event("restarted", t - 0.001)
            live = event("live", restarted)
            back = heard(440, restarted, 45)
            figures.append((restarted, live, back, t, killed, fallback_at))
            time.sleep(8)
        stop(daemon)
        server.stop()
        with open(os.path.join(WORK, "return.txt"), "w") as f:
            for row in figures:
                f.write("\t".join(f"{x:.3f}" if x else "-" for x in row) + "\n")
            f.write(f"{st.rows()}\n")
        from_restart = [b - r for r, _, b, *_ in figures if b]
        from_live = [b - l for _, l, b, *_ in figures if b]
        to_fallback = [fb - k0 for *_, k0, fb in figures if fb]
        print("Return: the Icecast MP3 source killed (SIGKILL) during a relay slot, restarted 12 s later; the upstream's 440 Hz "
              "heard again in the recorded monitor (within 6 % of 440 Hz, above −30 dBFS, for 0.5 s). Seconds, 3 times.")
        print()
        print("| measure | median s | each (s) |")
        print("|---|---|---|")
        for label, values in [("source restarted (ffmpeg started again) → relay heard again", from_restart),
                              ("mount live again on Icecast → relay heard again", from_live),
                              ("source killed → fallback (660 Hz) heard", to_fallback)]:
            each = " ".join(f"{v:.1f}" for v in values)
            print(f"| {label} | {statistics.median(values):.1f} | {each}{'' if len(values) == 3 else ' (not heard: ' + str(3 - len(values)) + ')'} |"
                  if values else f"| {label} | – | not heard |")
        print()

    # 3. Onset of relay slots beside file slots, in one run of the daemon.
    if not os.environ.get("NO_RELAY_ONSET"):
        server = Server(os.path.join(WORK, "pa-onset"), sink="bench")
        server.start()
        zone = station_zone(400)
        st = Station(os.path.join(WORK, "onset"), zone, STREAMS)
        st.file("a.wav", 1000, 2)
        t = int(time.time()) + 15
        slots = []
        for k in range(8):
            kind = "mp3" if k % 2 == 0 else "hls"
            st.relay(f"r{k}", t, t + 4, kind)
            slots.append((f"relay slot, {LABEL[kind]}", kind, t))
            st.play(f"f{k}", t + 8, t + 10, "a.wav")
            slots.append(("file slot (2 s WAV), same run", "file", t + 8))
            t += 22
        daemon = st.daemon(server.client)
        time.sleep(max(0, slots[-1][2] + 4 - time.time()))
        stop(daemon)
        expect = {"mp3": 440, "hls": 880, "file": 1000}
        results = []
        for label, kind, second in slots:
            ms = server.onset(second)
            first_tone = None
            if ms is not None:
                samples, _ = server.span(second + ms / 1000 + 0.02, 0.1)
                first_tone = tone(samples)[0] if samples is not None else None
            results.append((label, kind, second, ms, first_tone))
        server.stop()
        with open(os.path.join(WORK, "onsets.txt"), "w") as f:
            for r in results:
                f.write("\t".join(str(x) for x in r) + "\n")
            f.write(f"{st.rows()}\n")
        print("Onset of relay slots beside file slots: first sound minus the slot's second (first sample above −40 dBFS in the "
              "recorded monitor, as bench/onset.py), 4 s relay slots (connection opened 10 s ahead) and 2 s file slots, one "
              "daemon. \"upstream's\" counts starts whose first 100 ms are the upstream's tone (not the fallback's 660 Hz).")
        print()
        print("| case | starts | median ms | p95 ms | max ms | each (ms) | not heard | upstream's |")
        print("|---|---|---|---|---|---|---|---|")
        for label in dict.fromkeys(r[0] for r in results):
            rows = [r for r in results if r[0] == label]
            own = sum(1 for r in rows if r[4] and abs(r[4] - expect[r[1]]) < 0.06 * expect[r[1]])
            print(onset_row(label, [r[3] for r in rows]) + f" {own} of {len(rows)} |")
        print()
finally:
    subprocess.run([os.path.join(HERE, "upstreams.sh"), "stop", upstreams])
