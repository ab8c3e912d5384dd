#!/usr/bin/env bash
# A private PostgreSQL cluster for development and tests.
#   pg.sh start DIR [DBNAME]   create (once) and start it; prints a conninfo
#   pg.sh stop DIR             stop it (fast)
#   pg.sh conninfo DIR [DBNAME]
# The cluster listens only on a Unix socket inside DIR, so clusters never
# collide. initdb refuses root, so as root the cluster runs as "postgres".
set -euo pipefail
cmd=${1:?usage: pg.sh start|stop|conninfo DIR [DBNAME]}
dir=${2:?usage: pg.sh start|stop|conninfo DIR [DBNAME]}
db=${3:-rollcall}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/initdb" ] || { echo "pg.sh: PostgreSQL server not installed (apt-get install postgresql)" >&2; exit 1; }

# As root, from /: postgres may not be allowed into the caller's directory
# (a checkout under /root), and every path handed to it is absolute.
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@")
	else "$@"; fi
}
pguser() { if [ "$(id -u)" -eq 0 ]; then echo postgres; else id -un; fi; }

mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)
# When the postgres user cannot reach DIR (a checkout under /root, say), keep
# the cluster in a private directory under /tmp and point DIR/cluster at it.
if [ ! -e "$dir/cluster" ]; then
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres "$dir" 2>/dev/null || true
		if as_pg test -w "$dir"; then
			mkdir -p "$dir/cluster"
		else
			ln -s "$(mktemp -d /tmp/rollcall-pg.XXXXXX)" "$dir/cluster"
		fi
		chown postgres "$(readlink -f "$dir/cluster")"
	else
		mkdir -p "$dir/cluster"
	fi
fi
c=$(readlink -f "$dir/cluster")
conninfo="host=$c/run port=5432 user=$(pguser) dbname=$db"

case "$cmd" in
start)
	if [ ! -f "$c/data/PG_VERSION" ]; then
		as_pg mkdir -p "$c/data" "$c/run"
		as_pg "$bindir/initdb" -D "$c/data" -A trust -E UTF8 --locale=C.UTF-8 >"$c/initdb.log" 2>&1 ||
			{ cat "$c/initdb.log" >&2; exit 1; }
	fi
	if ! as_pg "$bindir/pg_ctl" -D "$c/data" status >/dev/null 2>&1; then
		as_pg "$bindir/pg_ctl" -D "$c/data" -l "$c/postgres.log" -w -t 60 \
			-o "-c listen_addresses='' -c unix_socket_directories='$c/run' -c port=5432 -c max_connections=300 ${PG_EXTRA_OPTS:-}" \
			start >/dev/null || { tail -n 20 "$c/postgres.log" >&2; exit 1; }
	fi
	as_pg psql -q -h "$c/run" -p 5432 -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 ||
		as_pg psql -q -h "$c/run" -p 5432 -d postgres -c "CREATE DATABASE \"$db\"" >/dev/null
	echo "$conninfo" ;;
stop)
	[ -f "$c/data/PG_VERSION" ] && as_pg "$bindir/pg_ctl" -D "$c/data" -m fast -w stop >/dev/null 2>&1 || true ;;
conninfo)
	echo "$conninfo" ;;
*)
	echo "pg.sh: unknown command $cmd" >&2; exit 2 ;;
esac
