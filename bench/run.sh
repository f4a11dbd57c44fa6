#!/usr/bin/env bash
# Loa benchmarks: CPU and peak memory to play ten minutes of 128 kb/s MP3 to the ALSA `null` device
# (no pacing, so this is pure decode/convert/output cost), against mpg123 doing the same in the same run.
# Medians of RUNS runs. Writes a Markdown table to stdout and to bench/latest.md.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
LOA=${LOA:-.build/release/loa}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sox -n -r 44100 -c 2 "$work/t44.wav" synth 600 sine 440 vol 0.5
sox -n -r 48000 -c 2 "$work/t48.wav" synth 600 sine 440 vol 0.5
lame --quiet -b 128 "$work/t44.wav" "$work/t44.mp3"
lame --quiet -b 128 "$work/t48.wav" "$work/t48.mp3"

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
  c=$(printf '%s\n' "${cpu[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  r=$(printf '%s\n' "${rss[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
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
} | tee bench/latest.md
