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
#      the daemon's registration statement (SQL_REGISTER: rc_register,
#      formerly rc_register_mail over rc_register3) before and after wrk POSTs
#      registrations (tests/bench/register.lua), same client count, each on
#      its own published event with room for everyone; for information, the
#      per-seat SKIP LOCKED SQL of /work/shared/PERF_NOTES.md in scratch
#      tables; pgbench of the daemon's group statement (rc_register_group)
#      in groups of the size the daemon made, one after another (the
#      ceiling of one hot event); then the opening rush: BENCH_RUSH
#      attempts from BENCH_RUSH_CONNS connections on a 300-seat community
#      day (build/rush-client, tests/bench/rush.c), checked against the
#      database;
#   5. VmRSS of a fresh daemon (the best pool size) before and while it holds
#      1,000 idle keep-alive connections;
#   6. tickets: check-ins per second through POST /api/v1/checkins (wrk,
#      tests/bench/checkin.lua, door token, tickets signed by
#      build/ticket-bench) beside pgbench running the daemon's check-in
#      statement (SQL_CHECKIN_DOOR: rc_checkin_door with the same door, claims
#      JSON, gate and nonce shapes), same client count, each on its own
#      event of BENCH_TICKETS fresh confirmed registrations (made with
#      rc_register in SQL), before and after; for information, pgbench
#      running the daemon's grouped statement (rc_checkin_group) with the
#      group size the daemon formed, on a fourth event; then at most one admission
#      per ticket in the database; ticket PNGs per second (ticket_png() in
#      build/ticket-bench beside the qrencode command, and GET .../ticket.png
#      through wrk); ES256 verifications per second (ticket_verify() beside
#      `openssl speed ecdsap256`) and signatures per second.
# Exits 0 whether or not the targets are met; non-zero only when the bench
# itself cannot run. Loopback only; about three and a half minutes.
#
# Environment: ROLLCALLD (default build/rollcalld), TICKET_BENCH (default
# build/ticket-bench), RUSH_CLIENT (build/rush-client), BENCH_POOLS ("4 8 16 32"), BENCH_SECS (8),
# BENCH_CONNS (64), BENCH_IDLE (1000), BENCH_RUSH (5000), BENCH_RUSH_CONNS
# (200), BENCH_TICKETS (20000), BENCH_MICRO_SECS (2), BENCH_QR_RUNS (200).
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
RSS_TARGET_MB=32
# The targets of issue 15, each a ratio to a line measured in this run.
REG_SEAT_TARGET=1.0	# registrations through HTTP / per-seat SKIP LOCKED SQL
REG_INSERT_TARGET=0.35	# ... / the plain-INSERT ceiling
REG_P99_MS=100		# p99 of registrations at $CONNS connections
RUSH_P99_MS=100		# p99 of the opening rush
READ_TARGET=0.3		# public reads / evhttp answering a fixed body
CSS_P99_MS=20		# a request needing no database, while PNGs are drawn
PNG_TARGET=5		# ticket_png() / the qrencode command, per image
FIXED=${FIXED_HTTP:-build/fixed-http}
RUSHC=${RUSH_CLIENT:-build/rush-client}
TBIN=${TICKET_BENCH:-build/ticket-bench}
NTICKETS=${BENCH_TICKETS:-20000}
MICRO_SECS=${BENCH_MICRO_SECS:-2}
QR_RUNS=${BENCH_QR_RUNS:-200}
CHECKIN_RATIO_TARGET=1.0
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
HELPER=(env -u PYTHONPATH "$PY" tests/bench/helper.py)

for c in wrk pgbench psql qrencode openssl; do
	command -v "$c" >/dev/null || { echo "bench: $c is missing (deploy/dev/deps.sh bench)" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "bench: $BIN is missing (make all)" >&2; exit 1; }
