#!/usr/bin/env bash
# `make bench`: how close GET /api/v1/events and POST .../registrations come
# to what PostgreSQL can do with the same SQL, the opening rush of a 300-seat
# community day, and what 1,000 idle keep-alive clients cost in memory.
#
#   1. a private PostgreSQL cluster in a fresh temp dir, migrated; an admin
#      token; a public list of ten published upcoming events seeded through
#      the HTTP API (plus a draft and a members-only event it must hide);
#   2. baseline: pgbench runs the daemon's own statement for the list
#      (SQL_EVENT_LIST in server/db.c) against the same database, before and
#      after the HTTP runs (their mean is the baseline);
#   3. wrk on the daemon for each pool size in BENCH_POOLS;
#   4. registrations, on a daemon with the best pool size of 3: pgbench runs
#      the daemon's registration statement (SQL_REGISTER: rc_register3 when
#      the database has it, else rc_register) before and after wrk POSTs
#      registrations (tests/bench/register.lua), same client count, each on
#      its own published event with room for everyone; for information, the
#      per-seat SKIP LOCKED SQL of /work/shared/PERF_NOTES.md in scratch
#      tables; then the opening rush: BENCH_RUSH attempts from
#      BENCH_RUSH_CONNS connections on a 300-seat community day, checked
#      against the database;
#   5. VmRSS of a fresh daemon (the best pool size) before and while it holds
#      1,000 idle keep-alive connections.
# Exits 0 whether or not the targets are met; non-zero only when the bench
# itself cannot run. Loopback only; about two and a half minutes.
#
# Environment: ROLLCALLD (default build/rollcalld), BENCH_POOLS ("4 8 16 32"),
# BENCH_SECS (8), BENCH_CONNS (64), BENCH_IDLE (1000), BENCH_RUSH (5000),
# BENCH_RUSH_CONNS (200).
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${ROLLCALLD:-build/rollcalld}
POOLS=${BENCH_POOLS:-4 8 16 32}
SECS=${BENCH_SECS:-8}
CONNS=${BENCH_CONNS:-64}
IDLE=${BENCH_IDLE:-1000}
RUSH_N=${BENCH_RUSH:-5000}
RUSH_CONNS=${BENCH_RUSH_CONNS:-200}
RATIO_TARGET=0.6
REG_RATIO_TARGET=0.8
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

# --- 4. registrations ----------------------------------------------------------
# POST /api/v1/events/{id}/registrations beside pgbench running the daemon's
# own registration statement (SQL_REGISTER in server/db.c), same client count,
# each on its own event with room for everyone; then the opening rush.
note ""
note "== registrations (daemon pool $best)"
reg_ok=0
reg_rps=0 reg_p50="" reg_p99="" reg_p99_ms="" reg_n201=0 reg_dur=0
regpg_tps1=0 regpg_tps2=0 regpg_tps=0 regpg_p99="" regpg_tps_pool=0 seat_tps=0
rush_line="" rush_secs="" rush_answered=0 rush_5xx=0 rush_conf_http=0
db_conf="" db_wait="" db_total="" db_ev_conf=""

# wrk_ms VALUE: wrk's latency ("67.52ms", "812.00us", "1.02s") in ms.
wrk_ms() {
	awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") n /= 1000; else if (u == "s") n *= 1000;
		else if (u == "m") n *= 60000; printf "%.1f", n }'
}

# run_reg_pgbench LABEL FILE CLIENTS [pgbench args]: sets rp_tps, rp_p99
# (ms, from the per-transaction log) and rp_n. A failing transaction aborts
# its client in pgbench; that is an anomaly here, not the end of the bench.
run_reg_pgbench() {
	local label=$1 file=$2 clients=$3 out rc=0 aborted
	shift 3
	rp_tps=0 rp_p99="" rp_n=0
	rm -f "$tmp/pglog-$label".*
	out=$(timeout $((SECS + 60)) pgbench -n -M prepared -f "$file" "$@" \
		-c "$clients" -j $(( clients < 2 ? clients : 2 )) -T "$SECS" \
		-l --log-prefix="$tmp/pglog-$label" "$conn" 2>&1) || rc=$?
	printf '%s\n' "$out" >"$tmp/pgbench-$label.txt"
	aborted=$(grep -c 'aborted in command' <<<"$out" || true)
	if [ "$rc" != 0 ] || [ "$aborted" != 0 ]; then
		anomaly "pgbench ($label): exit $rc, $aborted clients aborted: $(grep -m1 -E 'ERROR|error' <<<"$out" | cut -c1-200)"
	fi
	rp_tps=$(awk '/^tps = / { print $3; exit }' <<<"$out")
	rp_n=$(awk '/^number of transactions actually processed:/ { print $6; exit }' <<<"$out")
	: "${rp_tps:=0}" "${rp_n:=0}"
	rp_p99=$(cat "$tmp/pglog-$label".* 2>/dev/null | awk '{ print $3 }' | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) { i = int(NR * 0.99); if (i < 1) i = 1; printf "%.1f", v[i] / 1000 } }')
	rm -f "$tmp/pglog-$label".*
	note "pgbench ($label, -c $clients): $(printf '%.0f' "$rp_tps") tps, $rp_n transactions, latency avg $(awk '/^latency average/ { print $4 " " $5; exit }' <<<"$out"), p99 ${rp_p99:-?} ms"
}

