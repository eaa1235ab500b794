#!/usr/bin/env bash
# measure.sh OUTFILE TIMEOUT_S CMD [ARG...]
# Runs CMD under `timeout` and `/usr/bin/time -f "%e %M %U %S"` and writes one
# line to OUTFILE: "wall_s maxrss_kib user_s sys_s rc". wall_s is taken with
# bash's EPOCHREALTIME around the timed command (microsecond resolution;
# /usr/bin/time's %e only has 10 ms); RSS and CPU come from /usr/bin/time.
# Used by scripts/bench/issue.sh; exec'd inside `unshare -m` for uacme so the
# namespace set-up is not timed.
set -u
out=$1 limit=$2
shift 2
tfile="$out.time"
start=$EPOCHREALTIME
/usr/bin/time -f "%e %M %U %S" -o "$tfile" timeout -k 5 "$limit" "$@"
rc=$?
end=$EPOCHREALTIME
# On a non-zero exit, time(1) writes "Command exited with non-zero status N"
# before the figures: keep the last line only.
line=$(tail -n 1 "$tfile" 2>/dev/null)
read -r _ rss usr sys <<<"$line"
wall=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.4f", e - s }')
printf '%s %s %s %s %s\n' "$wall" "${rss:-0}" "${usr:-0}" "${sys:-0}" "$rc" >"$out"
exit "$rc"