[ -x "$TBIN" ] || { echo "bench: $TBIN is missing (make build/ticket-bench)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 4096 2>/dev/null || true

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rollcall-bench.XXXXXX")
chmod 0755 "$tmp"
daemon_pid=""
anomalies=()

. tests/bench/lib.sh

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_daemon >/dev/null 2>&1 || true
	[ -z "${sign_pid:-}" ] || kill "$sign_pid" 2>/dev/null || true
	[ -z "${fixed_pid:-}" ] || kill "$fixed_pid" 2>/dev/null || true
	[ -z "${pid_b:-}" ] || kill "$pid_b" 2>/dev/null || true
	drop_cluster
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Run from copies: a `make` elsewhere during the run must not replace (or
# half-write) the binaries under the bench. The copies find sql/ and
# templates/ through ROLLCALL_SHARE.
[ -x "$FIXED" ] || { echo "bench: $FIXED is missing (make build/fixed-http)" >&2; exit 1; }
BIN_SRC=$BIN TBIN_SRC=$TBIN
mkdir "$tmp/bin"
cp "$BIN" "$tmp/bin/rollcalld" && cp "$TBIN" "$tmp/bin/ticket-bench" ||
	{ echo "bench: cannot copy the binaries" >&2; exit 1; }
cp "$FIXED" "$tmp/bin/fixed-http" || { echo "bench: cannot copy $FIXED" >&2; exit 1; }
[ -x "$RUSHC" ] || { echo "bench: $RUSHC is missing (make build/rush-client)" >&2; exit 1; }
cp "$RUSHC" "$tmp/bin/rush-client" || { echo "bench: cannot copy $RUSHC" >&2; exit 1; }
BIN=$tmp/bin/rollcalld TBIN=$tmp/bin/ticket-bench FIXED=$tmp/bin/fixed-http
RUSHC=$tmp/bin/rush-client
export ROLLCALL_SHARE=${ROLLCALL_SHARE:-$PWD}


vm() {	# vm PID FIELD: kB
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

t_start=$(date +%s)
load_start=$(cut -d' ' -f1 /proc/loadavg)
note "== rollcall bench ($(nproc) CPUs, $(uname -r), $BIN_SRC)"

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

# The public reads against the ceiling: evhttp answering a fixed body
# (tests/bench/fixed_http.c), then each public read on the daemon.
note ""
note "== public reads: wrk -t2 -c$CONNS -d4s beside evhttp answering a fixed 11-byte body"
fixed_rps=0
fport=$("${HELPER[@]}" freeport)
"$FIXED" "$fport" >"$tmp/fixed.log" 2>&1 &
fixed_pid=$!
sleep 0.3
timeout 30 wrk -t2 -c"$CONNS" -d1s "http://127.0.0.1:$fport/" >/dev/null 2>&1 || true
out=$(timeout 40 wrk -t2 -c"$CONNS" -d4s --latency "http://127.0.0.1:$fport/" 2>&1) || true
fixed_rps=$(awk '/^Requests\/sec:/ { print $2; exit }' <<<"$out")
: "${fixed_rps:=0}"
kill "$fixed_pid" 2>/dev/null || true
wait "$fixed_pid" 2>/dev/null || true
fixed_pid=""
note "evhttp fixed body: $(printf '%.0f' "$fixed_rps") req/s"
declare -A read_rps
read_ev=$(psql -X -tAc "SELECT min(id) FROM events WHERE status = 'published' AND visibility = 'public'" "$conn" 2>/dev/null ||
	psql -X -tAc "SELECT min(id) FROM events WHERE status = 'published'" "$conn")
read_paths="/api/v1/events /api/v1/events/$read_ev / /events/$read_ev"
if start_daemon "$best" reads; then
	for path in $read_paths; do
		timeout 30 wrk -t2 -c"$CONNS" -d1s "$base$path" >/dev/null 2>&1 || true
		out=$(timeout 40 wrk -t2 -c"$CONNS" -d4s --latency "$base$path" 2>&1) || true
		r=$(awk '/^Requests\/sec:/ { print $2; exit }' <<<"$out")
		n2=$(awk '/Non-2xx or 3xx responses:/ { print $NF; exit }' <<<"$out")
		[ -z "$n2" ] || anomaly "GET $path: $n2 non-2xx replies"
		read_rps[$path]=${r:-0}
		note "daemon: GET $path $(printf '%.0f' "${r:-0}") req/s, p99 $(awk '$1 == "99%" { print $2; exit }' <<<"$out")"
	done
	read -r c_hits c_misses < <("${HELPER[@]}" cachehits "$base") || true
	note "read cache (server/cache.c): ${c_hits:-?} hits, ${c_misses:-?} misses over these runs"
	stop_daemon || anomaly "reads: daemon exited with status $? on SIGTERM"
else
	anomaly "reads: the daemon did not come up"
fi

# Target 3's invalidation: two daemons on the database. Daemon B caches an
# event, its title changes through daemon A, B is polled until it shows
# the change (20 rounds); then the event is filled through A until B shows
# 0 seats left. Within 1 s each, by NOTIFY (the cache's age limit is 1 s
# too, so a figure near 1,000 ms means NOTIFY did not do it).
note ""
note "== cache invalidation: a change through daemon A, polled on daemon B"
inval_max="" inval_med="" inval_fill=""
if start_daemon "$best" inval-a; then
	base_a=$base
	port_b=$("${HELPER[@]}" freeport)
	"$BIN" serve --db "$conn" --listen "127.0.0.1:$port_b" \
		--rate-limit 0 --pool "$best" >"$tmp/inval-b.log" 2>&1 &
	pid_b=$!
	if "${HELPER[@]}" wait "http://127.0.0.1:$port_b" "$best" 20; then
		if out=$("${HELPER[@]}" invalidation "$base_a" "http://127.0.0.1:$port_b" "$token" 20 2>&1); then
			read -r inval_max inval_med inval_fill <<<"$out"
			note "title changed on A, seen on B: median ${inval_med} ms, max ${inval_max} ms over 20 rounds; event filled on A, B shows 0 seats left after ${inval_fill} ms"
		else
			anomaly "invalidation: $out"
		fi
	else
		anomaly "invalidation: daemon B did not come up"
	fi
	kill -TERM "$pid_b" 2>/dev/null || true
	wait "$pid_b" 2>/dev/null || anomaly "invalidation: daemon B exited with status $? on SIGTERM"
	pid_b=""
	stop_daemon || anomaly "invalidation: daemon A exited with status $? on SIGTERM"
else
	anomaly "invalidation: daemon A did not come up"
fi

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
reg_rps=0 reg_p50="" reg_p99="" reg_p99_ms="" reg_n201=0 reg_dur=0 grp_size=1 grp_rps=0
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
# reg_groups: the daemon's registration groups and the registrations
# they carried, from /metrics.
reg_groups() {
	curl -s "$base/metrics" | awk '
		$1 == "rollcall_registration_groups_total" { n = $2 }
		$1 == "rollcall_registration_grouped_total" { r = $2 }
		END { printf "%d %d\n", n, r }'
}

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

	# The statement: exactly SQL_REGISTER of server/db.c (rc_register:
	# event, body, manage-secret hash, join hash, the sealed secret that
	# the outbox keeps for the confirmation mail).
	regfn=rc_register
	srvfn=$(sed -n '/\[SQL_REGISTER\]/,/}/p' server/db.c | grep -o 'rc_register[a-z0-9_]*' | head -n 1 || true)
	[ "$srvfn" = "$regfn" ] ||
		anomaly "pgbench runs $regfn but SQL_REGISTER in server/db.c calls ${srvfn:-?}: not like for like"
	hash="decode(md5(random()::text) || md5(random()::text), 'hex')"
	sealed="decode(md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text), 'hex')"
	extra=", $hash, $sealed"
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

	# The ceiling: a plain INSERT of a registration, no capacity check,
	# in a scratch table of its own (the seat script below shares it).
	# Measured just before and just after the daemon's run, and the mean
	# taken: the host's speed drifts from minute to minute, and one
	# measurement minutes away from the daemon's made the ratio swing
	# from 0.23 to 0.39 on one afternoon.
	psql -q -X -v ON_ERROR_STOP=1 "$conn" >/dev/null <<-'SQL'
	CREATE SCHEMA bench_seat;
	CREATE TABLE bench_seat.registrations (id bigserial PRIMARY KEY,
	    event_id bigint NOT NULL, email text NOT NULL, status text NOT NULL
	    CHECK (status IN ('confirmed', 'waitlisted', 'cancelled')));
	CREATE UNIQUE INDEX registrations_one_per_email
	    ON bench_seat.registrations (event_id, lower(email))
	    WHERE status <> 'cancelled';
	SQL
	cat >"$tmp/insert.sql" <<-'SQL'
	\set r random(1, 999999999999999)
	INSERT INTO bench_seat.registrations (event_id, email, status)
	VALUES (2, 'i' || :r || '-' || :client_id || '@w.org', 'confirmed');
	SQL
	note ""
	run_reg_pgbench insert-before "$tmp/insert.sql" "$CONNS"
	insert_tps1=$rp_tps

	note ""
	note "== daemon: wrk -t2 -c$CONNS -d${SECS}s POST /api/v1/events/$ev_http/registrations"
	url=$base/api/v1/events/$ev_http/registrations
	timeout $((SECS + 30)) wrk -t2 -c"$CONNS" -d1s -s tests/bench/register.lua "$url" -- warm >/dev/null 2>&1 || true
	read -r g_n0 g_r0 < <(reg_groups)
	out=$(timeout $((SECS + 30)) wrk -t2 -c"$CONNS" -d"${SECS}s" --latency \
		-s tests/bench/register.lua "$url" -- main 2>&1) || true
	read -r g_n1 g_r1 < <(reg_groups)
	# The daemon's groups in this run: how many registrations each.
	grp_size=$(awk -v n=$((g_n1 - g_n0)) -v r=$((g_r1 - g_r0)) 'BEGIN { printf "%d", (n > 0 ? r / n + 0.5 : 1) }')
	[ "$grp_size" -ge 1 ] || grp_size=1
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
	# What PostgreSQL does with one event's groups one after another (the
	# daemon sends one group of an event at a time): rc_register_group
	# (SQL_REGISTER_GROUP) with groups the size the daemon made, from one
	# client. The group's JSON is built by a statement of its own, and
	# only the group statement's latency (pgbench -r) counts.
	cat >"$tmp/group.sql" <<-SQL
	\\set r random(1, 999999999999999)
	SELECT jsonb_agg(jsonb_build_object('event', :event::bigint, 'p', ('{"name": "Bench Attendee", "email": "grp-' || :r || '-' || g || '@bench.example.com", "company": "Bench Co", "job_title": "Engineer", "identity": "professional", "lang": "en", "consent": {"sponsors": true, "fields": ["email", "job_title"]}}')::jsonb, 'hash', encode($hash, 'hex'), 'join', encode($hash, 'hex'), 'sealed', encode($sealed, 'hex')))::text AS grp FROM generate_series(1, $grp_size) g \\gset
	SELECT count(*) FROM rc_register_group(:grp::jsonb);
	SQL
	grp_out=$(timeout $((SECS + 60)) pgbench -n -M prepared -r -f "$tmp/group.sql" \
		-D event="$ev_pg" -c 1 -j 1 -T "$SECS" "$conn" 2>&1) ||
		anomaly "pgbench (groups): $(grep -m1 -E 'ERROR|error' <<<"$grp_out" | cut -c1-200)"
	grp_ms=$(awk '/rc_register_group/ && $1 ~ /^[0-9.]+$/ { print $1; exit }' <<<"$grp_out")
	grp_rps=$(awk -v g="$grp_size" -v ms="${grp_ms:-0}" 'BEGIN { printf "%.1f", (ms > 0 ? g * 1000 / ms : 0) }')
	note "pgbench (groups of $grp_size, one after another, -c 1): ${grp_ms:-?} ms a group, $(printf '%.0f' "$grp_rps") registrations/s"

	read -r n_all n_conf < <(psql -X -tA -F ' ' "$conn" -c "SELECT count(*),
		count(*) FILTER (WHERE status = 'confirmed') FROM registrations
		WHERE event_id = $ev_pg")
	[ "$n_conf" = "$n_all" ] || anomaly "pgbench's event: $n_all registrations but only $n_conf confirmed"

	# For information: the best known SQL for exact capacity (PERF_NOTES.md,
	# seat.sql): one row per seat, claimed with FOR UPDATE SKIP LOCKED, in
	# scratch tables of its own. More seats than the run can take.
	psql -q -X -v ON_ERROR_STOP=1 "$conn" >/dev/null <<-'SQL'
	CREATE TABLE bench_seat.seats (event_id bigint NOT NULL,
	    seat integer NOT NULL, reg_id bigint, PRIMARY KEY (event_id, seat));
	CREATE INDEX seats_free ON bench_seat.seats (event_id, seat)
	    WHERE reg_id IS NULL;
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
	run_reg_pgbench insert-after "$tmp/insert.sql" "$CONNS"
	insert_tps2=$rp_tps
	insert_tps=$(awk -v a="$insert_tps1" -v b="$insert_tps2" 'BEGIN { printf "%.1f", (a + b) / 2 }')
	note "plain INSERT: mean $(printf '%.0f' "$insert_tps") tps of the runs just before and after the daemon's ($(printf '%.0f' "$insert_tps1"), $(printf '%.0f' "$insert_tps2"))"
	n_wait=$(psql -X -tAc "SELECT count(*) FROM bench_seat.registrations WHERE status <> 'confirmed'" "$conn")
	[ "$n_wait" = 0 ] || note "  (seat.sql ran out of seats: $n_wait waitlisted)"

	# The opening rush: every client connected, then all at once.
	note ""
	note "== opening rush: $RUSH_N registrations from $RUSH_CONNS keep-alive connections, event $ev_rush (300 seats)"
	# tests/bench/rush.c: one thread and epoll, all connected first.
	rush_port=${base##*:}
	rush_line=$("$RUSHC" 127.0.0.1 "$rush_port" "$ev_rush" "$RUSH_N" "$RUSH_CONNS" 2>&1) ||
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
# The clients all come from 127.0.0.1, which one address may hold only
# HTTP_MAXCONNS_PER_ADDR (256) connections of; as behind nginx, a trusted
# proxy's connections are not capped, so loopback is named one here.
if start_daemon "$best" idle --trusted-proxies 127.0.0.1; then
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

# --- 6. tickets: check-in, PNG, ES256 -------------------------------------------
# Check-in: POST /api/v1/checkins (wrk, tests/bench/checkin.lua) beside
# pgbench running the daemon's check-in statement (SQL_CHECKIN in
# server/db.c), same client count. Each run has an event of its own with
# NTICKETS fresh confirmed registrations and walks its tickets in the same
# order (client or thread c of C takes tickets c, c+C, ...), so the first
# pass admits and later passes are already_checked_in in both.
note ""
note "== tickets (daemon pool $best)"
ck_ok=0
ck_rps=0 ck_req=0 ck_dur=0 ck_non2xx="" ck_p50="" ck_p99="" ck_p99_ms="" ck_mix=""
ckpg_tps1=0 ckpg_tps2=0 ckpg_tps=0 ckpg_p99="" ckpg_mix1="" ckpg_mix2=""
ck_groups=0 ck_gsize=0 ck_g=1 ckgrp_tps=0 ckgrp_mix=""
ck_cpu="" ck_cpu_ms="" ck_dup="" ck_admitted="" ck_checked="" png_http_rps=0 png_http_p99="" png_non2xx=""
png_rate=0 qr_rate=0 verify_rate=0 ossl_verify=0 sign_rate=0 ossl_sign=0
micro_line="" png_px="" qr_px="" png_bytes="" qr_bytes="" tok_bytes="" qr_version="" qr_info="" png_info=""

# group_metrics: "groups scans" from the daemon's /metrics.
group_metrics() {
	"${HELPER[@]}" get "$base" /metrics | awk '
		$1 == "rollcall_checkin_groups_total" { g = $2 }
		$1 == "rollcall_checkin_grouped_scans_total" { s = $2 }
		END { print g + 0, s + 0 }'
}

# cpu_ticks PID: user + system clock ticks the process has used.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# pnginfo FILE: "WxH px, D-bit grey|palette|..." from the PNG header.
pnginfo() {
	"$PY" -c 'import struct, sys
d = open(sys.argv[1], "rb").read(26)
w, h, depth, ct = struct.unpack(">IIBB", d[16:26])
print("%dx%d px, %d-bit %s" % (w, h, depth, {0: "grey", 2: "RGB", 3: "palette",
      4: "grey+alpha", 6: "RGBA"}.get(ct, "?")))' "$1" 2>/dev/null || echo "?"
}

# verdicts NONCE_PREFIX: "verdict xN, ..." of the scans whose nonce starts so.
verdicts() {
	psql -X -tA -F ' ' "$conn" -c "SELECT verdict, count(*) FROM checkins
		WHERE nonce LIKE '$1-%' GROUP BY verdict ORDER BY verdict" |
		awk '{ printf "%s%s %s", sep, $1, $2; sep = ", " }'
}

if start_daemon "$best" serve-tickets; then
	read -r ev_ck1 ev_ckh ev_ck2 ev_png ev_ckg < <("${HELPER[@]}" ticketevents "$base" "$token" 5) ||
		{ echo "bench: cannot create the check-in events" >&2; exit 1; }
	read -r door_h_jti door_h < <("${HELPER[@]}" door "$base" "$token" "$ev_ckh") ||
		{ echo "bench: cannot issue a door token" >&2; exit 1; }
	read -r door_1_jti door_1 < <("${HELPER[@]}" door "$base" "$token" "$ev_ck1") ||
		{ echo "bench: cannot issue a door token" >&2; exit 1; }
	read -r door_2_jti door_2 < <("${HELPER[@]}" door "$base" "$token" "$ev_ck2") ||
		{ echo "bench: cannot issue a door token" >&2; exit 1; }
	read -r door_p_jti door_p < <("${HELPER[@]}" door "$base" "$token" "$ev_png") ||
		{ echo "bench: cannot issue a door token" >&2; exit 1; }
	read -r door_g_jti door_g < <("${HELPER[@]}" door "$base" "$token" "$ev_ckg") ||
		{ echo "bench: cannot issue a door token" >&2; exit 1; }
	note "events: $ev_ck1 and $ev_ck2 (pgbench before/after), $ev_ckh (HTTP), $ev_png (ticket PNG); one door token each"

	# One registration through HTTP: its ticket for the PNG runs, and a
	# check of the whole path (admitted, then already_checked_in).
	png_secret="" png_token=""
	if read -r png_secret png_token < <("${HELPER[@]}" ticketreg "$base" "$ev_png" \
		"png@bench.example.com" 2>"$tmp/ticketreg.err"); then :; fi
	[ ! -s "$tmp/ticketreg.err" ] ||
		anomaly "POST /api/v1/events/$ev_png/registrations: $(head -c 300 "$tmp/ticketreg.err" | tr '\n' ' ')"
	if [ -n "$png_token" ]; then
		s1=$("${HELPER[@]}" scan "$base" "$door_p" "$png_token" 2>&1) || true
		s2=$("${HELPER[@]}" scan "$base" "$door_p" "$png_token" 2>&1) || true
		s3=$("${HELPER[@]}" scan "$base" "$door_h" "$png_token" 2>&1) || true
		[ "$s1|$s2|$s3" = "200 admitted|200 already_checked_in|200 wrong_event" ] ||
			anomaly "scans of one ticket answered '$s1', '$s2', '$s3'; expected '200 admitted', '200 already_checked_in', '200 wrong_event' (its door, again, another event's door)"
	fi

	# NTICKETS confirmed registrations per event, through the daemon's own
	# registration function (rc_register, which also queues each one's
	# confirmation and reminder, unsealed), committing every 25 (one
	# transaction would update the event's counter row 20,000 times:
	# quadratic). Nothing else
	# registers meanwhile, so ids and ticket jtis run in step. The HTTP
	# run's event first: build/ticket-bench signs its tickets (PEM parsing
	# makes that about as slow as registering) while the others fill.
	t0=$(date +%s.%N)
	psql -q -X -v ON_ERROR_STOP=1 "$conn" >"$tmp/fill.log" 2>&1 <<-SQL ||
	SET statement_timeout = 0;
	SET synchronous_commit = off;
	CREATE SCHEMA bench_ck;
	CREATE PROCEDURE bench_ck.fill(p_event bigint, n integer, tag text)
	LANGUAGE plpgsql AS \$\$
	BEGIN
		FOR i IN 1..n LOOP
			PERFORM rc_register(p_event, jsonb_build_object(
			    'name', 'Bench Attendee ' || i,
			    'email', tag || '-' || i || '@bench.example.com',
			    'company', 'Bench Co', 'job_title', 'Engineer',
			    'identity', 'professional', 'consent',
			    '{"sponsors": true, "fields": ["email", "job_title"]}'::jsonb),
			    sha256(convert_to('m-' || tag || '-' || i, 'UTF8')),
			    sha256(convert_to('j-' || tag || '-' || i, 'UTF8')), NULL);
			IF i % 25 = 0 THEN
				COMMIT;
			END IF;
		END LOOP;
	END \$\$;
	CALL bench_ck.fill($ev_ckh, $NTICKETS, 'ck$ev_ckh');
	SQL
		{ cat "$tmp/fill.log" >&2; echo "bench: cannot make the registrations" >&2; exit 1; }
	"$TBIN" sign "$conn" "$ev_ckh" "$tmp/tokens.txt" >"$tmp/sign.out" 2>&1 &
	sign_pid=$!
	psql -q -X -v ON_ERROR_STOP=1 "$conn" >"$tmp/fill.log" 2>&1 <<-SQL ||
	SET statement_timeout = 0;
	SET synchronous_commit = off;
	CALL bench_ck.fill($ev_ck1, $NTICKETS, 'ck$ev_ck1');
	CALL bench_ck.fill($ev_ck2, $NTICKETS, 'ck$ev_ck2');
	CALL bench_ck.fill($ev_ckg, $NTICKETS, 'ck$ev_ckg');
	VACUUM ANALYZE registrations, events, checkins, consent_history;
	SQL
		{ cat "$tmp/fill.log" >&2; echo "bench: cannot make the registrations" >&2; exit 1; }
	fill_secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	wait "$sign_pid" || { cat "$tmp/sign.out" >&2; echo "bench: $TBIN sign failed" >&2; exit 1; }
	sign_pid=""
	sign_line=$(cat "$tmp/sign.out")
	[ "$(wc -l <"$tmp/tokens.txt")" = "$NTICKETS" ] ||
		{ echo "bench: $TBIN signed $(wc -l <"$tmp/tokens.txt") tickets, not $NTICKETS" >&2; exit 1; }
	# Per event: count, first id, first jti (as a number), and whether
	# id and jti advance together.
	declare -A ck_rbase ck_jbase
	for e in "$ev_ck1" "$ev_ckh" "$ev_ck2" "$ev_ckg"; do
		read -r n rb jb steps span < <(psql -X -tA -F ' ' "$conn" -c "WITH x AS (
			SELECT id, ('x' || lpad(ticket_jti, 16, '0'))::bit(64)::bigint AS j
			FROM registrations WHERE event_id = $e AND status = 'confirmed')
			SELECT count(*), min(id), min(j), count(DISTINCT j - id), max(id) - min(id) + 1 FROM x")
		[ "$n" = "$NTICKETS" ] && [ "$steps" = 1 ] && [ "$span" = "$NTICKETS" ] ||
			{ echo "bench: event $e: $n confirmed registrations, ids and jtis not in step ($steps, $span)" >&2; exit 1; }
		ck_rbase[$e]=$rb ck_jbase[$e]=$jb
	done
	kid=$(psql -X -tAc "SELECT kid FROM ticket_keys WHERE retired_at IS NULL" "$conn")
	note "registrations: 4 x $NTICKETS confirmed (rc_register in SQL, $fill_secs s); tickets of event $ev_ckh signed by $TBIN_SRC meanwhile ($sign_line), key $kid"
	# The signed tickets are what the daemon hands out: the first one,
	# once more through the API's own signing, must be the same string
	# (signatures are deterministic).
	"$TBIN" sign "$conn" "$ev_png" "$tmp/png-token.txt" >/dev/null ||
		{ echo "bench: $TBIN sign failed" >&2; exit 1; }
	[ -z "$png_token" ] || [ "$(cat "$tmp/png-token.txt")" = "$png_token" ] ||
		anomaly "$TBIN signs event $ev_png's ticket differently from the daemon"

	# pgbench: the daemon's statement with the parameters it would send
	# for the same ticket (the verified claims as keyring_claims() writes
	# them). No ':' directly before a letter outside variables.
	cat >"$tmp/checkin.sql" <<-'SQL'
	\set k :k + 1
	\set i (:client_id + :nc * (:k - 1)) % :n
	SELECT rc_checkin_door(:door, 'door', NULL::bigint, ('{"ev":' || :ev || ',"reg":' || (:rbase::bigint + :i) || ',"jti":"' || to_hex(:jbase::bigint + :i) || '","kid":"' || :kid || '"}')::jsonb, 'bench', :run || '-c' || :client_id || '-' || :k)::text;
	SQL
	ck_pgbench() {	# ck_pgbench LABEL EVENT DOOR_JTI DOOR_EVENT [CLIENTS]
		run_reg_pgbench "$1" "$tmp/checkin.sql" "${5:-$CONNS}" -D k=0 -D nc="${5:-$CONNS}" \
			-D n="$NTICKETS" -D ev="$2" -D rbase="${ck_rbase[$2]}" -D jbase="${ck_jbase[$2]}" \
			-D kid="$kid" -D door="$3" -D scope="{$4}" -D run="$1"
	}
	# Warm-up, admitting nobody: the door of another event (wrong_event).
	SAVE_SECS=$SECS SECS=1
	ck_pgbench warmpg "$ev_ck1" "$door_2_jti" "$ev_ck2" 4 >/dev/null
	SECS=$SAVE_SECS
	n_warm=$(psql -X -tAc "SELECT count(*) FROM checkins WHERE nonce LIKE 'warmpg-%' AND verdict <> 'wrong_event'" "$conn")
	[ "$n_warm" = 0 ] || anomaly "pgbench warm-up: $n_warm scans with another event's door were not wrong_event"

	note ""
	note "== baseline: pgbench -n -M prepared -c $CONNS -j 2 -T $SECS: rc_checkin_door (SQL_CHECKIN_DOOR) on event $ev_ck1"
	ck_pgbench ckbefore "$ev_ck1" "$door_1_jti" "$ev_ck1"
	ckpg_tps1=$rp_tps ckpg_p99_1=$rp_p99
	ckpg_mix1=$(verdicts ckbefore)
	note "  verdicts: $ckpg_mix1"

	note ""
	note "== daemon: wrk -t2 -c$CONNS -d${SECS}s POST /api/v1/checkins, tickets of event $ev_ckh"
	url=$base/api/v1/checkins
	# Warm-up with the door of another event: every scan is wrong_event.
	timeout $((SECS + 30)) wrk -t2 -c"$CONNS" -d1s -s tests/bench/checkin.lua "$url" -- \
		"$tmp/tokens.txt" "$door_p" warm 2 >/dev/null 2>&1 || true
	read -r ck_g0 ck_s0 < <(group_metrics)
	cpu0=$(cpu_ticks "$daemon_pid") t0=$(date +%s.%N)
	out=$(timeout $((SECS + 30)) wrk -t2 -c"$CONNS" -d"${SECS}s" --latency \
		-s tests/bench/checkin.lua "$url" -- "$tmp/tokens.txt" "$door_h" http 2 2>&1) || true
	ck_cpu=$(awk -v a="$cpu0" -v b="$(cpu_ticks "$daemon_pid")" -v t0="$t0" -v t1="$(date +%s.%N)" \
		-v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", (b - a) / hz / (t1 - t0) * 100 }')
	printf '%s\n' "$out" >"$tmp/wrk-checkin.txt"
	ck_req=$(awk '/ requests in / { print $1; exit }' <<<"$out")
	ck_dur=$(awk '/ requests in / { d = $4; sub(/s,?$/, "", d); print d; exit }' <<<"$out")
	ck_non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF; exit }' <<<"$out")
	sockerr=$(grep -o 'Socket errors:.*' <<<"$out" || true)
	ck_p50=$(awk '$1 == "50%" { print $2; exit }' <<<"$out")
	ck_p99=$(awk '$1 == "99%" { print $2; exit }' <<<"$out")
	if [ -z "$ck_req" ] || [ -z "$ck_dur" ]; then
		printf '%s\n' "$out" >&2
		anomaly "check-in: wrk reported no throughput"
		ck_req=0 ck_dur=1
	fi
	[ -z "$ck_non2xx" ] || anomaly "check-in: wrk saw $ck_non2xx non-2xx replies"
	[ -z "$sockerr" ] || anomaly "check-in: wrk $sockerr"
	ck_rps=$(awk -v n="$ck_req" -v b="${ck_non2xx:-0}" -v d="$ck_dur" 'BEGIN { printf "%.1f", (d > 0 ? (n - b) / d : 0) }')
	ck_p99_ms=$(wrk_ms "${ck_p99:-0}")
	ck_mix=$(verdicts http)
	if kill -0 "$daemon_pid" 2>/dev/null; then
		stats=$("${HELPER[@]}" statuses "$base" checkins 2>&1) ||
			anomaly "check-in: /metrics did not answer after the run"
		bad=$(awk '$1 != "200" && $1 != "db_errors" { printf "%s%s x%s", sep, $1, $2; sep = ", " }' <<<"$stats")
		dberr=$(awk '$1 == "db_errors" { print $2 }' <<<"$stats")
		[ -z "$bad" ] || anomaly "check-in: /metrics counts non-200 replies: $bad"
		# Every scan through HTTP (the three checks, the warm-up, the
		# run) is one reply 200 and one row.
		n200=$(awk '$1 == "200" { print $2 }' <<<"$stats")
		n_rows=$(psql -X -tAc "SELECT count(*) FROM checkins WHERE door_jti IN ('$door_h_jti', '$door_p_jti')" "$conn")
		[ "${n200:-0}" = "$n_rows" ] ||
			anomaly "check-in: /metrics counts ${n200:-0} replies 200, the database $n_rows scans"
		[ -z "$dberr" ] || [ "$dberr" = 0 ] || anomaly "check-in: rollcall_db_errors_total $dberr"
	else
		anomaly "check-in: the daemon died during the run; log tail: $(tail -n 5 "$tmp/serve-tickets.log" | tr '\n' '|')"
	fi
	n_rec=$(psql -X -tAc "SELECT count(*) FROM checkins WHERE nonce LIKE 'http-%'" "$conn")
	ck_cpu_ms=$(awk -v c="$ck_cpu" -v r="$ck_rps" 'BEGIN { printf "%.2f", (r > 0 ? c / 100 / r * 1000 : 0) }')
	read -r ck_g1 ck_s1 < <(group_metrics)
	ck_groups=$((ck_g1 - ck_g0)) ck_gsize=$(awk -v g="$((ck_g1 - ck_g0))" -v s="$((ck_s1 - ck_s0))" 'BEGIN { printf "%.1f", (g > 0 ? s / g : 0) }')
	note "daemon: $(printf '%.0f' "$ck_rps") check-ins/s (${ck_req} replies in ${ck_dur} s, ${ck_non2xx:-0} non-2xx; $n_rec scans recorded), latency p50 ${ck_p50:-?} p99 ${ck_p99:-?}; daemon CPU ${ck_cpu}% of one core, $ck_cpu_ms ms a check-in"
	note "  verdicts: $ck_mix"
	note "  $ck_groups statements (rc_checkin_group) decided them, $ck_gsize scans each on average"
	n_warm=$(psql -X -tAc "SELECT count(*) FROM checkins WHERE nonce LIKE 'warm-%' AND verdict <> 'wrong_event'" "$conn")
	[ "$n_warm" = 0 ] || anomaly "check-in warm-up: $n_warm scans with another event's door token were not wrong_event"

	note ""
	ck_pgbench ckafter "$ev_ck2" "$door_2_jti" "$ev_ck2"
	ckpg_tps2=$rp_tps ckpg_p99_2=$rp_p99
	ckpg_mix2=$(verdicts ckafter)
	note "  verdicts: $ckpg_mix2"
	ckpg_tps=$(awk -v a="$ckpg_tps1" -v b="$ckpg_tps2" 'BEGIN { printf "%.1f", (a + b) / 2 }')

	# For information: the daemon's own statement, rc_checkin_group, with
	# groups of the size the daemon formed and as many clients as it keeps
	# groups in flight (GROUP_INFLIGHT in server/checkin.c), on a fourth
	# event's fresh tickets.
	ck_g=$(awk -v g="$ck_gsize" 'BEGIN { g = int(g + 0.5); print (g < 1 ? 1 : g) }')
	cat >"$tmp/checkin-group.sql" <<-'SQL'
	\set k :k + 1
	\set i ((:client_id + :nc * (:k - 1)) * :g) % :n
	SELECT count(*) FROM rc_checkin_group((SELECT jsonb_agg(jsonb_build_object('door', :door::text, 'role', 'door', 'event', NULL, 'claims', jsonb_build_object('ev', :ev::bigint, 'reg', :rbase::bigint + j % :n::bigint, 'jti', to_hex(:jbase::bigint + j % :n::bigint), 'kid', :kid::text), 'gate', 'bench', 'nonce', :run::text || '-c' || :client_id::text || '-' || :k::text || '-' || j)) FROM generate_series(:i::bigint, :i::bigint + :g::bigint - 1) j));
	SQL
	run_reg_pgbench ckgroup "$tmp/checkin-group.sql" 2 -D k=0 -D nc=2 -D g="$ck_g" \
		-D n="$NTICKETS" -D ev="$ev_ckg" -D rbase="${ck_rbase[$ev_ckg]}" -D jbase="${ck_jbase[$ev_ckg]}" \
		-D kid="$kid" -D door="$door_g_jti" -D run=ckgroup
	ckgrp_tps=$(awk -v t="$rp_tps" -v g="$ck_g" 'BEGIN { printf "%.1f", t * g }')
	ckgrp_mix=$(verdicts ckgroup)
	note "  groups of $ck_g: $(printf '%.0f' "$ckgrp_tps") scans/s; verdicts: $ckgrp_mix"
	ckpg_p99=$(awk -v a="${ckpg_p99_1:-0}" -v b="${ckpg_p99_2:-0}" 'BEGIN { printf "%.1f", (a > b ? a : b) }')
	note "pgbench baseline: mean $(printf '%.0f' "$ckpg_tps") tps (after vs before: $(awk -v a="$ckpg_tps1" -v b="$ckpg_tps2" 'BEGIN { printf "%+.0f", (b - a) / (a > 0 ? a : 1) * 100 }')%)"

	# Exactly-once: no registration admitted twice, and every admission
	# is one registration checked in.
	read -r ck_dup ck_admitted ck_checked < <(psql -X -tA -F ' ' "$conn" -c "SELECT
		coalesce((SELECT max(c) FROM (SELECT count(*) c FROM checkins
		    WHERE verdict = 'admitted' GROUP BY registration_id) a), 0),
		(SELECT count(*) FROM checkins WHERE verdict = 'admitted'),
		(SELECT count(*) FROM registrations WHERE checked_in_at IS NOT NULL)")
	[ "$ck_dup" -le 1 ] 2>/dev/null ||
		anomaly "check-in: a ticket was admitted $ck_dup times: $(psql -X -tA -F ' ' "$conn" -c "SELECT registration_id, count(*) FROM checkins WHERE verdict = 'admitted' GROUP BY registration_id HAVING count(*) > 1 ORDER BY 2 DESC LIMIT 5" | tr '\n' ';')"
	[ "$ck_admitted" = "$ck_checked" ] ||
		anomaly "check-in: $ck_admitted admissions recorded but $ck_checked registrations checked in"
	note "database: $ck_admitted admissions in all, $ck_checked registrations checked in, at most $ck_dup admission per registration"

	# The ticket image through HTTP, for information. Each one is signed
	# and drawn on the daemon's event-loop thread, tens of milliseconds:
	# 64 clients would mostly measure wrk's 2 s timeout, so 8.
	if [ -n "$png_secret" ]; then
		url=$base/api/v1/registrations/$png_secret/ticket.png
		"${HELPER[@]}" get "$base" "/api/v1/registrations/$png_secret/ticket.png" >"$tmp/http.png" ||
			anomaly "GET .../ticket.png did not answer 200"
		timeout 30 wrk -t2 -c8 -d1s "$url" >/dev/null 2>&1 || true
		# Meanwhile, a request that needs no database: the stylesheet.
		( sleep 1; timeout 30 wrk -t1 -c2 -d3s --latency "$base/static/style.css" >"$tmp/wrk-css.txt" 2>&1 ) &
		css_pid=$!
		out=$(timeout $((SECS + 30)) wrk -t2 -c8 -d5s --latency "$url" 2>&1) || true
		wait "$css_pid" 2>/dev/null || true
		css_p99=$(awk '$1 == "99%" { print $2; exit }' "$tmp/wrk-css.txt")
		css_rps=$(awk '/^Requests\/sec:/ { print $2; exit }' "$tmp/wrk-css.txt")
		note "daemon: GET /static/style.css meanwhile $(printf '%.0f' "${css_rps:-0}") req/s, p99 ${css_p99:-?}"
		printf '%s\n' "$out" >"$tmp/wrk-png.txt"
		png_http_rps=$(awk '/^Requests\/sec:/ { print $2; exit }' <<<"$out")
		png_http_p99=$(awk '$1 == "99%" { print $2; exit }' <<<"$out")
		png_non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF; exit }' <<<"$out")
		sockerr=$(grep -o 'Socket errors:.*' <<<"$out" || true)
		[ -n "$png_http_rps" ] || { anomaly "ticket.png: wrk reported no throughput"; png_http_rps=0; }
		[ -z "$png_non2xx" ] || anomaly "ticket.png: wrk saw $png_non2xx non-2xx replies"
		[ -z "$sockerr" ] || anomaly "ticket.png: wrk $sockerr"
		note "daemon: GET /api/v1/registrations/{secret}/ticket.png $(printf '%.0f' "$png_http_rps") req/s (wrk -t2 -c8 -d5s), p99 ${png_http_p99:-?}"
	fi
	kill -0 "$daemon_pid" 2>/dev/null ||
		anomaly "tickets: the daemon died; log tail: $(tail -n 5 "$tmp/serve-tickets.log" | tr '\n' '|')"
	stop_daemon || anomaly "tickets: daemon exited with status $? on SIGTERM"
	if grep -qiE 'warn|error|lost|cannot' "$tmp/serve-tickets.log"; then
		note "  daemon log (tickets):"
		grep -iE 'warn|error|lost|cannot' "$tmp/serve-tickets.log" | sort | uniq -c | sort -rn | head -n 5 | sed 's/^/    /'
	fi
	ck_ok=1

	# Ticket code alone: ticket_png, ticket_verify, ticket_sign.
	note ""
	note "== ticket code: $TBIN_SRC micro (${MICRO_SECS} s a loop), qrencode, openssl speed"
	micro_line=$("$TBIN" micro "$conn" "$tmp/tokens.txt" "$MICRO_SECS" "$tmp/ours.png" 2>&1) ||
		anomaly "$TBIN micro failed: $(tail -n 3 <<<"$micro_line" | tr '\n' '|')"
	mk() { sed -n "s/^$1=//p" <<<"$micro_line"; }
	png_rate=$(mk png_per_sec) verify_rate=$(mk verify_per_sec) sign_rate=$(mk sign_per_sec)
	png_px=$(mk png_px) png_bytes=$(mk png_bytes) tok_bytes=$(mk token_bytes) qr_version=$(mk qr_version)
	: "${png_rate:=0}" "${verify_rate:=0}" "${sign_rate:=0}"
	for f in png_failed verify_failed sign_failed; do
		[ "$(mk $f)" = 0 ] || anomaly "$TBIN micro: $f=$(mk $f)"
	done
	[ "$(mk forged_rejected)" = 1 ] || anomaly "ticket_verify accepted a token with a changed signature"
	note "$(tr '\n' ' ' <<<"$micro_line")"
	tok=$(head -n 1 "$tmp/tokens.txt")
	if command -v zbarimg >/dev/null; then
		[ "$(zbarimg -q --raw "$tmp/ours.png" 2>/dev/null)" = "$tok" ] ||
			anomaly "zbarimg does not read the token back from ticket_png()'s PNG"
	fi
	# The same PNG from the command line: level M, 9-pixel modules, a
	# 4-module quiet zone, 8-bit mode. Each run starts a process.
	qrencode -l M -s 9 -m 4 -8 -o "$tmp/qrencode.png" "$tok" ||
		anomaly "qrencode failed"
	t0=$(date +%s.%N)
	for i in $(seq 1 "$QR_RUNS"); do
		qrencode -l M -s 9 -m 4 -8 -o "$tmp/qrencode.png" "$tok"
	done
	qr_rate=$(awk -v a="$t0" -v b="$(date +%s.%N)" -v n="$QR_RUNS" 'BEGIN { printf "%.1f", n / (b - a) }')
	qr_info=$(pnginfo "$tmp/qrencode.png") png_info=$(pnginfo "$tmp/ours.png")
	qr_bytes=$(wc -c <"$tmp/qrencode.png")
	note "qrencode -l M -s 9 -m 4 -8: $qr_rate PNGs/s over $QR_RUNS runs (process start-up included), $qr_info, $qr_bytes bytes; ticket_png(): $png_info, $png_bytes bytes"
	[ "${qr_info%% *}" = "${png_info%% *}" ] || note "  (the two PNGs differ in size: ticket_png() picks the module size for 400-600 px)"
	out=$(openssl speed -seconds "$MICRO_SECS" ecdsap256 2>/dev/null) || true
	printf '%s\n' "$out" >"$tmp/openssl-speed.txt"
	read -r ossl_sign ossl_verify < <(awk '/ecdsa \(nistp256\)/ { print $(NF - 1), $NF; exit }' <<<"$out") || true
	: "${ossl_sign:=0}" "${ossl_verify:=0}"
	[ "$ossl_verify" != 0 ] || anomaly "openssl speed ecdsap256 gave no verify/s figure"
	note "openssl speed -seconds $MICRO_SECS ecdsap256: $(printf '%.0f' "$ossl_sign") sign/s, $(printf '%.0f' "$ossl_verify") verify/s ($(openssl version | cut -d' ' -f1-2))"
else
	anomaly "tickets: the daemon did not come up"
fi

# --- 7. summary -------------------------------------------------------------
: "${insert_tps:=0}" "${fixed_rps:=0}" "${css_p99:=}"
# target NAME VERDICT DETAIL: one line of the MET/MISSED table.
targets=()
target() { targets+=("$(printf '%-32s %-7s %s' "$1" "$2" "$3")"); }
r3() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
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
	note "  for information: rc_register_group in groups of ${grp_size:-?} one after another on one event (pgbench -c 1, the group statement's own latency) $(printf '%.0f' "${grp_rps:-0}") registrations/s; daemon / that = $(awk -v d="$reg_rps" -v p="${grp_rps:-0}" 'BEGIN { printf "%.2f", (p > 0 ? d / p : 0) }') (one event's groups wait for each other on its row: this is its ceiling while a group costs what it does)"
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
if [ "$ck_ok" = 1 ]; then
	r2() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
	ck_ratio=$(r2 "$ck_rps" "$ckpg_tps")
	note "checkins: daemon $(printf '%.0f' "$ck_rps") req/s (p99 ${ck_p99_ms} ms), pgbench $(printf '%.0f' "$ckpg_tps") tps (p99 ${ckpg_p99} ms), ratio $ck_ratio (target >= $CHECKIN_RATIO_TARGET: $(met "$ck_ratio >= $CHECKIN_RATIO_TARGET"))"
	note "  daemon: POST /api/v1/checkins, pool $best, wrk -t2 -c$CONNS -d${SECS}s, p50 ${ck_p50:-?} p99 ${ck_p99:-?}, ${ck_non2xx:-0} non-2xx; verdicts: ${ck_mix:-?}"
	note "  pgbench (rc_checkin_door, -M prepared -c $CONNS -j 2 -T $SECS): $(printf '%.0f' "$ckpg_tps1") tps before (${ckpg_mix1:-?}), $(printf '%.0f' "$ckpg_tps2") after (${ckpg_mix2:-?})"
	note "  each scan is decided by rc_checkin (one conditional UPDATE), as in pgbench's rc_checkin_door; the daemon sends the scans that arrive together as one statement and one commit (rc_checkin_group): $ck_groups statements, $ck_gsize scans each"
	note "  for information: pgbench running rc_checkin_group, groups of $ck_g, 2 clients (the daemon keeps 2 groups in flight): $(printf '%.0f' "$ckgrp_tps") scans/s; daemon / that = $(r2 "$ck_rps" "$ckgrp_tps")"
	note "  for information: the daemon used ${ck_cpu:-?}% of one core (${ck_cpu_ms:-?} ms a check-in); ticket_verify() alone, on its one event-loop thread, allows at most $(printf '%.0f' "$verify_rate") check-ins/s"
	note "  verdict mix differs when the rates do: a run that gets past the first $NTICKETS scans sees already_checked_in (the same one statement)"
	note "  exactly-once: at most ${ck_dup:-?} admission per registration ($ck_admitted admissions, $ck_checked registrations checked in): $(met "${ck_dup:-2} <= 1 && ${ck_admitted:-0} == ${ck_checked:--1}")"
	note "ticket_png: $(printf '%.0f' "$png_rate") PNGs/s (ticket_png(), ${tok_bytes:-?}-byte token, QR version ${qr_version:-?}, ${png_px:-?} px), qrencode command $(printf '%.0f' "$qr_rate")/s (process start-up included), ratio $(r2 "$png_rate" "$qr_rate")"
	note "  PNGs: ticket_png() $png_info, $png_bytes bytes; qrencode $qr_info, $qr_bytes bytes"
	note "  for information: GET /api/v1/registrations/{secret}/ticket.png through the daemon (wrk -t2 -c8) $(printf '%.0f' "$png_http_rps") req/s (p99 ${png_http_p99:-?}, ${png_non2xx:-0} non-2xx)"
	note "es256_verify: ticket_verify() $(printf '%.0f' "$verify_rate")/s, openssl speed ecdsap256 $(printf '%.0f' "$ossl_verify") verify/s, ratio $(r2 "$verify_rate" "$ossl_verify")"
	note "  for information: ticket_sign() $(printf '%.0f' "$sign_rate")/s, openssl speed $(printf '%.0f' "$ossl_sign") sign/s, ratio $(r2 "$sign_rate" "$ossl_sign")"
else
	note "checkins: no result (the daemon did not come up)"
fi
ms_of() { [ -n "$1" ] && wrk_ms "$1" || echo 999999; }
if [ "$reg_ok" = 1 ]; then
	x=$(r3 "$reg_rps" "$seat_tps")
	target "1. registration / seat SQL" "$(met "$x >= $REG_SEAT_TARGET")" "ratio $x (target >= $REG_SEAT_TARGET): daemon $(printf '%.0f' "$reg_rps")/s, per-seat SKIP LOCKED $(printf '%.0f' "$seat_tps") tps"
	x=$(r3 "$reg_rps" "$insert_tps")
	target "1. registration / plain INSERT" "$(met "$x >= $REG_INSERT_TARGET")" "ratio $x (target >= $REG_INSERT_TARGET): plain INSERT $(printf '%.0f' "$insert_tps") tps"
	target "1. registration p99" "$(met "${reg_p99_ms:-999999} < $REG_P99_MS")" "${reg_p99_ms:-?} ms at $CONNS connections (target < $REG_P99_MS ms)"
	target "2. opening rush" "$(met "\"$c_all\" == \"MET\" && ${rush_p99:-999999} < $RUSH_P99_MS")" "${db_conf:-?} confirmed of 300, ${rush_5xx:-?} 5xx, p99 ${rush_p99:-?} ms (target exactly 300, 0 5xx, p99 < $RUSH_P99_MS ms)"
fi
worst="" worst_path=""
for path in $read_paths; do
	[ -n "${read_rps[$path]:-}" ] || continue
	if [ -z "$worst" ] || awk -v a="${read_rps[$path]}" -v b="$worst" 'BEGIN { exit !(a < b) }'; then
		worst=${read_rps[$path]} worst_path=$path
	fi
done
x=$(r3 "${worst:-0}" "$fixed_rps")
target "3. public reads / evhttp" "$(met "$x >= $READ_TARGET")" "ratio $x (target >= $READ_TARGET): slowest GET $worst_path $(printf '%.0f' "${worst:-0}")/s, evhttp fixed body $(printf '%.0f' "$fixed_rps")/s"
if [ -n "$inval_max" ]; then
	target "3. cache invalidated by NOTIFY" "$(met "$inval_max < 1000 && $inval_fill < 1000")" "another daemon shows a change in max $inval_max ms (median $inval_med) over 20 rounds, a full event in $inval_fill ms (target < 1000 ms)"
else
	target "3. cache invalidated by NOTIFY" "MISSED" "no measurement (see the anomalies)"
fi
if [ "$ck_ok" = 1 ]; then
	x=$(ms_of "$css_p99")
	target "4. no-DB request p99, PNG load" "$(met "$x < $CSS_P99_MS")" "GET /static/style.css p99 ${css_p99:-?} while 8 clients fetch PNGs (target < $CSS_P99_MS ms)"
	x=$(r3 "$png_rate" "$qr_rate")
	target "4. ticket PNG / qrencode" "$(met "$x >= $PNG_TARGET")" "ratio $x (target >= $PNG_TARGET): ticket_png() $(printf '%.0f' "$png_rate")/s, qrencode $(printf '%.0f' "$qr_rate")/s; through HTTP $(printf '%.0f' "$png_http_rps")/s"
	x=$(r3 "$ck_rps" "$ckpg_tps")
	target "5. check-in / its statement" "$(met "$x >= $CHECKIN_RATIO_TARGET")" "ratio $x (target >= $CHECKIN_RATIO_TARGET): daemon $(printf '%.0f' "$ck_rps")/s, pgbench $(printf '%.0f' "$ckpg_tps") tps"
fi
target "6. scanner / zbarimg" "-" "see scan_decode (tests/bench/scan_bench.sh, after this)"
target "7. RSS, $IDLE idle connections" "$(met "$rss_after_kb > 0 && $rss_after_kb / 1024 < $RSS_TARGET_MB")" "$rss_mb MB (target < $RSS_TARGET_MB MB)"
note ""
note "== targets (each against a baseline of this run)"
for t in "${targets[@]}"; do note "$t"; done
note ""
note "load average (1 min): $load_start at the start, $(cut -d' ' -f1 /proc/loadavg) at the end ($(nproc) CPUs; other work on the machine moves every figure)"
if [ ${#anomalies[@]} -eq 0 ]; then
	note "anomalies: none"
else
	note "anomalies: ${#anomalies[@]}"
	for a in "${anomalies[@]}"; do note "  - $a"; done
fi
exit 0