if start_daemon "$best" serve-reg; then
	reg_ok=1
	read -r ev_pg ev_http ev_rush < <("${HELPER[@]}" regevents "$base" "$token") ||
		{ echo "bench: cannot create the registration events" >&2; exit 1; }
	# Past the API's maximum: nobody may be waitlisted in the throughput runs.
	psql -q -X -v ON_ERROR_STOP=1 "$conn" \
		-c "UPDATE events SET capacity = 10000000 WHERE id IN ($ev_pg, $ev_http)" >/dev/null
	note "events: $ev_pg (pgbench) and $ev_http (HTTP) with 10,000,000 seats; $ev_rush: community day, 300 seats, waitlist on"
	check=$("${HELPER[@]}" register "$base" "$ev_http" "check@bench.example.com" 2>&1) ||
		anomaly "a single registration did not answer 201: $check"
	[ "$check" = "201 confirmed" ] || anomaly "a single registration answered '$check', expected '201 confirmed'"

	# The statement: rc_register3 once the database has it, else rc_register.
	regfn=$(psql -X -tAc "SELECT CASE WHEN to_regproc('rc_register3') IS NOT NULL
		OR EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'rc_register3')
		THEN 'rc_register3' ELSE 'rc_register' END" "$conn")
	srvfn=$(sed -n '/\[SQL_REGISTER\]/,/}/p' server/db.c | grep -o 'rc_register[a-z0-9_]*' | head -n 1 || true)
	[ "$srvfn" = "$regfn" ] ||
		anomaly "pgbench runs $regfn (the database has it) but SQL_REGISTER in server/db.c calls ${srvfn:-?}: not like for like"
	hash="decode(md5(random()::text) || md5(random()::text), 'hex')"
	extra=""
	[ "$regfn" = rc_register3 ] && extra=", $hash"
	# No ':' directly before a letter outside variables: pgbench would take
	# it for one (hence the spaces after the JSON colons).
	cat >"$tmp/register.sql" <<-SQL
	\\set r random(1, 999999999999999)
	SELECT $regfn(:event::bigint, ('{"name": "Bench Attendee", "email": "' || :run || '-c' || :client_id || '-' || :r || '@bench.example.com", "company": "Bench Co", "job_title": "Engineer", "identity": "professional", "consent": {"sponsors": true, "fields": ["email", "job_title"]}}')::jsonb, $hash$extra)::text;
	SQL
	note "statement: $(sed -n 2p "$tmp/register.sql" | cut -c1-120)..."
	timeout 60 pgbench -n -M prepared -f "$tmp/register.sql" -D event="$ev_pg" \
		-D run=warm -c 1 -j 1 -T 1 "$conn" >/dev/null 2>&1 || true	# warm up

	note ""
	note "== baseline: pgbench -n -M prepared -c $CONNS -j 2 -T $SECS: $regfn on event $ev_pg"
	run_reg_pgbench reg-before "$tmp/register.sql" "$CONNS" -D event="$ev_pg" -D run=before
	regpg_tps1=$rp_tps regpg_p99_1=$rp_p99

	note ""
	note "== daemon: wrk -t2 -c$CONNS -d${SECS}s POST /api/v1/events/$ev_http/registrations"
	url=$base/api/v1/events/$ev_http/registrations
	timeout $((SECS + 30)) wrk -t2 -c"$CONNS" -d1s -s tests/bench/register.lua "$url" -- warm >/dev/null 2>&1 || true
	out=$(timeout $((SECS + 30)) wrk -t2 -c"$CONNS" -d"${SECS}s" --latency \
		-s tests/bench/register.lua "$url" -- main 2>&1) || true
	printf '%s\n' "$out" >"$tmp/wrk-register.txt"
	reg_req=$(awk '/ requests in / { print $1; exit }' <<<"$out")
	reg_dur=$(awk '/ requests in / { d = $4; sub(/s,?$/, "", d); print d; exit }' <<<"$out")
	non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF; exit }' <<<"$out")
	sockerr=$(grep -o 'Socket errors:.*' <<<"$out" || true)
	reg_p50=$(awk '$1 == "50%" { print $2; exit }' <<<"$out")
	reg_p99=$(awk '$1 == "99%" { print $2; exit }' <<<"$out")
	if [ -z "$reg_req" ] || [ -z "$reg_dur" ]; then
		printf '%s\n' "$out" >&2
		anomaly "registrations: wrk reported no throughput"
		reg_req=0 reg_dur=1
	fi
	[ -z "$non2xx" ] || anomaly "registrations: wrk saw $non2xx non-2xx replies"
	[ -z "$sockerr" ] || anomaly "registrations: wrk $sockerr"
	# Registrations per second: the 2xx replies only.
	reg_rps=$(awk -v n="$reg_req" -v b="${non2xx:-0}" -v d="$reg_dur" 'BEGIN { printf "%.1f", (d > 0 ? (n - b) / d : 0) }')
	reg_p99_ms=$(wrk_ms "${reg_p99:-0}")
	if kill -0 "$daemon_pid" 2>/dev/null; then
		stats=$("${HELPER[@]}" statuses "$base" registrations_create 2>&1) ||
			anomaly "registrations: /metrics did not answer after the run"
		reg_n201=$(awk '$1 == "201" { print $2 }' <<<"$stats")
		bad=$(awk '$1 != "201" && $1 != "db_errors" { printf "%s%s x%s", sep, $1, $2; sep = ", " }' <<<"$stats")
		dberr=$(awk '$1 == "db_errors" { print $2 }' <<<"$stats")
		[ -z "$bad" ] || anomaly "registrations: /metrics counts non-201 replies: $bad"
		[ -z "$dberr" ] || [ "$dberr" = 0 ] || anomaly "registrations: rollcall_db_errors_total $dberr"
		# Every 201 is one confirmed row, and nothing else is there.
		read -r n_all n_conf < <(psql -X -tA -F ' ' "$conn" -c "SELECT count(*),
			count(*) FILTER (WHERE status = 'confirmed') FROM registrations
			WHERE event_id = $ev_http")
		[ "$n_all" = "${reg_n201:-0}" ] && [ "$n_conf" = "$n_all" ] ||
			anomaly "registrations: $n_all rows ($n_conf confirmed) for ${reg_n201:-0} replies 201"
	else
		anomaly "registrations: the daemon died during the run; log tail: $(tail -n 5 "$tmp/serve-reg.log" | tr '\n' '|')"
	fi
	note "daemon: $(printf '%.0f' "$reg_rps") registrations/s (${reg_req} replies in ${reg_dur} s, ${non2xx:-0} non-2xx), latency p50 ${reg_p50:-?} p99 ${reg_p99:-?}"

	note ""
	run_reg_pgbench reg-after "$tmp/register.sql" "$CONNS" -D event="$ev_pg" -D run=after
	regpg_tps2=$rp_tps regpg_p99_2=$rp_p99
	regpg_tps=$(awk -v a="$regpg_tps1" -v b="$regpg_tps2" 'BEGIN { printf "%.1f", (a + b) / 2 }')
	regpg_p99=$(awk -v a="${regpg_p99_1:-0}" -v b="${regpg_p99_2:-0}" 'BEGIN { printf "%.1f", (a > b ? a : b) }')
	note "pgbench baseline: mean $(printf '%.0f' "$regpg_tps") tps (after vs before: $(awk -v a="$regpg_tps1" -v b="$regpg_tps2" 'BEGIN { printf "%+.0f", (b - a) / (a > 0 ? a : 1) * 100 }')%)"
	run_reg_pgbench "reg-c$best" "$tmp/register.sql" "$best" -D event="$ev_pg" -D run="c$best"
	regpg_tps_pool=$rp_tps
	read -r n_all n_conf < <(psql -X -tA -F ' ' "$conn" -c "SELECT count(*),
		count(*) FILTER (WHERE status = 'confirmed') FROM registrations
		WHERE event_id = $ev_pg")
	[ "$n_conf" = "$n_all" ] || anomaly "pgbench's event: $n_all registrations but only $n_conf confirmed"

	# For information: the best known SQL for exact capacity (PERF_NOTES.md,
	# seat.sql): one row per seat, claimed with FOR UPDATE SKIP LOCKED, in
	# scratch tables of its own. More seats than the run can take.
	psql -q -X -v ON_ERROR_STOP=1 "$conn" >/dev/null <<-'SQL'
	CREATE SCHEMA bench_seat;
	CREATE TABLE bench_seat.seats (event_id bigint NOT NULL,
	    seat integer NOT NULL, reg_id bigint, PRIMARY KEY (event_id, seat));
	CREATE INDEX seats_free ON bench_seat.seats (event_id, seat)
	    WHERE reg_id IS NULL;
	CREATE TABLE bench_seat.registrations (id bigserial PRIMARY KEY,
	    event_id bigint NOT NULL, email text NOT NULL, status text NOT NULL
	    CHECK (status IN ('confirmed', 'waitlisted', 'cancelled')));
	CREATE UNIQUE INDEX registrations_one_per_email
	    ON bench_seat.registrations (event_id, lower(email))
	    WHERE status <> 'cancelled';
	INSERT INTO bench_seat.seats (event_id, seat)
	SELECT 1, g FROM generate_series(1, 400000) g;
	VACUUM ANALYZE bench_seat.seats, bench_seat.registrations;
	SQL
	cat >"$tmp/seat.sql" <<-'SQL'
	\set r random(1, 999999999999999)
	WITH s AS (SELECT event_id, seat FROM bench_seat.seats
	           WHERE event_id = 1 AND reg_id IS NULL
	           LIMIT 1 FOR UPDATE SKIP LOCKED),
	     u AS (UPDATE bench_seat.seats t SET reg_id = :r FROM s
	           WHERE t.event_id = s.event_id AND t.seat = s.seat RETURNING t.seat)
	INSERT INTO bench_seat.registrations (event_id, email, status)
	SELECT 1, 'u' || :r || '-' || :client_id || '@w.org',
	       CASE WHEN EXISTS (SELECT 1 FROM u) THEN 'confirmed' ELSE 'waitlisted' END;
	SQL
	timeout 60 pgbench -n -M prepared -f "$tmp/seat.sql" -c 1 -j 1 -T 1 "$conn" >/dev/null 2>&1 || true
	note ""
	run_reg_pgbench seat "$tmp/seat.sql" "$CONNS"
	seat_tps=$rp_tps
	n_wait=$(psql -X -tAc "SELECT count(*) FROM bench_seat.registrations WHERE status <> 'confirmed'" "$conn")
	[ "$n_wait" = 0 ] || note "  (seat.sql ran out of seats: $n_wait waitlisted)"

	# The opening rush: every client connected, then all at once.
	note ""
	note "== opening rush: $RUSH_N registrations from $RUSH_CONNS keep-alive connections, event $ev_rush (300 seats)"
	rush_line=$("${HELPER[@]}" rush "$base" "$ev_rush" "$RUSH_N" "$RUSH_CONNS" 2>&1) ||
		anomaly "rush: the client failed: $(tail -n 3 <<<"$rush_line" | tr '\n' '|')"
	note "$rush_line"
	kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$rush_line"; }
	rush_secs=$(kv secs) rush_answered=$(kv answered) rush_5xx=$(kv s5xx)
	rush_conf_http=$(kv confirmed) rush_p50=$(kv p50_ms) rush_p99=$(kv p99_ms)
	: "${rush_secs:=0}" "${rush_answered:=0}" "${rush_5xx:=0}" "${rush_conf_http:=0}"
	read -r db_conf db_wait db_total db_ev_conf < <(psql -X -tA -F ' ' "$conn" -c "SELECT
		count(*) FILTER (WHERE status = 'confirmed'),
		count(*) FILTER (WHERE status = 'waitlisted'), count(*),
		(SELECT confirmed FROM events WHERE id = $ev_rush)
		FROM registrations WHERE event_id = $ev_rush")
	note "database: $db_conf confirmed, $db_wait waitlisted, $db_total in all; events.confirmed = $db_ev_conf"
	[ "$rush_answered" = "$RUSH_N" ] || anomaly "rush: only $rush_answered of $RUSH_N attempts answered ($(kv statuses))"
	[ "$rush_5xx" = 0 ] || anomaly "rush: $rush_5xx replies 5xx ($(kv statuses))"
	[ "$(kv statuses)" = "201:$RUSH_N" ] || anomaly "rush: replies other than 201: $(kv statuses)"
	[ "$db_conf" = 300 ] && [ "$db_ev_conf" = 300 ] ||
		anomaly "rush: $db_conf registrations confirmed and events.confirmed = $db_ev_conf, expected 300"
	[ "$db_wait" = $((RUSH_N - 300)) ] || anomaly "rush: $db_wait waitlisted, expected $((RUSH_N - 300))"
	[ "$rush_conf_http" = "$db_conf" ] || anomaly "rush: $rush_conf_http replies said confirmed, the database has $db_conf"
	if kill -0 "$daemon_pid" 2>/dev/null; then
		stats=$("${HELPER[@]}" statuses "$base" registrations_create 2>&1) || true
		dberr=$(awk '$1 == "db_errors" { print $2 }' <<<"$stats")
		[ -z "$dberr" ] || [ "$dberr" = 0 ] || anomaly "rush: rollcall_db_errors_total $dberr"
	else
		anomaly "rush: the daemon died; log tail: $(tail -n 5 "$tmp/serve-reg.log" | tr '\n' '|')"
	fi
	stop_daemon || anomaly "registrations: daemon exited with status $? on SIGTERM"
	if grep -qiE 'warn|error|lost|cannot' "$tmp/serve-reg.log"; then
		note "  daemon log (registrations):"
		grep -iE 'warn|error|lost|cannot' "$tmp/serve-reg.log" | sort | uniq -c | sort -rn | head -n 5 | sed 's/^/    /'
	fi
else
	anomaly "registrations: the daemon did not come up"
fi

# --- 5. memory with idle keep-alive connections ------------------------------
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

# --- 6. summary -------------------------------------------------------------
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
if [ "$reg_ok" = 1 ]; then
	reg_ratio=$(awk -v d="$reg_rps" -v p="$regpg_tps" 'BEGIN { printf "%.2f", (p > 0 ? d / p : 0) }')
	note "registrations: daemon $(printf '%.0f' "$reg_rps") req/s (p99 $reg_p99_ms ms), pgbench $(printf '%.0f' "$regpg_tps") tps, ratio $reg_ratio (target >= $REG_RATIO_TARGET: $(met "$reg_ratio >= $REG_RATIO_TARGET"))"
	note "  daemon: pool $best, wrk -t2 -c$CONNS -d${SECS}s, p50 ${reg_p50:-?} p99 ${reg_p99:-?}, ${non2xx:-0} non-2xx; pgbench ($regfn, -M prepared -c $CONNS -j 2 -T $SECS): $(printf '%.0f' "$regpg_tps1") tps before, $(printf '%.0f' "$regpg_tps2") after, p99 ${regpg_p99} ms"
	note "  for information: pgbench -c $best (the pool's concurrency) $(printf '%.0f' "$regpg_tps_pool") tps; daemon / that = $(awk -v d="$reg_rps" -v p="$regpg_tps_pool" 'BEGIN { printf "%.2f", (p > 0 ? d / p : 0) }')"
	note "  for information: seat rows FOR UPDATE SKIP LOCKED (PERF_NOTES seat.sql, scratch tables, -c $CONNS) $(printf '%.0f' "$seat_tps") tps; daemon / that = $(awk -v d="$reg_rps" -v p="$seat_tps" 'BEGIN { printf "%.2f", (p > 0 ? d / p : 0) }')"
	c_ans=$(met "${rush_answered:-0} == $RUSH_N")
	c_5xx=$(met "${rush_5xx:-1} == 0 && ${rush_answered:-0} > 0")
	c_300=$(met "${db_conf:-0} == 300 && ${db_ev_conf:-0} == 300 && ${rush_conf_http:-0} == 300")
	if [ "$c_ans$c_5xx$c_300" = METMETMET ]; then c_all=MET; else c_all=MISSED; fi
	note "opening_rush: $RUSH_N attempts / $RUSH_CONNS conns / 300 seats: $(printf '%.2f' "${rush_secs:-0}") s, ${db_conf:-?} confirmed, ${rush_5xx:-?} 5xx ($c_all)"
	note "  all answered: $c_ans (${rush_answered:-0}/$RUSH_N); no 5xx: $c_5xx; exactly 300 confirmed: $c_300 (database: ${db_conf:-?} confirmed, ${db_wait:-?} waitlisted, events.confirmed ${db_ev_conf:-?}; replies: ${rush_conf_http:-?} confirmed); reply latency p50 ${rush_p50:-?} ms p99 ${rush_p99:-?} ms"
else
	note "registrations: no result (the daemon did not come up)"
	note "opening_rush: no result (MISSED)"
fi
note "rss_idle_$IDLE: $rss_mb MB (before the connections: $(mb "$rss_before_kb") MB; target < $RSS_TARGET_MB MB: $(met "$rss_after_kb > 0 && $rss_after_kb / 1024 < $RSS_TARGET_MB"))"
if [ ${#anomalies[@]} -eq 0 ]; then
	note "anomalies: none"
else
	note "anomalies: ${#anomalies[@]}"
	for a in "${anomalies[@]}"; do note "  - $a"; done
fi
exit 0
