#!/usr/bin/env bash
# The .deb the packaging test installs, built beside `make test` under SCHED_IDLE (see the Makefile).
#   deb-for-tests.sh start DIR   stops a build a previous run left, then starts one in DIR (DIR/status when it ends)
#   deb-for-tests.sh stop DIR    stops the build if it is still running
set -euo pipefail
action=$1
dir=$(realpath -m "$2")

stop() {
    # The build runs in a session of its own: its process group takes make, SwiftPM and the compilers with it.
    if [ -f "$dir/pid" ]; then
        kill -- "-$(cat "$dir/pid")" 2>/dev/null || true
        rm -f "$dir/pid"
    fi
}

case "$action" in
start)
    stop
    rm -rf "$dir"
    mkdir -p "$dir"
    # The status is written under another name and renamed, so a reader never sees it half written; a build that a
    # later run stopped never writes one into that run's folder, which was made anew.
    setsid bash -c 'chrt --idle 0 make --no-print-directory deb SCRATCH=.build-deb DIST="$1/dist" > "$1/make.log" 2>&1
                    echo $? > "$1/status.tmp" && mv "$1/status.tmp" "$1/status"' _ "$dir" < /dev/null > /dev/null 2>&1 &
    echo $! > "$dir/pid"
    ;;
stop)
    stop
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
