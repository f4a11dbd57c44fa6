#!/usr/bin/env python3
"""Where a slot's first sound lands: `loa daemon` airs slots through ALSA `pulse` into a private PulseAudio
null sink whose monitor parecord records; each recorded sample is tied to the wall clock from the arrival
times of the recorded chunks (as Tests/LoaDaemonTests/Harness.swift does). Cases: slot starts after idle,
the second of two touching slots (the first ends in 0.5 s of silence), slots after a device return (the server killed and started again before
the slot), opening with WAV, MP3 and FLAC; beside `aplay -D pulse` started at the second by a sleep.
Usage: onset.py LOA_BINARY WORK_FOLDER. Prints one Markdown table; raw onsets go to WORK_FOLDER/onsets.txt."""
import os, statistics, subprocess, sys, time
from datetime import datetime
from zoneinfo import ZoneInfo

from monitor import Server, onset_row as row

LOA, WORK = sys.argv[1], sys.argv[2]
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
os.makedirs(WORK, exist_ok=True)


def clock(t):
    return datetime.fromtimestamp(t, ZONE).strftime("%H:%M:%S")


def loa(*args, env=None):
    return subprocess.run([LOA, *args, "--config", f"{WORK}/loa.toml"], env=env, capture_output=True, text=True, check=True)


station = WORK
os.makedirs(f"{station}/audio", exist_ok=True)
os.makedirs(f"{station}/schedules", exist_ok=True)
with open(f"{station}/loa.toml", "w") as f:
    f.write('station = "Đo độ lệch"\ntimezone = "Asia/Ho_Chi_Minh"\ndevice = "pulse"\n')
for name, rate in [("a.wav", 44100), ("b.flac", 22050), ("src.wav", 44100)]:
    subprocess.run(["sox", "-n", "-r", str(rate), "-c", "1", f"{station}/audio/{name}", "synth", "2", "sine", "440", "vol", "0.5"], check=True)
# The first of two touching slots: 1.5 s of tone then 0.5 s of silence, so the second slot's first sound stands out.
subprocess.run(["sox", "-n", "-r", "44100", "-c", "1", f"{station}/audio/lead.wav", "synth", "1.5", "sine", "660", "vol", "0.5",
                "pad", "0", "0.5"], check=True)
subprocess.run(["lame", "--quiet", "-b", "128", f"{station}/audio/src.wav", f"{station}/audio/c.mp3"], check=True)
os.remove(f"{station}/audio/src.wav")
for name in ["a.wav", "b.flac", "c.mp3", "lead.wav"]:
    loa("segment", "add", f"{station}/audio/{name}", "--title", name)
formats = ["a.wav", "c.mp3", "b.flac"]

# The plan: (kind, format, slot second); touching slots follow a slot filled exactly by a 2 s item.
t0 = int(time.time()) + 12
slots, kills, n = [], [], 0
t = t0
for k in range(9):  # after idle: 3 s of silence or more before each
    slots.append(("after idle", formats[k % 3], t)); t += 5
for k in range(6):  # touching
    slots.append(("first of two touching", "lead.wav", t)); slots.append(("touching (second of two)", formats[k % 3], t + 2)); t += 7
for k in range(6):  # after a device return: server killed 6 s and started 4 s before the slot
    t += 8
    kills.append(t - 6)
    slots.append(("after device return", formats[k % 3], t)); t += 3
with open(f"{station}/schedules/bench.toml", "w") as f:
    for i, (kind, name, start) in enumerate(slots):
        f.write(f'[[slot]]\nid = "s{i}"\nstart = "{clock(start)}"\nend = "{clock(start + 2)}"\nplay = ["{name}"]\n\n')

server = Server(f"{WORK}/pulse")
server.start()
daemon = subprocess.Popen([LOA, "daemon", "--config", f"{station}/loa.toml"], env=server.client,
                          stdout=open(f"{WORK}/daemon.log", "w"), stderr=subprocess.STDOUT)
for kill in kills:
    time.sleep(max(0, kill - time.time()))
    subprocess.run(["pulseaudio", "-k"], env=server.env)
    time.sleep(2)
    server.start()
time.sleep(max(0, slots[-1][2] + 3 - time.time()))
daemon.terminate()
daemon.wait()
results = [(kind, name, server.onset(start)) for kind, name, start in slots]

# The peer: aplay started at the second by a sleep, on the same server, same files decoded to 48 kHz WAV by sox.
peer = f"{WORK}/peer.wav"
subprocess.run(["sox", f"{station}/audio/a.wav", "-r", "48000", "-c", "2", "-b", "16", peer], check=True)
start = int(time.time()) + 2
for k in range(20):
    second = start + 3 * k
    time.sleep(max(0, second - time.time()))
    subprocess.Popen(["aplay", "-q", "-D", "pulse", peer], env=server.client)
    results.append(("aplay -D pulse at the second (peer)", "48 kHz WAV", second))
time.sleep(3)
results = [(kind, name, server.onset(r) if isinstance(r, int) else r) for kind, name, r in results]
server.stop()

with open(f"{WORK}/onsets.txt", "w") as f:
    for kind, name, ms in results:
        f.write(f"{kind}\t{name}\t{'' if ms is None else f'{ms:.1f}'}\n")


print("| case | starts | median ms | p95 ms | max ms | each (ms) | not heard |")
print("|---|---|---|---|---|---|---|")
loa_rows = [r for r in results if not r[0].startswith("aplay")]
print(row("Loa, every slot start", [ms for _, _, ms in loa_rows]))
for kind in ["after idle", "first of two touching", "touching (second of two)", "after device return"]:
    print(row(f"Loa, {kind}", [ms for k, _, ms in loa_rows if k == kind]))
for name in formats:
    print(row(f"Loa, opening with {name.split('.')[1].upper()}", [ms for _, n, ms in loa_rows if n == name]))
print(row("aplay -D pulse at the second (peer)", [ms for k, _, ms in results if k.startswith("aplay")]))
