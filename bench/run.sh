#!/usr/bin/env bash
# Loa benchmarks: CPU and peak memory to play ten minutes of 128 kb/s MP3 to the ALSA `null` device
# (no pacing, so this is pure decode/convert/output cost), against mpg123 doing the same in the same run;
# then a mixed library (MP3, WAV, FLAC at three rates) per hour of audio, live and through the playout copies
# `loa segment add` writes, with the import's cost; the idle daemon's context switches over 60 s; and the onset
# of slot starts through ALSA `pulse` beside aplay (bench/onset.py; NO_ONSET=1 skips it); a 500 MB feed fetched
# from nginx against curl (bench/fetch.py; NO_FETCH=1 skips it); a million airings exported and verified against
# sqlite3 -csv, on a log made by loa simulate (bench/export.py; NO_EXPORT=1 skips it); a join deep into a long item through
# FileSource and its decoding CPU against mpg123 (NO_SOURCE=1 skips it); live relays (bench/relay.py, NO_RELAY=1 skips
# it): CPU and RSS per hour of relaying Icecast MP3 and HLS AAC beside ffmpeg and Liquidsoap (BENCH_RELAY_SECONDS, 600,
# the window), the relay heard again after its source returns, and the onset of relay slots beside file slots. Medians of RUNS runs.
# Writes Markdown tables to stdout and to bench/latest.md. AUDIO_ONLY=1 skips the store and planner timings.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
LOA=${LOA:-.build/release/loa}
BENCH=${BENCH:-.build/release/loa-bench}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sox -n -r 44100 -c 2 "$work/t44.wav" synth 600 sine 440 vol 0.5
sox -n -r 48000 -c 2 "$work/t48.wav" synth 600 sine 440 vol 0.5
lame --quiet -b 128 "$work/t44.wav" "$work/t44.mp3"
lame --quiet -b 128 "$work/t48.wav" "$work/t48.mp3"
# The mixed library: the two MP3s above, and ten minutes each of 22.05 kHz WAV and 44.1 kHz FLAC (stereo, 16-bit).
sox -n -r 22050 -c 2 -b 16 "$work/m22.wav" synth 600 sine 440 vol 0.5
sox -n -r 44100 -c 2 -b 16 "$work/m44.flac" synth 600 sine 440 vol 0.5

# median: the middle of the numbers on stdin, one a line.
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# measure NAME CMD...: prints "median_cpu_seconds median_peak_rss_kb"
measure() {
  local cpu=() rss=()
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%U %S %M" -o "$work/time" "$@" >/dev/null 2>&1
    read -r u s m < "$work/time"
    cpu+=("$(printf '%.2f' "$(echo "$u + $s" | bc -l)")")
    rss+=("$m")
  done
  local c r
  c=$(printf '%s\n' "${cpu[@]}" | median)
  r=$(printf '%s\n' "${rss[@]}" | median)
  echo "$c $r"
}

