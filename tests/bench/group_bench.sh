#!/usr/bin/env bash
# How a registration group's cost in PostgreSQL grows with the group's
# size and with the event's waitlist (docs/performance.md, "third pass"):
# the serial work of one hot event, without the daemon.
#
#   1. a private PostgreSQL cluster in a fresh temp dir, migrated; through
#      the API (build/rollcalld on a free loopback port, stopped again) an
#      event with room for everyone and a 300-seat one with a waitlist;
#   2. pgbench -c 1 running rc_register_group (SQL_REGISTER_GROUP of
#      server/db.c) with groups of each size in BENCH_GROUP_SIZES on the
#      first event, BENCH_GROUP_SECS seconds each: the group statement's
#      own latency (pgbench -r; the group's JSON is built by a statement
#      of its own), ms a group and µs a registration;
#   3. groups of 32 on the 300-seat event, BENCH_GROUP_SECS seconds each,
#      BENCH_GROUP_ROUNDS times: everyone past the 300th is waitlisted, so
#      each round starts with a longer waitlist. A group's cost should not
#      grow with it (events.waitlisted, migration 028).
# The first round of each part warms the plans and is reported apart.
# Exits 0 whatever the figures; non-zero only when the bench cannot run.
# Loopback only; about BENCH_GROUP_SECS x (sizes + rounds + 2) seconds.
#
# Environment: ROLLCALLD (default build/rollcalld), BENCH_GROUP_SIZES
# ("1 8 32 64 128 256"), BENCH_GROUP_SECS (5), BENCH_GROUP_ROUNDS (4).
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${ROLLCALLD:-build/rollcalld}
SIZES=${BENCH_GROUP_SIZES:-1 8 32 64 128 256}
SECS=${BENCH_GROUP_SECS:-5}
ROUNDS=${BENCH_GROUP_ROUNDS:-4}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
HELPER=(env -u PYTHONPATH "$PY" tests/bench/helper.py)

for c in psql pgbench; do
	command -v "$c" >/dev/null || { echo "group_bench: $c is missing (deploy/dev/deps.sh bench)" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "group_bench: $BIN is missing (make all)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rollcall-groupbench.XXXXXX")
chmod 0755 "$tmp"
daemon_pid=""
pg_real=""
anomalies=()

. tests/bench/lib.sh

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_daemon >/dev/null 2>&1 || true
	drop_cluster
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export ROLLCALL_SHARE=${ROLLCALL_SHARE:-$PWD}
unset ROLLCALL_TOKEN NO_COLOR

note "== rollcall registration-group bench ($(nproc) CPUs, $(uname -r), $BIN)"
conn=$(deploy/dev/pg.sh start "$tmp/pg" rollcall_groupbench)
pg_real=$(readlink -f "$tmp/pg/cluster")
"$BIN" migrate --db "$conn" >"$tmp/migrate.log" 2>&1 ||
	{ tail -n 20 "$tmp/migrate.log" >&2; exit 1; }
token=$("$BIN" token --role admin --name group-bench --ttl 1h --db "$conn")
start_daemon 2 serve || { echo "group_bench: the daemon did not come up" >&2; exit 1; }
read -r ev_big _ ev_rush < <("${HELPER[@]}" regevents "$base" "$token") ||
	{ echo "group_bench: cannot create the events" >&2; exit 1; }
stop_daemon || true
psql -q -X -v ON_ERROR_STOP=1 "$conn" -c "ANALYZE" >/dev/null

# group N EVENT LABEL: pgbench -c 1 of groups of N on EVENT; prints a line.
group() {
	local n=$1 ev=$2 label=$3 out ms
	cat >"$tmp/group.sql" <<-SQL
	\\set r random(1, 999999999999999)
	SELECT jsonb_agg(jsonb_build_object('event', $ev::bigint, 'p', ('{"name": "Bench Attendee", "email": "g-' || :r || '-' || g || '@bench.example.com", "company": "Bench Co", "job_title": "Engineer", "identity": "professional", "lang": "en", "consent": {"sponsors": true, "fields": ["email", "job_title"]}}')::jsonb, 'hash', encode(sha256((:r || 'h' || g)::text::bytea), 'hex'), 'join', encode(sha256((:r || 'j' || g)::text::bytea), 'hex'), 'sealed', encode(sha256((:r || 's' || g)::text::bytea), 'hex')))::text AS grp FROM generate_series(1, $n) g \\gset
	SELECT count(*) FROM rc_register_group(:grp::jsonb);
	SQL
	out=$(timeout $((SECS + 60)) pgbench -n -M prepared -r -f "$tmp/group.sql" \
		-c 1 -j 1 -T "$SECS" "$conn" 2>&1) ||
		{ anomaly "pgbench (groups of $n): $(grep -m1 -E 'ERROR|error' <<<"$out" | cut -c1-200)"; return 0; }
	ms=$(awk '/rc_register_group/ && $1 ~ /^[0-9.]+$/ { print $1; exit }' <<<"$out")
	awk -v n="$n" -v ms="${ms:-0}" -v l="$label" 'BEGIN {
		printf "%-34s groups of %3d: %8.3f ms a group, %7.1f us a registration, %6.0f registrations/s\n",
		    l, n, ms, (n > 0 ? ms * 1000 / n : 0), (ms > 0 ? n * 1000 / ms : 0) }'
}

note ""
note "== group size (event $ev_big, room for everyone; pgbench -c 1, -T $SECS)"
first=${SIZES%% *}
group "$first" "$ev_big" "warm-up"
for n in $SIZES; do
	group "$n" "$ev_big" "size"
done

note ""
note "== waitlist length (event $ev_rush, 300 seats, waitlist on; groups of 32)"
group 32 "$ev_rush" "warm-up (fills the 300 seats)"
for i in $(seq 1 "$ROUNDS"); do
	w=$(psql -X -tA "$conn" -c "SELECT waitlisted FROM events WHERE id = $ev_rush")
	group 32 "$ev_rush" "starting with $w waitlisted"
done
read -r kept real < <(psql -X -tA -F ' ' "$conn" -c "SELECT waitlisted,
	(SELECT count(*) FROM registrations WHERE event_id = $ev_rush
	   AND status = 'waitlisted') FROM events WHERE id = $ev_rush")
note "events.waitlisted $kept, registrations waitlisted $real"
[ "$kept" = "$real" ] || anomaly "events.waitlisted says $kept, the registrations $real"

if [ "${#anomalies[@]}" -gt 0 ]; then
	note "anomalies: ${#anomalies[@]}"
	for a in "${anomalies[@]}"; do note "  - $a"; done
fi
note "load average (1 min): $(cut -d' ' -f1 /proc/loadavg) (2 CPUs; other work on the machine moves every figure)"
