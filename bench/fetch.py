#!/usr/bin/env python3
"""What fetching a feed costs: `loa fetch` of a 500 MB feed (five 100 MB 48 kHz stereo WAV files, published with
`loa publish`) from nginx on 127.0.0.1, against `curl` downloading the same files from the same server, in the same
run; the peak RSS of `loa fetch` for that feed and for one ten times smaller (it must not grow with file size); and
what polling an unchanged feed costs the daemon (requests and CPU per poll, from nginx's log and /proc).
Loa's transfer time is the one `loa fetch` reports (the downloads with their SHA-256, not the decode and playout
copy that follow); its total wall time is given beside it.
Usage: fetch.py LOA_BINARY WORK_FOLDER [RUNS]. Prints Markdown."""
import os, re, socket, statistics, subprocess, sys, time

LOA, WORK = sys.argv[1], sys.argv[2]
RUNS = int(sys.argv[3]) if len(sys.argv) > 3 else 3
TICK = os.sysconf("SC_CLK_TCK")
os.makedirs(WORK, exist_ok=True)


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def timed(args, env=None):
    """Runs args under /usr/bin/time; returns (wall seconds, peak RSS KB, stdout). Dirty pages left by the command
    before are written back first, so no command is throttled by the previous one's writeback."""
    out = os.path.join(WORK, "time.txt")
    os.sync()
    start = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out] + args, capture_output=True, text=True, env=env)
    wall = time.monotonic() - start
    if r.returncode != 0:
        sys.exit(f"{args[0]} failed: {r.stdout}{r.stderr}")
    return wall, int(open(out).read().split()[-1]), r.stdout


def publish(name, files, seconds):
    source = os.path.join(WORK, name + "-src")
    feed = os.path.join(WORK, "www", name)
    os.makedirs(source, exist_ok=True)
    for n in range(files):
        path = os.path.join(source, f"tin{n}.wav")
        if not os.path.exists(path):
            sh("sox", "-n", "-r", "48000", "-c", "2", "-b", "16", path, "synth", str(seconds), "sine", str(300 + 50 * n), "vol", "0.3")
    sh(LOA, "publish", source, "--key", key + ".key", "--out", feed)
    return feed, sum(os.path.getsize(os.path.join(source, f)) for f in os.listdir(source) if f.endswith(".wav"))


def station(name, feed, interval="15m"):
    folder = os.path.join(WORK, "st-" + name)
    subprocess.run(["rm", "-rf", folder])
    os.makedirs(os.path.join(folder, "schedules"))
    open(os.path.join(folder, "loa.toml"), "w").write(
        f'station = "bench"\ndevice = "null"\n[[feed]]\nname = "{name}"\nurl = "http://127.0.0.1:{port}/{feed}/"\n'
        f'public_keys = ["{public}"]\ninterval = "{interval}"\n')
    return os.path.join(folder, "loa.toml")


key = os.path.join(WORK, "huyen")
for suffix in (".key", ".pub"):
    if os.path.exists(key + suffix):
        os.remove(key + suffix)
sh(LOA, "keygen", "--out", key)
public = open(key + ".pub").read().strip()
big, big_bytes = publish("big", 5, 546)      # 5 × 104.8 MB
small, small_bytes = publish("small", 5, 55)  # 5 × 10.6 MB

