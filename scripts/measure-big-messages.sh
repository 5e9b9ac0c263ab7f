#!/usr/bin/env bash
# Memory of the gateway while SESSIONS clients each send one SIZE-byte message at the same time (issue 4: 20 x
# 100 MB), relayed on to Postfix's smtp-sink. Starts launcher/target/estafeta (feature minimal) on a temporary
# configuration, samples the JVM's VmRSS and VmHWM (/proc/PID/status) every 0.2 s while Postfix's smtp-source
# sends, and prints: the peak RSS, the peak RSS growth over the idle gateway, and the heap limit.
#
#   scripts/measure-big-messages.sh [SESSIONS=20] [SIZE=104857600]
#
# Env: PORT (27935), SINK_PORT (27936), JAVA_OPTS (passed to the gateway). Needs the distribution and Debian's
# postfix package (smtp-source, smtp-sink); the queue is under /var/tmp (the messages are written to disk).
set -euo pipefail
cd "$(dirname "$0")/.."
SESSIONS=${1:-20}
SIZE=${2:-104857600}
PORT=${PORT:-27935}
SINK_PORT=${SINK_PORT:-27936}
BIN=launcher/target/estafeta/bin/estafeta
[ -x "$BIN" ] || { echo "no distribution at $BIN: run ./estafeta once" >&2; exit 1; }
TMP=$(mktemp -d /var/tmp/estafeta-big.XXXXXX)
SINK=
cleanup() {
    [ -n "$SINK" ] && kill "$SINK" 2>/dev/null || true
    ESTAFETA_VAR=$TMP/var "$BIN" -c "$TMP/conf" stop >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$TMP/conf" "$TMP/var"
cat > "$TMP/conf/main.cf" <<CF
compatibility_level = 3.6
inet_interfaces = loopback-only
mynetworks = 127.0.0.0/8
mydestination =
relayhost = [127.0.0.1]:$SINK_PORT
message_size_limit = 0
CF
cat > "$TMP/conf/master.cf" <<CF
127.0.0.1:$PORT inet n - n - - smtpd
qmgr      unix  n       -       n       300     1       qmgr
smtp      unix  -       -       n       -       -       smtp
CF
/usr/sbin/smtp-sink -u nobody "127.0.0.1:$SINK_PORT" 256 >/dev/null 2>&1 &
SINK=$!
ESTAFETA_VAR=$TMP/var "$BIN" -c "$TMP/conf" -f minimal start >/dev/null
PID=$(cat "$TMP/var/spool/pid/master.pid" | tr -d ' ')
rss() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status"; }
IDLE=$(rss)
PEAK=$IDLE
START=$(date +%s.%N)
/usr/sbin/smtp-source -c -m "$SESSIONS" -s "$SESSIONS" -l "$SIZE" -f sender@example.com -t rcpt@example.net \
    "127.0.0.1:$PORT" >/dev/null &
SRC=$!
while kill -0 "$SRC" 2>/dev/null; do
    r=$(rss); (( r > PEAK )) && PEAK=$r
    sleep 0.2
done
wait "$SRC"
# until the queue is empty (the messages went on to the sink)
while [ -n "$(find "$TMP/var/spool/incoming" "$TMP/var/spool/active" -type f 2>/dev/null | head -1)" ]; do
    r=$(rss); (( r > PEAK )) && PEAK=$r
    sleep 0.2
done
END=$(date +%s.%N)
HEAP=$(java -XX:+PrintFlagsFinal -version 2>/dev/null | awk '/ MaxHeapSize / {printf "%d", $4/1048576}')
SENT=$(grep -c 'status=sent' "$TMP/var/log/maillog" || true)
printf 'sessions=%s size=%s delivered=%s seconds=%.1f idle_rss_kb=%s peak_rss_kb=%s growth_kb=%s default_max_heap_mb=%s\n' \
    "$SESSIONS" "$SIZE" "$SENT" "$(echo "$END - $START" | bc)" "$IDLE" "$PEAK" "$((PEAK - IDLE))" "$HEAP"
