#!/usr/bin/env bash
# Two builds of loa fetching the same feed in alternation, curl first each round, in the same run: what a change
# to the fetch path does, measured against the machine's noise. The feed and nginx are bench/fetch.py's: run it
# once with WORK first (it publishes the 524 MB feed under WORK/www and leaves WORK/huyen.pub).
# Usage: bench/fetch_ab.sh LOA_BEFORE LOA_AFTER WORK [ROUNDS]. Prints one line per round: curl, before, after (s),
# the transfer times from each `loa fetch`'s own rate line.
set -euo pipefail
BEFORE=$1 AFTER=$2 WORK=$3 ROUNDS=${4:-6}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$WORK/tmp" "$WORK/ab"
cat > "$WORK/ab/nginx.conf" <<C
daemon off; pid $WORK/ab/nginx.pid; error_log $WORK/ab/error.log; $( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes 1; events { worker_connections 64; }
http { access_log off; client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
  uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp; server { listen 127.0.0.1:$PORT; root $WORK/www; } }
C
nginx -c "$WORK/ab/nginx.conf" -p "$WORK/ab" & NGINX=$!
trap 'kill $NGINX 2>/dev/null || true' EXIT
sleep 0.5
station="$WORK/ab/station"
names=$(cd "$WORK/www/big" && ls ./*.wav)
for _ in $(seq "$ROUNDS"); do
  rm -rf "$WORK/ab/curl-out"; mkdir "$WORK/ab/curl-out"
  args=(); for n in $names; do args+=(-o "$WORK/ab/curl-out/$n" "http://127.0.0.1:$PORT/big/$n"); done
  sync; s=$(date +%s.%N); curl -s -f "${args[@]}"; e=$(date +%s.%N)
  line="curl $(echo "$e - $s" | bc)"
  for build in "$BEFORE" "$AFTER"; do
    rm -rf "$station"; mkdir -p "$station/schedules"
    printf 'station = "bench"\ndevice = "null"\n[[feed]]\nname = "big"\nurl = "http://127.0.0.1:%s/big/"\npublic_keys = ["%s"]\n' \
      "$PORT" "$(cat "$WORK/huyen.pub")" > "$station/loa.toml"
    sync
    rate=$("$build" fetch --config "$station/loa.toml" | grep -o '([0-9,]* MB/s)' | tr -d '(MB/s )' | tr , .)
    line="$line $(echo "scale=3; 524.2 / $rate" | bc)"
  done
  echo "$line"
done
