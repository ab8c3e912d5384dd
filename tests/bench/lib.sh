# Shared by bench.sh, scan_bench.sh and group_bench.sh (sourced). The caller sets BIN,
# conn, tmp and HELPER (a command line whose `freeport` and `wait BASE
# POOL SECS` subcommands helper.py provides), and the arrays/variables
# daemon_pid and anomalies.

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

# start_daemon POOL LOGNAME [SERVE-ARGS...]: serve on a free loopback port;
# sets base.
start_daemon() {
	local pool=$1 log=$tmp/$2.log port try
	shift 2
	for try in 1 2 3; do
		port=$("${HELPER[@]}" freeport)
		"$BIN" serve --db "$conn" --listen "127.0.0.1:$port" \
			--rate-limit 0 --pool "$pool" "$@" >"$log" 2>&1 &
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

# drop_cluster: stop the private cluster under $tmp/pg and remove $tmp,
# and the cluster itself when pg.sh put it outside (its fallback for an
# unreachable dir: $tmp/pg/cluster is then a symlink to pg_real).
drop_cluster() {
	deploy/dev/pg.sh stop "$tmp/pg" >/dev/null 2>&1 || true
	rm -rf "$tmp" 2>/dev/null || true
	[ -n "${pg_real:-}" ] && [ "$pg_real" != "$tmp/pg/cluster" ] &&
		case $pg_real in /tmp/rollcall-pg.*) rm -rf "$pg_real" ;; esac
	return 0
}
