#!/usr/bin/env bash
# `make run`: migrate, seed a demo once, print an admin token, serve.
# Without ROLLCALL_DB, a private PostgreSQL cluster lives under var/.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=build/rollcalld
if [ -z "${ROLLCALL_DB:-}" ]; then
	ROLLCALL_DB=$(deploy/dev/pg.sh start var/pg)
	export ROLLCALL_DB
	echo "run: private PostgreSQL under var/pg ($ROLLCALL_DB)"
fi
"$bin" migrate
if [ "$(psql "$ROLLCALL_DB" -tAc 'SELECT count(*) FROM events')" = 0 ]; then
	psql -q "$ROLLCALL_DB" -f deploy/dev/demo.sql >/dev/null
	echo "run: seeded the demo (a meetup, a NightTalk series, a Community Day)"
fi
listen=${ROLLCALL_LISTEN:-127.0.0.1:8080}
token=$("$bin" token --role admin --name demo-admin --ttl 7d)
cat <<MSG

Rollcall is starting on http://$listen/
  events:        curl http://$listen/api/v1/events
  health:        curl http://$listen/healthz
  admin token (7 days; keep it private):
    $token
  for example:   curl -H "Authorization: Bearer \$TOKEN" http://$listen/api/v1/events/1
Stop with Ctrl-C. The database stays in var/pg (deploy/dev/pg.sh stop var/pg).

MSG
exec "$bin" serve --listen "$listen" "$@"