port = free_port()
conf = os.path.join(WORK, "nginx.conf")
os.makedirs(os.path.join(WORK, "tmp"), exist_ok=True)
open(conf, "w").write(f"""daemon off; pid {WORK}/nginx.pid; error_log {WORK}/error.log; {"user root;" if os.getuid() == 0 else ""}
worker_processes 1; events {{ worker_connections 64; }}
http {{ log_format loa '$request_method $uri $status $body_bytes_sent'; access_log {WORK}/access.log loa;
  client_body_temp_path {WORK}/tmp; proxy_temp_path {WORK}/tmp; fastcgi_temp_path {WORK}/tmp; uwsgi_temp_path {WORK}/tmp;
  scgi_temp_path {WORK}/tmp; server {{ listen 127.0.0.1:{port}; root {WORK}/www; }} }}
""")
nginx = subprocess.Popen(["nginx", "-c", conf, "-p", WORK], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    names = sorted(f for f in os.listdir(os.path.join(WORK, "www", "big")) if f.endswith(".wav"))
    urls = [f"http://127.0.0.1:{port}/big/{n}" for n in names]
    rows = []
    for run in range(RUNS):
        target = os.path.join(WORK, "curl-out")
        subprocess.run(["rm", "-rf", target])
        os.makedirs(target)
        args = ["curl", "-s", "-f"]
        for url, n in zip(urls, names):
            args += ["-o", os.path.join(target, n), url]
        curl_wall, curl_rss, _ = timed(args)
        # A second peer doing what Loa does on the way in: write the file and hash it as it streams.
        script = " && ".join(f'curl -s -f "{url}" | tee "{os.path.join(target, n)}" | sha256sum >/dev/null' for url, n in zip(urls, names))
        hashed_wall, _, _ = timed(["bash", "-o", "pipefail", "-c", script])
        config = station("big", "big")
        loa_wall, loa_rss, out = timed([LOA, "fetch", "--config", config])
        # The seconds are printed to a tenth; the rate beside them has four figures, so the time comes from it.
        m = re.search(r"nhận ([\d,]+) MB trong [\d,]+ giây \(([\d,]+) MB/s\)", out)
        if not m:
            sys.exit(f"loa fetch did not report its transfer: {out}")
        transfer = float(m.group(1).replace(",", ".")) / float(m.group(2).replace(",", "."))
        small_config = station("small", "small")
        _, small_rss, _ = timed([LOA, "fetch", "--config", small_config])
        rows.append((curl_wall, curl_rss, transfer, loa_wall, loa_rss, small_rss, hashed_wall))
    med = lambda i: statistics.median(r[i] for r in rows)
    mb = big_bytes / 1e6
    print(f"Fetch of a {mb:.0f} MB feed (five 48 kHz stereo WAV files) from nginx on 127.0.0.1; medians of {RUNS} runs.")
    print()
    print("| measure | curl | loa fetch | ratio (loa throughput / curl's) |")
    print("|---|---|---|---|")
    print(f"| transfer, s (loa: downloads with SHA-256 while streaming) | {med(0):.2f} | {med(2):.2f} | {med(0) / med(2):.2f} |")
    print(f"| each run, curl / loa, s | {', '.join(f'{r[0]:.2f}' for r in rows)} | {', '.join(f'{r[2]:.2f}' for r in rows)} | "
          f"{', '.join(f'{r[0] / r[2]:.2f}' for r in rows)} |")
    print(f"| throughput, MB/s | {mb / med(0):.0f} | {mb / med(2):.0f} | |")
    print(f"| peer that also hashes: `curl URL | tee FILE | sha256sum`, s | {med(6):.2f} | {med(2):.2f} | {med(6) / med(2):.2f} |")
    print(f"| wall time of the whole command, s (loa: + signature, decode, loudness, playout copy, install) | {med(0):.2f} | {med(3):.2f} | |")
    print(f"| peak RSS, KB, this feed | {med(1):.0f} | {med(4):.0f} | |")
    print(f"| peak RSS, KB, a feed of five 10.6 MB files ({small_bytes / 1e6:.0f} MB) | | {med(5):.0f} | |")
    print()

    # Polling an unchanged feed: the daemon with interval 1 s for 60 s, feed already fetched.
    config = station("small", "small", interval="1s")
    sh(LOA, "fetch", "--config", config)
    before = sum(1 for _ in open(os.path.join(WORK, "access.log")))
    daemon = subprocess.Popen([LOA, "daemon", "--config", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(3)

    def cpu(pid):
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    start_cpu, start_lines = cpu(daemon.pid), sum(1 for _ in open(os.path.join(WORK, "access.log")))
    time.sleep(60)
    end_cpu, lines = cpu(daemon.pid), open(os.path.join(WORK, "access.log")).read().splitlines()[start_lines:]
    daemon.terminate()
    daemon.wait()
    polls = [l for l in lines if "/small/feed.json " in l]
    other = [l for l in lines if "/small/feed.json " not in l]
    not_modified = sum(1 for l in polls if " 304 " in l)
    per_poll_ms = (end_cpu - start_cpu) / max(len(polls), 1) * 1000
    print(f"Polling an unchanged feed: `loa daemon` with `interval = \"1s\"` for 60 s: {len(polls)} requests, {not_modified} "
          f"answered 304, {len(other)} other requests; daemon CPU {end_cpu - start_cpu:.2f} s, i.e. {per_poll_ms:.1f} ms per poll "
          f"(with the idle daemon's own wake-ups). At the default interval of 15 min: 4 requests and about "
          f"{4 * per_poll_ms:.0f} ms of CPU per hour.")
finally:
    nginx.terminate()
    nginx.wait()
