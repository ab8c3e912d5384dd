#!/usr/bin/env bash
# `make bench`: how close GET /api/v1/events comes to what PostgreSQL can do
# with the same SQL, and what 1,000 idle keep-alive clients cost in memory.
#
#   1. a private PostgreSQL cluster in a fresh temp dir, migrated; an admin
#      token; a public list of ten published upcoming events seeded through
#      the HTTP API (plus a draft and a members-only event it must hide);
#   2. baseline: pgbench runs the daemon's own statement for the list
#      (SQL_EVENT_LIST in server/db.c) against the same database, before and
#      after the HTTP runs (their mean is the baseline);
#   3. wrk on the daemon for each pool size in BENCH_POOLS;
#   4. VmRSS of a fresh daemon (the best pool size) before and while it holds
#      1,000 idle keep-alive connections.
# Exits 0 whether or not the targets are met; non-zero only when the bench
# itself cannot run. Loopback only; about 90 seconds.
#
# Environment: ROLLCALLD (default build/rollcalld), BENCH_POOLS ("4 8 16 32"),
# BENCH_SECS (8), BENCH_CONNS (64), BENCH_IDLE (1000).
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${ROLLCALLD:-build/rollcalld}
POOLS=${BENCH_POOLS:-4 8 16 32}
SECS=${BENCH_SECS:-8}
CONNS=${BENCH_CONNS:-64}
IDLE=${BENCH_IDLE:-1000}
RATIO_TARGET=0.6
RSS_TARGET_MB=64
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
HELPER=(env -u PYTHONPATH "$PY" tests/bench/helper.py)

