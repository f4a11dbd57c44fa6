#!/usr/bin/env python3
"""What the daemon's playout costs, in real time: `loa daemon` airs one slot of a mixed library (44.1 and
48 kHz MP3, 22.05 kHz WAV, 44.1 kHz FLAC, imported with `loa segment add`, so aired from their playout
copies with loudness gain and the true-peak limiter) through ALSA `pulse` into a private PulseAudio null
sink; its CPU (utime + stime from /proc) is read when the first item starts and when the last ends.
The peer, in the same run: `mpg123 -o alsa -a pulse` playing the two MP3s at their own rate, same device.
Usage: daemon_cpu.py LOA_BINARY WORK_FOLDER [SECONDS_PER_FILE] [RUNS]. Prints one Markdown table.
TARGET_LUFS=0 in the environment sets the station's `[loudness] target_lufs`: at 0 the gain lifts every tone's
true peak above −1 dBTP, so the limiter's detection and gain reduction run on every frame (the worst case,
that of speech levelled near the ceiling); by default the tones stay under it and the detection is skipped.
SMAPS=PREFIX writes the daemon's /proc/PID/smaps, read as the last item ends, to PREFIX.RUN."""
import json, os, statistics, subprocess, sys, time
from datetime import datetime
from zoneinfo import ZoneInfo

LOA, WORK = sys.argv[1], sys.argv[2]
SECONDS = int(sys.argv[3]) if len(sys.argv) > 3 else 30
RUNS = int(sys.argv[4]) if len(sys.argv) > 4 else 3
TARGET = os.environ.get("TARGET_LUFS")
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
TICK = os.sysconf("SC_CLK_TCK")
os.makedirs(WORK, exist_ok=True)
server = os.path.join(WORK, "pulse")
os.makedirs(server, exist_ok=True)
server_env = dict(os.environ, HOME=server, XDG_RUNTIME_DIR=server, PULSE_RUNTIME_PATH=os.path.join(server, "run"))
client = dict(os.environ, PULSE_SERVER="unix:" + os.path.join(server, "native"), PULSE_SINK="loa_cpu")


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def peak_rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


sh("pulseaudio", "-n", "--daemonize=yes", "--exit-idle-time=-1", "--use-pid-file=yes", "--log-target=stderr",
   "--log-level=error", "-L", f"module-native-protocol-unix socket={server}/native auth-anonymous=1",
   "-L", "module-null-sink sink_name=loa_cpu rate=48000 channels=2", env=server_env)
try:
    for _ in range(100):
        if subprocess.run(["pactl", "info"], env=client, capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    audio = os.path.join(WORK, "audio")
    os.makedirs(audio, exist_ok=True)
    files = [("t44.mp3", 44100), ("t48.mp3", 48000), ("m22.wav", 22050), ("m44.flac", 44100)]
    for name, rate in files:
        source = os.path.join(audio, name if not name.endswith(".mp3") else name + ".wav")
        sh("sox", "-n", "-r", str(rate), "-c", "2", "-b", "16", source, "synth", str(SECONDS), "sine", "440", "vol", "0.5")
        if name.endswith(".mp3"):
            sh("lame", "--quiet", "-b", "128", source, os.path.join(audio, name))
            os.remove(source)
    loa_rows, peer = [], []
    for run in range(RUNS):
        station = os.path.join(WORK, f"station{run}")
        os.makedirs(os.path.join(station, "schedules"), exist_ok=True)
        config = os.path.join(station, "loa.toml")
        open(config, "w").write(f'station = "bench"\ntimezone = "Asia/Ho_Chi_Minh"\naudio = "{audio}"\n'
                                f'database = "loa.sqlite"\ndevice = "pulse"\n'
                                + (f'[loudness]\ntarget_lufs = {TARGET}\n' if TARGET else ''))
        for name, _ in files:
            sh(LOA, "segment", "add", os.path.join(audio, name), "--title", name, "--config", config)
        start = int(time.time()) + 5
        clock = datetime.fromtimestamp(start, ZONE).strftime("%H:%M:%S")
        names = ", ".join(f'"{name}"' for name, _ in files)
        open(os.path.join(station, "schedules", "a.toml"), "w").write(
            f'[[slot]]\nid = "cpu"\nstart = "{clock}"\nplay = [{names}]\n')
        daemon = subprocess.Popen([LOA, "daemon", "--config", config], env=client,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        first = last = None
        deadline = start + len(files) * SECONDS + 20
        while time.time() < deadline:
            rows = json.loads(sh(LOA, "log", "--format", "json", "--config", config).stdout)
            if first is None and any(r["outcome"] != "planned" for r in rows):
                first = cpu_seconds(daemon.pid)
            if len(rows) == len(files) and all(r["outcome"] not in ("planned", "started") for r in rows):
                last = cpu_seconds(daemon.pid)
                rss = peak_rss_kb(daemon.pid)
                if os.environ.get("SMAPS"):
                    # Where the memory is, for a look afterwards: one file per run.
                    open(f"{os.environ['SMAPS']}.{run}", "w").write(open(f"/proc/{daemon.pid}/smaps").read())
                outcomes = [r["outcome"] for r in rows]
                break
            time.sleep(0.2)
        daemon.terminate()
        daemon.wait()
        if first is None or last is None:
            sys.exit("the slot did not finish in time")
        loa_rows.append((last - first, rss, outcomes))
        t = os.path.join(WORK, "time.txt")
        subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", t, "mpg123", "-q", "-o", "alsa", "-a", "pulse",
                        os.path.join(audio, "t44.mp3"), os.path.join(audio, "t48.mp3")], env=client,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        u, s, m = open(t).read().split()
        peer.append((float(u) + float(s), int(m)))
    loa_hour = statistics.median(c for c, _, _ in loa_rows) / (len(files) * SECONDS) * 3600
    peer_hour = statistics.median(c for c, _ in peer) / (2 * SECONDS) * 3600
    print(f"| path | CPU s per hour of audio | ratio to mpg123 | peak RSS KB |")
    print("|---|---|---|---|")
    limiter = f"target {TARGET} LUFS, limiter on every frame" if TARGET else "limiter detection skipped"
    print(f"| `loa daemon`, mixed library from playout copies, gain ({limiter}), ALSA `pulse` | {loa_hour:.2f} | "
          f"{loa_hour / peer_hour:.2f} | {statistics.median(r for _, r, _ in loa_rows)} |")
    print(f"| `mpg123 -o alsa -a pulse`, the two MP3s at their own rate | {peer_hour:.2f} | 1.00 | "
          f"{statistics.median(m for _, m in peer)} |")
    print()
    print(f"{RUNS} runs, {SECONDS} s per file, medians; daemon CPU read from /proc between the first item's start and "
          f"the last one's end; outcomes {loa_rows[-1][2]}.")
finally:
    subprocess.run(["pulseaudio", "-k"], env=server_env)
