#!/usr/bin/env bash
# bench-relay.sh [REPS=3]: the shared relay benchmark (../shared/bench, or $BENCH) with Estafeta beside a private
# Postfix 3.7, in one run (A B A B ..., medians and ratios). Needs root (Postfix) and the built distribution
# (./estafeta builds it). Estafeta runs the benchmark's own estafeta-main.cf and estafeta-master.cf, plus what a
# Postfix master.cf always has and the benchmark's Estafeta files lack: the qmgr and smtp entries (without them
# nothing would be delivered), and compatibility_level = 3.7 as in the Postfix side's pf-main.cf (without it the
# relay restrictions are empty and smtpd refuses to start, as Postfix would).
# Results: one line per run in $OUT (default /tmp/bench-results/matrix-*.txt), medians printed at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${BENCH:-$(cd "$ROOT/../shared/bench" 2>/dev/null && pwd || true)}
[ -x "$BENCH/relay-bench.sh" ] || { echo "bench-relay.sh: no relay benchmark in '$BENCH' (set BENCH=dir)" >&2; exit 1; }
REPS=${1:-3}
CONF=/tmp/estafeta-bench/conf
VAR=/tmp/estafeta-bench/var
rm -rf /tmp/estafeta-bench
mkdir -p "$CONF" "$VAR"
{ echo "compatibility_level = 3.7"; cat "$BENCH/conf/estafeta-main.cf"; } > "$CONF/main.cf"
{ cat "$BENCH/conf/estafeta-master.cf"
  echo "qmgr      unix  n       -       n       300     1       qmgr"
  echo "smtp      unix  -       -       n       -       -       smtp"; } > "$CONF/master.cf"

"$BENCH/setup.sh"
"$BENCH/postfix-up.sh"
export ESTAFETA_VAR=$VAR
"$ROOT/estafeta" -c "$CONF" -f minimal start
stop_all() {
  "$ROOT/estafeta" -c "$CONF" -f minimal stop || true
  "$BENCH/postfix-down.sh" || true
  "$BENCH/sink.sh" stop || true
}
trap stop_all EXIT
TARGETS="postfix:24025 estafeta:24030" "$BENCH/run-matrix.sh" "$REPS"
