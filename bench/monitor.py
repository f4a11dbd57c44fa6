"""A private PulseAudio null sink and its recorded monitor, tied to the wall clock, for the benchmarks that listen
(bench/onset.py, bench/relay.py). Each recorded sample is tied to the wall clock from the arrival times of the recorded
chunks (as Tests/LoaDaemonTests/Harness.swift does)."""
import array, math, os, statistics, subprocess, threading, time

RATE = 48000


class Server:
    """A private PulseAudio with one null sink (`sink`), and parecord on its monitor when `record`."""
    def __init__(self, folder, sink="loa_bench", record=True):
        self.folder, self.sink, self.record = folder, sink, record
        os.makedirs(folder, exist_ok=True)
        self.env = dict(os.environ, HOME=folder, XDG_RUNTIME_DIR=folder, PULSE_RUNTIME_PATH=os.path.join(folder, "run"))
        self.client = dict(os.environ, PULSE_SERVER="unix:" + os.path.join(folder, "native"), PULSE_SINK=sink)
        self.recordings = []

    def start(self):
        subprocess.run(["pulseaudio", "-n", "--daemonize=yes", "--exit-idle-time=-1", "--use-pid-file=yes",
                        "--log-target=stderr", "--log-level=error",
                        "-L", f"module-native-protocol-unix socket={self.folder}/native auth-anonymous=1",
                        "-L", f"module-null-sink sink_name={self.sink} rate=48000 channels=2"], env=self.env, check=True)
        for _ in range(100):
            if subprocess.run(["pactl", "info"], env=self.client, capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        if not self.record:
            return
        rec = {"data": bytearray(), "anchor": float("inf"), "lock": threading.Lock()}
        proc = subprocess.Popen(["parecord", "--raw", "-d", f"{self.sink}.monitor", "--format=s16le", "--rate=48000",
                                 "--channels=1", "--latency-msec=5"], env=self.client, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, bufsize=0)

        def read():
            while True:
                chunk = proc.stdout.read(4096)
                if not chunk:
                    break
                arrived = time.time()
                with rec["lock"]:
                    rec["data"] += chunk
                    rec["anchor"] = min(rec["anchor"], arrived - len(rec["data"]) / 2 / RATE)
        threading.Thread(target=read, daemon=True).start()
        rec["proc"] = proc
        self.recordings.append(rec)
        while len(rec["data"]) < RATE // 5:  # recording before anything can be played
            time.sleep(0.02)

    def pid(self):
        """The server's process id (from its pid file), for its CPU."""
        try:
            return int(open(os.path.join(self.folder, "run", "pid")).read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self):
        subprocess.run(["pulseaudio", "-k"], env=self.env)
        for rec in self.recordings:
            rec["proc"].kill()
        time.sleep(0.3)

    def span(self, start, seconds):
        """The recorded samples from wall-clock `start` for `seconds` (an array of ints) and the wall-clock time of the
        first, from the recording that holds `start`; (None, None) if none does."""
        for rec in self.recordings:
            with rec["lock"]:
                anchor, n = rec["anchor"], len(rec["data"]) // 2
                first = int((start - anchor) * RATE)
                if first < 0 or first >= n:
                    continue
                last = min(n, first + int(seconds * RATE))
                samples = array.array("h", bytes(rec["data"][first * 2: last * 2]))
            return samples, anchor + first / RATE
        return None, None

    def onset(self, second, threshold=0.01):
        """First sample above −40 dBFS from 0.3 s before `second`, minus `second`, in ms; None if none within 2 s."""
        samples, first = self.span(second - 0.3, 2.3)
        if samples is None:
            return None
        limit = threshold * 32768
        for i, s in enumerate(samples):
            if abs(s) > limit:
                return (first + i / RATE - second) * 1000
        return None


def tone(samples):
    """(frequency in Hz by zero crossings, level in dBFS RMS) of a stretch of a recorded tone."""
    if not samples:
        return 0.0, -120.0
    crossings = sum(1 for a, b in zip(samples, samples[1:]) if (a < 0) != (b < 0))
    rms = math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768
    return crossings / 2 / (len(samples) / RATE), 20 * math.log10(max(rms, 1e-6))


def onset_row(label, values):
    """One Markdown row of onsets in ms (None: not heard): count, median, p95, max, each, not heard."""
    heard = sorted(v for v in values if v is not None)
    missing = len(values) - len(heard)
    if not heard:
        return f"| {label} | {len(values)} | – | – | – | – | {missing} |"
    p95 = heard[min(len(heard) - 1, int(round(0.95 * (len(heard) - 1))))]
    return (f"| {label} | {len(values)} | {statistics.median(heard):+.0f} | {p95:+.0f} | {max(heard):+.0f} | "
            f"{' '.join(f'{v:+.0f}' for v in heard)} | {missing} |")
