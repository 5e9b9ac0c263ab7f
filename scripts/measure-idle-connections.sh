#!/usr/bin/env bash
# Idle-connection memory of the gateway: starts launcher/target/estafeta (feature minimal: the core and smtpd,
# no web console) on a temporary configuration, opens N SMTP connections that read the 220 greeting and then
# say nothing, and compares the JVM before and after (both after a full GC): heap used (jcmd GC.heap_info),
# VmRSS and threads (/proc/PID/status). Prints the per-connection cost.
#
#   scripts/measure-idle-connections.sh [N]          # default N=5000
#
# Env: PORT (default 27925), FEATURE (minimal), JAVA_OPTS (passed to the gateway). Needs the distribution
# (mvn -o -pl launcher install, or ./estafeta once) and python3. Raises the open-files limit for itself, the
# gateway and the client (N connections need N descriptors on each side).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-5000}
PORT=${PORT:-27925}
FEATURE=${FEATURE:-minimal}
BIN=launcher/target/estafeta/bin/estafeta
[ -x "$BIN" ] || { echo "no distribution at $BIN: run mvn -o -pl launcher install first" >&2; exit 1; }
ulimit -n $(( N * 2 + 2048 )) 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt "$(( N + 512 ))" ] || { echo "open-files limit $(ulimit -n) is too low for N=$N" >&2; exit 1; }

TMP=$(mktemp -d /tmp/estafeta-idle.XXXXXX)
CLIENT_PID=
cleanup() {
    [ -n "$CLIENT_PID" ] && kill "$CLIENT_PID" 2>/dev/null || true
    ESTAFETA_VAR=$TMP/var "$BIN" -c "$TMP/conf" stop >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$TMP/conf" "$TMP/var"
cat > "$TMP/conf/main.cf" <<CF
compatibility_level = 3.6
inet_interfaces = loopback-only
mynetworks = 127.0.0.0/8
# idle clients must not be timed out or refused while the measurement runs
smtpd_timeout = 3600s
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
CF
# maxproc: all N sessions at once (beyond maxproc, clients wait in the listen queue, as with Postfix)
echo "127.0.0.1:$PORT inet n - n - $(( N + 100 )) smtpd" > "$TMP/conf/master.cf"

export ESTAFETA_VAR=$TMP/var
"$BIN" -c "$TMP/conf" -f "$FEATURE" start >/dev/null
PID=$(tr -d ' \n' < "$TMP/var/spool/pid/master.pid")

sample() {   # heap_used_kb rss_kb threads, after a full GC
    jcmd "$PID" GC.run >/dev/null
    sleep 1
    local heap rss threads
    heap=$(jcmd "$PID" GC.heap_info | sed -n 's/.*total [0-9]*K, used \([0-9]*\)K.*/\1/p' | head -1)
    rss=$(awk '/^VmRSS:/ {print $2}' /proc/"$PID"/status)
    threads=$(awk '/^Threads:/ {print $2}' /proc/"$PID"/status)
    echo "$heap $rss $threads"
}

# warm-up: a few sessions, so that lazily created parts (event loops, buffer pools) count in the baseline
python3 - "$PORT" <<'PY'
import socket, sys
for _ in range(20):
    s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10)
    s.recv(512); s.sendall(b'QUIT\r\n'); s.recv(512); s.close()
PY
sleep 2
read -r H0 R0 T0 < <(sample)

python3 - "$PORT" "$N" "$TMP/ready" <<'PY' &
import socket, sys, time
port, n, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks = []
for i in range(n):
    s = socket.socket()
    s.bind(('127.0.0.%d' % (2 + i % 50), 0))   # spread over source addresses: no ephemeral-port shortage
    s.settimeout(30)
    s.connect(('127.0.0.1', port))
    socks.append(s)
for s in socks:                                  # every session got its greeting: it is established and idle
    if not s.recv(512).startswith(b'220'):
        sys.exit('no 220 greeting')
open(ready, 'w').write('%d\n' % len(socks))
time.sleep(3600)
PY
CLIENT_PID=$!
for _ in $(seq 600); do [ -f "$TMP/ready" ] && break; kill -0 "$CLIENT_PID" 2>/dev/null || { echo "client failed" >&2; exit 1; }; sleep 0.5; done
[ -f "$TMP/ready" ] || { echo "client did not open $N connections in time" >&2; exit 1; }
sleep 2
read -r H1 R1 T1 < <(sample)
ESTABLISHED=$(ss -Htn state established "( sport = :$PORT )" | wc -l)

echo "date: $(date -u +%FT%TZ)  java: $(java -version 2>&1 | head -1)  feature: $FEATURE  cores: $(nproc)"
echo "connections: $N (established on the server side: $ESTABLISHED)"
printf '%-10s %12s %12s %8s\n' "" "heap_used_kb" "rss_kb" "threads"
printf '%-10s %12s %12s %8s\n' before "$H0" "$R0" "$T0"
printf '%-10s %12s %12s %8s\n' after "$H1" "$R1" "$T1"
awk -v n="$N" -v h0="$H0" -v h1="$H1" -v r0="$R0" -v r1="$R1" 'BEGIN {
    printf "per connection: heap %.2f KiB, RSS %.2f KiB\n", (h1 - h0) / n, (r1 - r0) / n }'