for c in wrk pgbench psql; do
	command -v "$c" >/dev/null || { echo "bench: $c is missing (deploy/dev/deps.sh bench)" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "bench: $BIN is missing (make all)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 4096 2>/dev/null || true

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rollcall-bench.XXXXXX")
chmod 0755 "$tmp"
daemon_pid=""
anomalies=()

note() { printf '%s\n' "$*"; }
anomaly() { anomalies+=("$*"); note "ANOMALY: $*"; }

stop_daemon() {
	[ -n "$daemon_pid" ] || return 0
	local pid=$daemon_pid rc=0 i
	daemon_pid=""
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			anomaly "daemon (pid $pid) still running 10 s after SIGTERM; killed"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	wait "$pid" 2>/dev/null || rc=$?
	return "$rc"
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_daemon >/dev/null 2>&1 || true
	deploy/dev/pg.sh stop "$tmp/pg" >/dev/null 2>&1 || true
	rm -rf "$tmp" 2>/dev/null || true
	# The cluster may live outside DIR (pg.sh's fallback for unreachable
	# dirs); pg.sh made DIR/cluster a symlink to it then.
	[ -n "${pg_real:-}" ] && [ "$pg_real" != "$tmp/pg/cluster" ] &&
		case $pg_real in /tmp/rollcall-pg.*) rm -rf "$pg_real" ;; esac
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_daemon POOL LOGNAME: serve on a free loopback port; sets base.
start_daemon() {
	local pool=$1 log=$tmp/$2.log port try
	for try in 1 2 3; do
		port=$("${HELPER[@]}" freeport)
		"$BIN" serve --db "$conn" --listen "127.0.0.1:$port" \
			--rate-limit 0 --pool "$pool" >"$log" 2>&1 &
		daemon_pid=$!
		base=http://127.0.0.1:$port
		if "${HELPER[@]}" wait "$base" "$pool" 20; then
			return 0
		fi
		if kill -0 "$daemon_pid" 2>/dev/null; then
			tail -n 20 "$log" >&2
			stop_daemon || true
			return 1
		fi
		wait "$daemon_pid" 2>/dev/null || true
		daemon_pid=""
		grep -q "cannot listen" "$log" || { tail -n 20 "$log" >&2; return 1; }
	done
	return 1
}

vm() {	# vm PID FIELD: kB
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

t_start=$(date +%s)
note "== rollcall bench ($(nproc) CPUs, $(uname -r), $BIN)"

# --- 1. database, schema, token, seed ---------------------------------------
conn=$(deploy/dev/pg.sh start "$tmp/pg" rollcall_bench)
pg_real=$(readlink -f "$tmp/pg/cluster")
note "database: $conn"
"$BIN" migrate --db "$conn" >"$tmp/migrate.log" 2>&1 ||
	{ cat "$tmp/migrate.log" >&2; exit 1; }
token=$("$BIN" token --role admin --name bench --ttl 1h --db "$conn")

start_daemon 4 seed || { echo "bench: the daemon did not come up" >&2; exit 1; }
nlisted=$("${HELPER[@]}" seed "$base" "$token")
stop_daemon || anomaly "daemon exited with status $? after seeding"
# Sponsors have no endpoint yet; the list embeds them, so add a few.
psql -q -X -v ON_ERROR_STOP=1 "$conn" >/dev/null <<'SQL'
INSERT INTO sponsors (event_id, name)
SELECT id, s FROM events, unnest(ARRAY['CloudCo', 'DataBase Inc.', 'NetWorks Ltd.']) s
WHERE kind = 'community_day';
VACUUM ANALYZE;
SQL
note "seeded: $nlisted public events (plus a draft and a members-only one), $(psql -X -tAc 'SELECT count(*) FROM sponsors' "$conn") sponsors"

# --- 2. baseline: the daemon's statement in pgbench -------------------------
# The daemon's sessions run with these settings (conn_start in server/db.c).
export PGOPTIONS="-c statement_timeout=5000 -c TimeZone=UTC"
sql=$(printf '%s' 'SELECT rc_event_list(NULL, NULL)::text;')
printf '%s\n' "$sql" >"$tmp/event_list.sql"

run_pgbench() {	# run_pgbench LABEL: sets pg_tps_out
	local out failed
	pg_tps_out=0
	timeout $((SECS + 60)) pgbench -n -M prepared -f "$tmp/event_list.sql" \
		-c 1 -j 1 -T 1 "$conn" >/dev/null 2>&1 || true	# warm up
	out=$(timeout $((SECS + 60)) pgbench -n -M prepared -f "$tmp/event_list.sql" \
		-c "$CONNS" -j $(( CONNS < 2 ? CONNS : 2 )) -T "$SECS" "$conn" 2>&1) ||
		{ printf '%s\n' "$out" >&2; echo "bench: pgbench failed" >&2; exit 1; }
	printf '%s\n' "$out" >"$tmp/pgbench-$1.txt"
	pg_tps_out=$(awk '/^tps = / { print $3; exit }' <<<"$out")
	failed=$(awk '/number of failed transactions:/ { print $5; exit }' <<<"$out")
	[ -z "$failed" ] || [ "$failed" = 0 ] || anomaly "pgbench ($1): $failed failed transactions"
	note "pgbench ($1): $(printf '%.0f' "$pg_tps_out") tps, latency avg $(awk '/^latency average/ { print $4 " " $5; exit }' <<<"$out")"
}

note ""
note "== baseline: pgbench -n -M prepared -c $CONNS -j 2 -T $SECS: $sql"
run_pgbench before
pg_tps1=$pg_tps_out

# --- 3. the daemon, per pool size --------------------------------------------
note ""
note "== daemon: wrk -t2 -c$CONNS -d${SECS}s /api/v1/events, pool sizes: $POOLS"
declare -A rps lat50 lat99 hwm
checked_body=0
for pool in $POOLS; do
	start_daemon "$pool" "serve-pool$pool" ||
		{ anomaly "pool $pool: the daemon did not come up"; continue; }
	url=$base/api/v1/events
	if [ "$checked_body" = 0 ]; then
		# The daemon's body must be exactly what pgbench's statement returns.
		checked_body=1
		"${HELPER[@]}" get "$base" /api/v1/events >"$tmp/body-http.json" ||
			anomaly "GET /api/v1/events did not answer 200"
		psql -X -tA "$conn" -c "${sql%;}" >"$tmp/body-sql.json"
		if [ "$(cat "$tmp/body-http.json")" = "$(cat "$tmp/body-sql.json")" ]; then
			note "body check: the daemon's reply equals the pgbench statement's result ($(wc -c <"$tmp/body-http.json") bytes)"
		else
			anomaly "the daemon's /api/v1/events body differs from the SQL result"
		fi
	fi
	timeout $((SECS + 30)) wrk -t2 -c"$CONNS" -d1s "$url" >/dev/null 2>&1 || true	# warm up
	out=$(timeout $((SECS + 30)) wrk -t2 -c"$CONNS" -d"${SECS}s" --latency "$url" 2>&1) || true
	printf '%s\n' "$out" >"$tmp/wrk-pool$pool.txt"
	r=$(awk '/^Requests\/sec:/ { print $2; exit }' <<<"$out")
	if [ -z "$r" ]; then
		printf '%s\n' "$out" >&2
		anomaly "pool $pool: wrk reported no throughput"
		r=0
	fi
	rps[$pool]=$r
	lat50[$pool]=$(awk '$1 == "50%" { print $2; exit }' <<<"$out")
	lat99[$pool]=$(awk '$1 == "99%" { print $2; exit }' <<<"$out")
	non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF; exit }' <<<"$out")
	sockerr=$(grep -o 'Socket errors:.*' <<<"$out" || true)
	[ -z "$non2xx" ] || anomaly "pool $pool: wrk saw $non2xx non-2xx replies"
	[ -z "$sockerr" ] || anomaly "pool $pool: wrk $sockerr"
	if kill -0 "$daemon_pid" 2>/dev/null; then
		hwm[$pool]=$(vm "$daemon_pid" VmHWM)
		stats=$("${HELPER[@]}" statuses "$base" events_list 2>&1) ||
			anomaly "pool $pool: /metrics did not answer after the run"
		bad=$(awk '$1 != "200" && $1 != "db_errors" { printf "%s%s x%s", sep, $1, $2; sep = ", " }' <<<"$stats")
		dberr=$(awk '$1 == "db_errors" { print $2 }' <<<"$stats")
		[ -z "$bad" ] || anomaly "pool $pool: /metrics counts non-200 replies on events_list: $bad"
		[ -z "$dberr" ] || [ "$dberr" = 0 ] || anomaly "pool $pool: rollcall_db_errors_total $dberr"
	else
		hwm[$pool]=0
		anomaly "pool $pool: the daemon died during the run; log tail: $(tail -n 5 "$tmp/serve-pool$pool.log" | tr '\n' '|')"
	fi
	note "pool $pool: $(printf '%.0f' "$r") req/s, latency p50 ${lat50[$pool]:-?} p99 ${lat99[$pool]:-?}, peak RSS $(mb "${hwm[$pool]}") MB"
	stop_daemon || anomaly "pool $pool: daemon exited with status $? on SIGTERM"
	if grep -qiE 'warn|error|lost|cannot' "$tmp/serve-pool$pool.log"; then
		note "  daemon log (pool $pool):"
		grep -iE 'warn|error|lost|cannot' "$tmp/serve-pool$pool.log" | sort | uniq -c | sort -rn | head -n 5 | sed 's/^/    /'
	fi
done

note ""
run_pgbench after
pg_tps2=$pg_tps_out
pg_tps=$(awk -v a="$pg_tps1" -v b="$pg_tps2" 'BEGIN { printf "%.1f", (a + b) / 2 }')
drift=$(awk -v a="$pg_tps1" -v b="$pg_tps2" 'BEGIN { d = (b - a) / (a > 0 ? a : 1) * 100; printf "%+.0f", d }')
note "pgbench baseline: mean $(printf '%.0f' "$pg_tps") tps (after vs before: ${drift}%)"

best=""
for pool in $POOLS; do
	[ -n "${rps[$pool]:-}" ] || continue
	if [ -z "$best" ] || awk -v a="${rps[$pool]}" -v b="${rps[$best]}" 'BEGIN { exit !(a > b) }'; then
		best=$pool
	fi
done
[ -n "$best" ] || { echo "bench: no pool size produced a result" >&2; exit 1; }

# For information: the database at the pool's own concurrency. On a small
# machine fewer backends often beat 64, so this is the harder comparison.
SAVE_CONNS=$CONNS
CONNS=$best
run_pgbench "c$best"
CONNS=$SAVE_CONNS
pg_tps_pool=$pg_tps_out

# --- 4. memory with idle keep-alive connections ------------------------------
note ""
note "== memory: $IDLE idle keep-alive connections (pool $best)"
rss_before_kb=0 rss_after_kb=0 idle_line=""
if start_daemon "$best" idle; then
	sleep 0.5
	idle_line=$("${HELPER[@]}" idle "$base" "$daemon_pid" "$IDLE" 2 2>&1) ||
		anomaly "idle-connection script failed: $idle_line"
	note "$idle_line"
	rss_before_kb=$(sed -n 's/.*before_kb=\([0-9]*\).*/\1/p' <<<"$idle_line")
	rss_after_kb=$(sed -n 's/.*after_kb=\([0-9]*\).*/\1/p' <<<"$idle_line")
	ok=$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$idle_line")
	alive=$(sed -n 's/.* alive=\([0-9]*\).*/\1/p' <<<"$idle_line")
	[ "${ok:-0}" = "$IDLE" ] || anomaly "idle: only ${ok:-0} of $IDLE /healthz requests answered 200"
	[ "${alive:-0}" = "$IDLE" ] || anomaly "idle: only ${alive:-0} of $IDLE connections still open when RSS was read"
	kill -0 "$daemon_pid" 2>/dev/null || anomaly "idle: the daemon died"
	stop_daemon || anomaly "idle: daemon exited with status $? on SIGTERM"
	: "${rss_before_kb:=0}" "${rss_after_kb:=0}"
else
	anomaly "idle: the daemon did not come up"
fi

# --- 5. summary -------------------------------------------------------------
ratio() { awk -v d="$1" -v p="$pg_tps" 'BEGIN { printf "%.2f", (p > 0 ? d / p : 0) }'; }
met() { if awk "BEGIN { exit !($1) }"; then echo MET; else echo MISSED; fi; }
best_ratio=$(ratio "${rps[$best]}")
rss_mb=$(mb "$rss_after_kb")

note ""
note "== summary ($(( $(date +%s) - t_start )) s)"
note "events_list: daemon $(printf '%.0f' "${rps[$best]}") req/s (pool $best), pgbench $(printf '%.0f' "$pg_tps") tps, ratio $best_ratio (target >= $RATIO_TARGET: $(met "$best_ratio >= $RATIO_TARGET"))"
for pool in $POOLS; do
	[ -n "${rps[$pool]:-}" ] || { note "  pool $pool: no result"; continue; }
	note "$(printf '  pool %-3s %8.0f req/s  ratio %s  p50 %-8s p99 %-8s peak RSS %s MB%s' \
		"$pool" "${rps[$pool]}" "$(ratio "${rps[$pool]}")" "${lat50[$pool]:-?}" \
		"${lat99[$pool]:-?}" "$(mb "${hwm[$pool]:-0}")" \
		"$([ "$pool" = "$best" ] && echo '  <- best')")"
done
note "  pgbench: $(printf '%.0f' "$pg_tps1") tps before, $(printf '%.0f' "$pg_tps2") after (-c $CONNS -j 2 -T $SECS)"
note "  for information: pgbench -c $best (the pool's concurrency) $(printf '%.0f' "$pg_tps_pool") tps; daemon / that = $(awk -v d="${rps[$best]}" -v p="$pg_tps_pool" 'BEGIN { printf "%.2f", (p > 0 ? d / p : 0) }')"
note "rss_idle_$IDLE: $rss_mb MB (before the connections: $(mb "$rss_before_kb") MB; target < $RSS_TARGET_MB MB: $(met "$rss_after_kb > 0 && $rss_after_kb / 1024 < $RSS_TARGET_MB"))"
if [ ${#anomalies[@]} -eq 0 ]; then
	note "anomalies: none"
else
	note "anomalies: ${#anomalies[@]}"
	for a in "${anomalies[@]}"; do note "  - $a"; done
fi
exit 0
