#!/usr/bin/env bash
# The .deb the packaging test installs, built beside `make test` under SCHED_IDLE (see the Makefile).
#   deb-for-tests.sh start DIR   stops a build a previous run left, then starts one in DIR (DIR/status when it ends)
#   deb-for-tests.sh stop DIR    stops the build if it is still running
set -euo pipefail
action=$1
dir=$(realpath -m "$2")

# The build's processes: make, SwiftPM and the compilers, which put themselves in process groups of their own.
tree() {
    echo "$1"
    local child
    for child in $(pgrep -P "$1" || true); do tree "$child"; done
}

stop() {
    [ -f "$dir/pid" ] || return 0
    local root pids
    root=$(cat "$dir/pid")
    rm -f "$dir/pid"
    # Frozen first, twice, so that nothing spawns a child between the listing and the kill.
    for _ in 1 2; do
        pids=$(tree "$root")
        kill -STOP $pids 2>/dev/null || true
    done
    kill -KILL $(tree "$root") 2>/dev/null || true
}

case "$action" in
start)
    stop
    rm -rf "$dir"
    mkdir -p "$dir"
    # Not in a session of its own (setsid): with the kernel's autogroups a new session is a new scheduling group,
    # which gets its fair half of the CPU whatever its tasks' policy. The status is written under another name and
    # renamed, so a reader never sees it half written.
    bash -c 'chrt --idle 0 make --no-print-directory deb SCRATCH=.build-deb DIST="$1/dist" > "$1/make.log" 2>&1
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
