#!/usr/bin/env bash
# Real upstreams for the relay benchmarks, on 127.0.0.1: icecast2 fed by an ffmpeg MP3 source (128 kb/s, 440 Hz) and
# a live HLS AAC stream (ffmpeg's HLS muxer, 2 s segments, 880 Hz) behind nginx. They are the tests' own fixtures
# (Tests/LoaTestSupport/UpstreamServers.swift), run by `loa-bench upstreams`.
#   upstreams.sh start DIR [SECONDS]  starts them for SECONDS of stream (default 7200) and prints, once both are served,
#                                     ICECAST_MP3_URL=http://… and HLS_URL=http://… (also in DIR/urls, for `source`)
#   upstreams.sh stop DIR             stops them
# SIGUSR1 to the pid in DIR/pid kills the Icecast MP3 source, SIGUSR2 restarts it; each appends `killed|restarted|live
# EPOCH_SECONDS` to DIR/events once done (bench/relay.py times the relay's return from them).
set -euo pipefail
BENCH=${BENCH:-.build/release/loa-bench}
action=${1:-}
dir=$(realpath -m "${2:?usage: upstreams.sh start|stop DIR [SECONDS]}")

stop() {
    [ -f "$dir/pid" ] || return 0
    local pid
    pid=$(cat "$dir/pid")
    rm -f "$dir/pid"
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    echo "upstreams.sh: loa-bench upstreams ($pid) did not stop in 10 s" >&2
    return 1
}

case "$action" in
start)
    stop
    rm -rf "$dir"
    mkdir -p "$dir"
    "$BENCH" upstreams "$dir" "${3:-7200}" < /dev/null > "$dir/log" 2>&1 &
    echo $! > "$dir/pid"
    for _ in $(seq 300); do
        if [ -f "$dir/urls" ]; then cat "$dir/urls"; exit 0; fi
        kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
        sleep 0.1
    done
    echo "upstreams.sh: the upstreams did not start:" >&2
    cat "$dir/log" >&2
    stop
    exit 1
    ;;
stop)
    stop
    ;;
*)
    echo "usage: upstreams.sh start|stop DIR [SECONDS]" >&2
    exit 2
    ;;
esac