{
  echo "### $(date -u +%Y-%m-%d) — $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo
  echo "Ten minutes of 128 kb/s stereo MP3 to ALSA \`null\`; CPU = user + sys; medians of $RUNS runs."
  echo
  echo "| case | loa CPU s | mpg123 CPU s | ratio loa/mpg123 | loa peak RSS KB | mpg123 peak RSS KB |"
  echo "|---|---|---|---|---|---|"
  read -r lc lr < <(measure "$LOA" play "$work/t48.mp3" --device null)
  read -r mc mr < <(measure mpg123 -q -o alsa -a null "$work/t48.mp3")
  echo "| 48 kHz MP3, no resampling | $lc | $mc | $(printf '%.2f' "$(echo "$lc / $mc" | bc -l)") | $lr | $mr |"
  read -r lc lr < <(measure "$LOA" play "$work/t44.mp3" --device null)
  read -r mc mr < <(measure mpg123 -q -r 48000 -o alsa -a null "$work/t44.mp3")
  echo "| 44.1 kHz MP3 resampled to 48 kHz | $lc | $mc | $(printf '%.2f' "$(echo "$lc / $mc" | bc -l)") | $lr | $mr |"
  echo
  echo "Commands: \`$LOA play FILE --device null\`; \`mpg123 -q [-r 48000] -o alsa -a null FILE\`."
  echo
  # The mixed library, 40 minutes: Loa plays all four files to 48 kHz; the peer is mpg123 playing the two MP3s
  # (20 minutes) at their own rates, the cheapest way to air them. CPU is compared per hour of audio played.
  read -r lc lr < <(measure "$LOA" play "$work/t44.mp3" "$work/t48.mp3" "$work/m22.wav" "$work/m44.flac" --device null)
  read -r mc mr < <(measure mpg123 -q -o alsa -a null "$work/t44.mp3" "$work/t48.mp3")
  lh=$(echo "$lc * 60 / 40" | bc -l); mh=$(echo "$mc * 60 / 20" | bc -l)
  echo "Mixed library to ALSA \`null\`: Loa plays 44.1 and 48 kHz MP3, 22.05 kHz WAV and 44.1 kHz FLAC (10 min each, all to 48 kHz);"
  echo "mpg123 plays the two MP3s at their own rates. CPU per hour of audio played; medians of $RUNS runs."
  echo
  echo "| case | loa CPU s/h | mpg123 CPU s/h | ratio loa/mpg123 | loa peak RSS KB | mpg123 peak RSS KB |"
  echo "|---|---|---|---|---|---|"
  printf '| mixed library | %.2f | %.2f | %.2f | %s | %s |\n' "$lh" "$mh" "$(echo "$lh / $mh" | bc -l)" "$lr" "$mr"
  echo
  echo "Commands: \`$LOA play t44.mp3 t48.mp3 m22.wav m44.flac --device null\`; \`mpg123 -q -o alsa -a null t44.mp3 t48.mp3\`."
  echo
  # Through the playout copies: the four files imported with `loa segment add` (one decode each: probe,
  # loudness, and the 48 kHz 16-bit WAV copy under audio/.playout/), then the copies played as the daemon
  # airs them. Import CPU is the four `segment add` runs together, each on a fresh station.
  imp=()
  for _ in $(seq "$RUNS"); do
    st="$work/station"; rm -rf "$st"; mkdir -p "$st/audio" "$st/schedules"
    printf 'station = "bench"\ndevice = "null"\n' > "$st/loa.toml"
    total=0
    for f in t44.mp3 t48.mp3 m22.wav m44.flac; do
      /usr/bin/time -f "%U %S %M" -o "$work/time" "$LOA" segment add "$work/$f" --title "$f" --config "$st/loa.toml" >/dev/null 2>&1
      read -r u s m < "$work/time"
      total=$(echo "$total + $u + $s" | bc -l)
    done
    imp+=("$(printf '%.2f' "$total")")
  done
  ic=$(printf '%s\n' "${imp[@]}" | median)
  copies=$(ls "$st"/audio/.playout/*.wav)
  copymb=$(du -cm $copies | tail -1 | cut -f1)
  # shellcheck disable=SC2086
  read -r cc cr < <(measure "$LOA" play $copies --device null)
  ch=$(echo "$cc * 60 / 40" | bc -l)
  echo "The same library through the playout copies: each file imported once with \`loa segment add\` (probe, loudness and"
  echo "the 48 kHz 16-bit WAV copy in one decode), then the four copies played as the daemon airs them. Medians of $RUNS runs."
  echo
  echo "| case | loa CPU s/h | mpg123 CPU s/h | ratio loa/mpg123 | loa peak RSS KB | mpg123 peak RSS KB |"
  echo "|---|---|---|---|---|---|"
  printf '| mixed library, playout copies | %.2f | %.2f | %.2f | %s | %s |\n' "$ch" "$mh" "$(echo "$ch / $mh" | bc -l)" "$cr" "$mr"
  printf '| mixed library, live (decode + resample at play) | %.2f | %.2f | %.2f | %s | %s |\n' "$lh" "$mh" "$(echo "$lh / $mh" | bc -l)" "$lr" "$mr"
  echo
  printf 'Import of the 40 minutes (four `loa segment add`): %.2f CPU s, i.e. %.2f CPU s per hour of audio imported; the copies take %s MB (%.1f MB per minute, stereo).\n' \
    "$ic" "$(echo "$ic * 60 / 40" | bc -l)" "$copymb" "$(echo "$copymb / 40" | bc -l)"
  echo
  echo "Commands: \`$LOA segment add FILE --title F --config station/loa.toml\` (×4, /usr/bin/time); \`$LOA play audio/.playout/*.wav --device null\`."
  echo
  # The daemon's own playout path, in real time through ALSA pulse: CPU between the first item's start and the
  # last one's end, beside mpg123 on the same device (the daemon skips the limiter's detection for items whose
  # measured true peak after gain is well under the ceiling, which `loa play` cannot know).
  echo "The daemon airing the mixed library (30 s per file) from its playout copies, real time, ALSA \`pulse\` (\`bench/daemon_cpu.py\`):"
  echo
  python3 bench/daemon_cpu.py "$LOA" "$work/daemon-cpu" "${DAEMON_SECONDS:-30}" "${DAEMON_RUNS:-3}"
  echo
  echo "The same, with the station's target at 0 LUFS so that every item needs the true-peak limiter in full:"
  echo
  TARGET_LUFS=0 python3 bench/daemon_cpu.py "$LOA" "$work/daemon-cpu-loud" "${DAEMON_SECONDS:-30}" "${DAEMON_RUNS:-3}"
  echo
  # Idle wake-ups: the daemon between slots (next slot an hour away), context switches of all its threads over 60 s.
  printf '[[slot]]\nid = "xa"\nstart = "%s"\nplay = ["t48.mp3"]\n' "$(TZ=Asia/Ho_Chi_Minh date -d '+1 hour' +%H:%M)" > "$st/schedules/a.toml"
  printf 'station = "bench"\ntimezone = "Asia/Ho_Chi_Minh"\ndevice = "null"\n' > "$st/loa.toml"
  "$LOA" daemon --config "$st/loa.toml" > "$work/idle.log" 2>&1 &
  dpid=$!
  sleep 5
  switches() { cat /proc/"$dpid"/task/*/status | awk '/ctxt_switches/ {n += $2} END {print n}'; }
  threads=$(ls /proc/"$dpid"/task | wc -l)
  w0=$(switches); sleep 60; w1=$(switches)
  kill -TERM "$dpid"; wait "$dpid" || true
  echo "Idle \`loa daemon\` (next slot an hour away, device \`null\`): $((w1 - w0)) context switches in 60 s over its $threads threads"
  echo "(voluntary + involuntary, summed from /proc/PID/task/*/status)."
  echo
  if [ -z "${NO_SOURCE:-}" ]; then
    # Sources decoded ahead (FileSource, on a thread of its own): a join 25 minutes into a 30-minute original, by seeking
    # and by decoding everything before, from the open to the first frame read (loa-bench source-join); and the CPU of
    # decoding the 44.1 kHz MP3 to 48 kHz through it, beside mpg123 decoding the same file to raw PCM on stdout.
    sox -n -r 44100 -c 2 -b 16 -t wav - synth 1800 pinknoise synth 1800 sine mix 440 vol 0.4 2>/dev/null \
      | lame --quiet -b 128 - "$work/long44.mp3"
    sox -n -r 48000 -c 2 -b 16 "$work/long48.wav" synth 1800 pinknoise synth 1800 sine mix 440 vol 0.4 2>/dev/null
    # join_ms FILE MODE: "median_open_ms median_first_frame_ms" over RUNS runs.
    join_ms() {
      local o=() f=()
      for _ in $(seq "$RUNS"); do
        read -r _ om fm < <("$BENCH" source-join "$1" 1500 "$2")
        o+=("$om"); f+=("$fm")
      done
      echo "$(printf '%s\n' "${o[@]}" | median) $(printf '%s\n' "${f[@]}" | median)"
    }
    echo "A join 25 minutes into a 30-minute item through \`FileSource\` (decoded ahead on its own thread): milliseconds from"
    echo "the open to the first frame readable, the file in the page cache; medians of $RUNS runs (\`loa-bench source-join FILE 1500 seek|skip\`)."
    echo
    echo "| file | open ms | first frame ms, seek | first frame ms, decode-and-skip | ratio |"
    echo "|---|---|---|---|---|"
    for f in long44.mp3 long48.wav; do
      read -r so sf < <(join_ms "$work/$f" seek)
      read -r _ kf < <(join_ms "$work/$f" skip)
      case $f in long44.mp3) name="44.1 kHz MP3, 128 kb/s (an original)";; *) name="48 kHz 16-bit WAV (a playout copy)";; esac
      printf '| %s | %.1f | %.1f | %.0f | %.0f× |\n' "$name" "$so" "$sf" "$kf" "$(echo "$kf / $sf" | bc -l)"
    done
    echo
    # The engine itself: a program handed over 25 minutes into its one 30-minute item, so that its state machine joins it
    # where the clock is; milliseconds from the hand-over to the first sample written (null output), beside mpg123
    # starting the same MP3 at the same point (-k: MPEG frames of 1152 samples skipped by its own seek) and decoding one frame.
    ej=() mj=()
    for _ in $(seq "$RUNS"); do
      read -r _ ms _ < <("$BENCH" engine-join "$work/long44.mp3" 1500)
      ej+=("$ms")
      t0=$(date +%s%N); mpg123 -q -k $((1500 * 44100 / 1152)) -n 1 -s "$work/long44.mp3" > /dev/null; t1=$(date +%s%N)
      mj+=("$(echo "($t1 - $t0) / 1000000" | bc -l)")
    done
    em=$(printf '%s\n' "${ej[@]}" | median); mm=$(printf '%s\n' "${mj[@]}" | median)
    printf 'The engine joining 25 minutes into the 30-minute MP3: %.1f ms from the decision to the first sample written (`loa-bench engine-join long44.mp3 1500`); `mpg123 -q -k 57421 -n 1 -s` (seek there and decode one frame, process start included) %.1f ms; ratio %.2f. Medians of %s runs.\n' \
      "$em" "$mm" "$(echo "$em / $mm" | bc -l)" "$RUNS"
    echo
    read -r fc fr < <(measure "$BENCH" source-decode "$work/t44.mp3")
    read -r dc dr < <(measure "$BENCH" source-decode "$work/t44.mp3" direct)
    read -r mc mr < <(measure mpg123 -q -s "$work/t44.mp3")
    read -r rc rr < <(measure mpg123 -q -r 48000 -s "$work/t44.mp3")
    echo "Ten minutes of 44.1 kHz 128 kb/s MP3 decoded to 48 kHz stereo float as fast as it goes; CPU = user + sys, medians of $RUNS runs."
    echo
    echo "| case | CPU s | ratio to \`mpg123 -s\` | peak RSS KB |"
    echo "|---|---|---|---|"
    printf '| `FileSource` (decode thread + ring, read by the caller) | %s | %.2f | %s |\n' "$fc" "$(echo "$fc / $mc" | bc -l)" "$fr"
    printf '| `SndFileDecoder` on the caller'"'"'s thread | %s | %.2f | %s |\n' "$dc" "$(echo "$dc / $mc" | bc -l)" "$dr"
    printf '| `mpg123 -q -s` (44.1 kHz s16 to a pipe, no resampling) | %s | 1.00 | %s |\n' "$mc" "$mr"
    printf '| `mpg123 -q -r 48000 -s` (its own resampler) | %s | %.2f | %s |\n' "$rc" "$(echo "$rc / $mc" | bc -l)" "$rr"
    echo
    echo "Commands: \`$BENCH source-decode t44.mp3 [direct]\`; \`mpg123 -q [-r 48000] -s t44.mp3 > /dev/null\`."
    echo
  fi
  if [ -z "${NO_ONSET:-}" ]; then
    echo "Onset: first sound minus slot second, from the recorded monitor of a private PulseAudio null sink (\`bench/onset.py\`)."
    echo
    python3 bench/onset.py "$LOA" "$work/onset"
    echo
  fi
  if [ -z "${NO_RELAY:-}" ]; then
    echo "Live relay (\`bench/relay.py\`): the release \`loa daemon\` relaying icecast2 + ffmpeg MP3 and live HLS AAC behind nginx"
    echo "(\`bench/upstreams.sh\`) through ALSA \`pulse\` into a private PulseAudio null sink, beside ffmpeg and Liquidsoap."
    echo
    BENCH="$BENCH" python3 bench/relay.py "$LOA" "$work/relay"
    echo
  fi
  if [ -z "${NO_FETCH:-}" ]; then
    echo "Feeds (\`bench/fetch.py\`): \`loa fetch\` of a 500 MB feed from nginx on 127.0.0.1 against curl, peak RSS, polling cost."
    echo
    python3 bench/fetch.py "$LOA" "$work/fetch" 3
    echo
  fi
  if [ -z "${NO_EXPORT:-}" ]; then
    echo "The log as evidence (\`bench/export.py\`): a million airings made by \`loa simulate\`, reported, exported and verified, against \`sqlite3 -csv\`."
    echo
    python3 bench/export.py "$LOA" "$work/export" 1000000 3
    echo
  fi
  if [ -n "${AUDIO_ONLY:-}" ]; then exit 0; fi
  # The airing log: one airing = INSERT a started row, then UPDATE it to completed, each its own
  # transaction, WAL + synchronous=FULL, on this machine's disk. Peer: the sqlite3 shell running the
  # same statements against the same schema with the same pragmas.
  N=${N:-300}
  # ours MEASURE: the mean µs loa-bench prints for MEASURE, once per run, on a fresh database.
  ours() {
    for _ in $(seq "$RUNS"); do
      rm -f "$work/b.sqlite"*
      "$BENCH" "$work/b.sqlite" "$N" | awk -v m="$1" '$1 == m {print $5}'
    done
  }
  # peer SQLFILE: µs per statement pair of the sqlite3 shell running SQLFILE on a WAL database with loa's schema, once
  # per run (the schema is taken from the database the last `ours` made).
  peer() {
    for _ in $(seq "$RUNS"); do
      rm -f "$work/p.sqlite"*
      sqlite3 "$work/p.sqlite" "PRAGMA journal_mode=WAL;" >/dev/null
      sqlite3 "$work/b.sqlite" .schema | grep -v sqlite_sequence | sqlite3 "$work/p.sqlite"
      start=$(date +%s%N)
      sqlite3 "$work/p.sqlite" < "$1"
      end=$(date +%s%N)
      echo "($end - $start) / 1000 / $N" | bc -l
    done
  }
  {
    echo "PRAGMA synchronous=FULL;"
    for i in $(seq "$N"); do
      echo "INSERT INTO airing (slot, slot_starts_at, segment_id, title, pillar, campaign, path, scheduled_at, started_at, aired_seconds, outcome, device) VALUES ('asean-toi', $i, 'rcep', 'RCEP và nông sản Việt', 'kinh-te', 'HNCC ASEAN 37', 'asean/kinh-te.mp3', $i, $i, 0, 'started', 'default');"
      echo "UPDATE airing SET outcome='completed', ended_at=$i+60, aired_seconds=60, reason=NULL, xruns=0 WHERE id=last_insert_rowid();"
    done
  } > "$work/p.sql"
  om=$(ours airing_two_phase_write | median)
  tm=$(peer "$work/p.sql" | median)
  echo "One airing logged (two-phase: insert started + finish), WAL, synchronous=FULL, $N airings; per-airing mean (total time / $N), median of $RUNS runs."
  echo
  echo "| measure | loa µs | sqlite3 shell µs | ratio loa/sqlite3 |"
  echo "|---|---|---|---|"
  printf '| two-phase airing write | %.0f | %.0f | %.2f |\n' "$om" "$tm" "$(echo "$om / $tm" | bc -l)"
  echo
  # Progress, every second of every airing: one UPDATE of aired_seconds, committed with synchronous=NORMAL (no fsync
  # of its own). Peers: the sqlite3 shell doing the same UPDATEs with NORMAL, and with FULL (what each would cost
  # if it were synced).
  for mode in NORMAL FULL; do
    {
      echo "PRAGMA synchronous=$mode;"
      echo "INSERT INTO airing (slot, slot_starts_at, segment_id, title, path, scheduled_at, started_at, aired_seconds, outcome, device) VALUES ('asean-toi', 0, 'rcep', 'RCEP', 'a.mp3', 0, 0, 0, 'started', 'default');"
      for i in $(seq "$N"); do echo "UPDATE airing SET aired_seconds=$i WHERE id=1 AND outcome='started';"; done
    } > "$work/q-$mode.sql"
  done
  om=$(ours airing_progress_write | median)
  nm=$(peer "$work/q-NORMAL.sql" | median)
  fm=$(peer "$work/q-FULL.sql" | median)
  echo "An airing's progress (every second while it airs): one UPDATE, $N of them; per-write mean, median of $RUNS runs."
  echo
  echo "| measure | loa µs | sqlite3 NORMAL µs | ratio loa/sqlite3 NORMAL | sqlite3 FULL µs |"
  echo "|---|---|---|---|---|"
  printf '| progress write | %.0f | %.0f | %.2f | %.0f |\n' "$om" "$nm" "$(echo "$om / $nm" | bc -l)" "$fm"
  echo
  # The segment library (a GRDB record, read by column position through kept statements): 2,000 segments added one at a
  # time, each its own transaction at synchronous=FULL, then the whole library read 50 times and each looked up by its
  # SHA-256. Peer: the sqlite3 shell doing the same on the same schema, the library read written to /dev/null.
  library() {
    for _ in $(seq "$RUNS"); do
      rm -f "$work/e.sqlite"*
      "$BENCH" "$work/e.sqlite" 1 | awk '$1 ~ /^segment_/ {print $1, $5}'
    done
  }
  library > "$work/lib.txt"
  la=$(awk '$1 == "segment_add" {print $2}' "$work/lib.txt" | median)
  lr=$(awk '$1 == "segment_library_read_2000" {print $2}' "$work/lib.txt" | median)
  ll=$(awk '$1 == "segment_by_sha256" {print $2}' "$work/lib.txt" | median)
  {
    echo "PRAGMA synchronous=FULL;"
    for i in $(seq 0 1999); do
      echo "INSERT INTO segment (id, title, pillar, campaign, path, duration_seconds, format, sample_rate, channels, sha256, imported_at, loudness_lufs, true_peak_dbtp, playout_path) VALUES ('ban-tin-$i', 'Bản tin $i — Hội nghị Cấp cao ASEAN 37', 'kinh-te', 'HNCC ASEAN 37', 'asean/ban-tin-$i.mp3', 180, 'MPEG/MPEG_LAYER_III', 44100, 2, 'sha-$i', $i, -18, -1.5, '.playout/$i.wav');"
    done
  } > "$work/lib-add.sql"
  for i in $(seq 50); do echo "SELECT * FROM segment WHERE removed_at IS NULL ORDER BY id;"; done > "$work/lib-read.sql"
  for i in $(seq 0 1999); do echo "SELECT * FROM segment WHERE sha256 = 'sha-$i' AND removed_at IS NULL;"; done > "$work/lib-find.sql"
  # peer_library SQLFILE COUNT: µs per statement of the sqlite3 shell running SQLFILE on the library of the last peer run.
  peer_library() {
    for _ in $(seq "$RUNS"); do
      [ "$1" = "$work/lib-add.sql" ] && { rm -f "$work/l.sqlite"*; sqlite3 "$work/l.sqlite" "PRAGMA journal_mode=WAL;" >/dev/null
        sqlite3 "$work/b.sqlite" .schema | grep -v sqlite_sequence | sqlite3 "$work/l.sqlite"; }
      start=$(date +%s%N)
      sqlite3 "$work/l.sqlite" < "$1" > /dev/null
      end=$(date +%s%N)
      echo "($end - $start) / 1000 / $2" | bc -l
    done
  }
  pa=$(peer_library "$work/lib-add.sql" 2000 | median)
  pr=$(peer_library "$work/lib-read.sql" 50 | median)
  pl=$(peer_library "$work/lib-find.sql" 2000 | median)
  echo "The segment library, 2,000 segments: each added in its own transaction (synchronous=FULL), the whole library read, each looked up by SHA-256; mean µs, median of $RUNS runs."
  echo
  echo "| measure | loa µs | sqlite3 shell µs | ratio loa/sqlite3 |"
  echo "|---|---|---|---|"
  printf '| add a segment | %.0f | %.0f | %.2f |\n' "$la" "$pa" "$(echo "$la / $pa" | bc -l)"
  printf '| read the library (2,000) | %.0f | %.0f | %.2f |\n' "$lr" "$pr" "$(echo "$lr / $pr" | bc -l)"
  printf '| look up by SHA-256 | %.0f | %.0f | %.2f |\n' "$ll" "$pl" "$(echo "$ll / $pl" | bc -l)"
  echo
  read -r _ pm pp _ _ < <("$BENCH" "$work/c.sqlite" 1 | grep planner_day)
  printf 'Planner, one day of 12 pick slots over a 300-segment library (no peer: pure Swift): median %.0f µs, p95 %.0f µs over 365 days.\n' "$pm" "$pp"
  echo
  read -r _ sb sw < <("$BENCH" "$work/d.sqlite" 1 | grep spool_bytes_one_day)
  printf 'Held-writes spool, one day of two slots (jingle, three 3-minute bulletins, jingle) held whole: %s bytes in %s writes; the 8 MiB reserve holds %s such days.\n' "$sb" "$sw" "$((8388608 / sb))"
} | tee bench/latest.md
