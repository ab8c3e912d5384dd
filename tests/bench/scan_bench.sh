#!/usr/bin/env bash
# `make bench`, the door scanner (issue 5): how fast build/rollcall-scan
# decodes 1280x720 photos of tickets beside zbarimg on the same files in the
# same run, and how long a scan takes to become a verdict against a local
# server.
#
#   1. a private PostgreSQL cluster in a fresh temp dir, migrated; an admin
#      token; build/rollcalld on a free loopback port (--rate-limit 0);
#      through the API: one published meetup with room for everyone, a door
#      token for it and its offline bundle, and registrations whose tickets
#      (GET .../ticket.png) become BENCH_SCAN_PHOTOS photos made with
#      tests/scanner/degrade.py (turned, small, blurred, noisy, JPEG,
#      perspective, two tickets in one picture, a phone photo; PNG and
#      JPEG), plus fresh tickets for the latency runs;
#   2. decode rate: `rollcall-scan --image PHOTOS... --json --offline
#      --bundle B --journal J` (the scanner has no decode-only mode;
#      offline, a scan is an ES256 check and a journal line, on tmpfs here,
#      so the run is the decoding) beside `zbarimg -q --raw` set up as the
#      scanner sets up zbar (QR only, binary, inverted codes tried; one
#      ImageMagick thread), eight photos a process, the two on the same
#      photos one after the other, until each has run BENCH_SCAN_SECS
#      seconds: images/s of wall time and of CPU time, and the ratios. Both
#      should read the same codes; a difference is reported. rollcall-scan
#      reads each photo halved first, and only when that finds nothing
#      as is, then thresholded; zbarimg in one pass at full size: the
#      counts say what the extra passes buy. zbarimg with its
#      defaults (every symbology) for information;
#   3. scan-to-verdict: BENCH_SCAN_N tickets, one line at a time, into one
#      `rollcall-scan --stdin --door --json` process (a keyboard-wedge
#      scanner), each timed from the line written to the verdict read;
#      in turn with as many plain POST /api/v1/checkins, built beforehand
#      and written to one keep-alive connection (the server alone: the
#      baseline); then a photo to a verdict, one `rollcall-scan --image
#      FILE --door` process per photo.
# Exits 0 whether or not the figures are good; non-zero only when the bench
# itself cannot run. Loopback only; about half a minute.
#
# Environment: ROLLCALLD (default build/rollcalld), ROLLCALL_SCAN (default
# build/rollcall-scan), BENCH_SCAN_PHOTOS (40), BENCH_SCAN_SECS (5),
# BENCH_SCAN_N (300), BENCH_SCAN_IMAGES (8); BENCH_SCAN_KEEP=DIR keeps the
# photos, the bundle and setup.json there (an existing directory).
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${ROLLCALLD:-build/rollcalld}
SCAN=${ROLLCALL_SCAN:-build/rollcall-scan}
NPHOTOS=${BENCH_SCAN_PHOTOS:-40}
SECS=${BENCH_SCAN_SECS:-5}
NSCAN=${BENCH_SCAN_N:-300}
NIMG=${BENCH_SCAN_IMAGES:-8}
POOL=4
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
HELPER=(env -u PYTHONPATH "$PY" tests/bench/scan_bench.py)

for c in psql zbarimg; do
	command -v "$c" >/dev/null || { echo "scan_bench: $c is missing (deploy/dev/deps.sh bench)" >&2; exit 1; }
done
"$PY" -c 'import PIL' 2>/dev/null ||
	{ echo "scan_bench: python3-pil is missing (deploy/dev/deps.sh bench)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "scan_bench: $BIN is missing (make all)" >&2; exit 1; }
[ -x "$SCAN" ] || { echo "scan_bench: $SCAN is missing (make all)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rollcall-scanbench.XXXXXX")
chmod 0755 "$tmp"
# The throwaway journals of the decode passes: the scanner fsyncs each line,
# which on tmpfs costs nothing and on a disk would be timed as decoding.
jdir=""
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	jdir=$(mktemp -d /dev/shm/rollcall-scanbench.XXXXXX 2>/dev/null) || jdir=""
fi
jdir_where="tmpfs"
[ -n "$jdir" ] || { jdir=$tmp/journal; mkdir "$jdir"; jdir_where="$jdir (not tmpfs: the journal's fsync is in the decode figure)"; }
daemon_pid=""
pg_real=""
anomalies=()

. tests/bench/lib.sh

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_daemon >/dev/null 2>&1 || true
	[ -z "${BENCH_SCAN_KEEP:-}" ] || [ ! -d "$tmp/work" ] ||
		cp -r "$tmp/work/." "$BENCH_SCAN_KEEP/" 2>/dev/null || true
	drop_cluster
	case $jdir in /dev/shm/rollcall-scanbench.*) rm -rf "$jdir" ;; esac
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Run from copies: a `make` elsewhere during the run must not replace (or
# half-write) the binaries under the bench. The daemon's copy finds sql/
# and templates/ through ROLLCALL_SHARE.
BIN_SRC=$BIN SCAN_SRC=$SCAN
mkdir "$tmp/bin"
cp "$BIN" "$tmp/bin/rollcalld" && cp "$SCAN" "$tmp/bin/rollcall-scan" ||
	{ echo "scan_bench: cannot copy the binaries" >&2; exit 1; }
BIN=$tmp/bin/rollcalld SCAN=$tmp/bin/rollcall-scan
export ROLLCALL_SHARE=${ROLLCALL_SHARE:-$PWD}
unset ROLLCALL_TOKEN NO_COLOR


# kv FILE KEY: the value of KEY=... in FILE.
kv() { sed -n "s/^$2=//p" "$1" | head -n 1; }

t_start=$(date +%s)
load_start=$(cut -d' ' -f1 /proc/loadavg)
note "== rollcall scanner bench ($(nproc) CPUs, $(uname -r), $SCAN_SRC, $BIN_SRC, zbarimg $(zbarimg --version 2>/dev/null))"

# --- 1. database, schema, token, daemon, tickets, photos ----------------------
conn=$(deploy/dev/pg.sh start "$tmp/pg" rollcall_scanbench)
pg_real=$(readlink -f "$tmp/pg/cluster")
note "database: $conn"
"$BIN" migrate --db "$conn" >"$tmp/migrate.log" 2>&1 ||
	{ cat "$tmp/migrate.log" >&2; exit 1; }
token=$("$BIN" token --role admin --name scan-bench --ttl 1h --db "$conn")
start_daemon "$POOL" serve || { echo "scan_bench: the daemon did not come up" >&2; exit 1; }
note "daemon: $base (pool $POOL, --rate-limit 0)"

t0=$(date +%s.%N)
read -r ev_id nphotos ncodes nregs < <("${HELPER[@]}" setup "$base" "$token" \
	"$tmp/work" "$NPHOTOS" "$NSCAN" "$NSCAN") ||
	{ echo "scan_bench: setup failed" >&2; exit 1; }
[ -n "${nregs:-}" ] || { echo "scan_bench: setup failed" >&2; exit 1; }
note "event $ev_id: $nregs registrations through the API, $nphotos photos ($ncodes tickets on them), offline bundle, door token ($(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s)"

# --- 2. decode rate ----------------------------------------------------------
note ""
note "== decode: rollcall-scan --image ... --offline (journal on $jdir_where) vs zbarimg -q --raw, alternating, ${SECS} s each"
"${HELPER[@]}" decode "$tmp/work" "$SCAN" "$SECS" "$jdir" >"$tmp/decode.txt" ||
	{ cat "$tmp/decode.txt" >&2; echo "scan_bench: the decode run failed" >&2; exit 1; }
d() { kv "$tmp/decode.txt" "$1"; }
while IFS= read -r a; do anomaly "decode: $a"; done < <(sed -n 's/^anomaly=//p' "$tmp/decode.txt")
note "photos: $(d images) at 1280x720, $(d codes) codes ($(d pngs) PNG, $(d jpegs) JPEG: $(d mix))"
note "timed: $(d runs) runs of $(d batch) photos a process for each tool ($(d timed_images) photos each), which one first alternating"
note "rollcall-scan: $(d scan_rate) img/s wall ($(d scan_secs) s), $(d scan_cpu_rate) img/s of CPU; first run over all photos: $(d scan_codes)/$(d codes) codes on $(d scan_images)/$(d images) photos; missed: $(d scan_missed)"
note "zbarimg $(d zbar_opts) ($(d zbar_env)): $(d zbar_rate) img/s wall ($(d zbar_secs) s), $(d zbar_cpu_rate) img/s of CPU; first run: $(d zbar_codes)/$(d codes) codes on $(d zbar_images)/$(d images) photos; missed: $(d zbar_missed)"
note "for information: zbarimg -q --raw with its defaults (every symbology, ImageMagick's threads): $(d zbar_default_rate) img/s wall, $(d zbar_default_cpu_rate) img/s of CPU, $(d zbar_default_codes)/$(d codes) codes"
[ "$(d agree)" = 1 ] ||
	anomaly "decode: rollcall-scan and zbarimg read different codes ($(d scan_codes) vs $(d zbar_codes) of $(d codes)); rollcall-scan missed: $(d scan_missed); zbarimg missed: $(d zbar_missed)"
[ "$(d scan_codes)" = "$(d codes)" ] ||
	anomaly "decode: rollcall-scan missed $(( $(d codes) - $(d scan_codes) )) of $(d codes) codes ($(d scan_missed))"

# --- 3. scan-to-verdict ------------------------------------------------------
note ""
note "== latency: rollcall-scan --stdin --door --json, $NSCAN tickets one line at a time, in turn with $NSCAN POST /api/v1/checkins alone; then $NIMG photos through --image --door"
"${HELPER[@]}" latency "$base" "$tmp/work" "$SCAN" "$NIMG" >"$tmp/latency.txt" ||
	{ cat "$tmp/latency.txt" >&2; echo "scan_bench: the latency run failed" >&2; exit 1; }
l() { kv "$tmp/latency.txt" "$1"; }
while IFS= read -r a; do anomaly "latency: $a"; done < <(sed -n 's/^anomaly=//p' "$tmp/latency.txt")
note "stdin->verdict: median $(l stdin_p50) ms, p99 $(l stdin_p99) ms, max $(l stdin_max) ms, mean $(l stdin_mean) ms over $(l stdin_n) scans (after $(l stdin_warm) warm-up scans); verdicts: $(l stdin_mix)"
note "POST /api/v1/checkins alone (requests built beforehand, one keep-alive connection, a raw socket): median $(l direct_p50) ms, p99 $(l direct_p99) ms over $(l direct_n) (after $(l direct_warm) warm-up check-ins); verdicts: $(l direct_mix)"
note "photo->verdict (one process a photo, start-up included): median $(l image_p50) ms, max $(l image_max) ms over $(l image_n) photos; verdicts: $(l image_mix); ms each: $(l image_each)"
[ "$(l stdin_n)" = "$NSCAN" ] || anomaly "latency: $(l stdin_n) of $NSCAN stdin scans got a verdict"
[ "$(l stdin_admitted)" = "$(l stdin_n)" ] || anomaly "latency: not every stdin scan was admitted: $(l stdin_mix)"
[ "$(l stdin_warm_admitted)" = "$(l stdin_warm)" ] || anomaly "latency: $(l stdin_warm_admitted) of $(l stdin_warm) warm-up scans admitted"
[ "$(l direct_admitted)" = "$NSCAN" ] || anomaly "latency: $(l direct_admitted) of $NSCAN direct check-ins admitted: $(l direct_mix)"
[ "$(l direct_warm_admitted)" = "$(l direct_warm)" ] || anomaly "latency: $(l direct_warm_admitted) of $(l direct_warm) direct warm-up check-ins admitted"
[ "$(l image_ok)" = "$(l image_n)" ] || anomaly "latency: $(l image_ok) of $(l image_n) photos had every ticket on them admitted: $(l image_mix)"

# The database: every ticket of the latency runs admitted exactly once.
read -r db_dup db_adm < <(psql -X -tA -F ' ' "$conn" -c "SELECT
	coalesce((SELECT max(c) FROM (SELECT count(*) c FROM checkins
	    WHERE verdict = 'admitted' GROUP BY registration_id) a), 0),
	(SELECT count(*) FROM checkins WHERE verdict = 'admitted')") ||
	{ db_dup=""; db_adm=""; anomaly "database: cannot count the admissions"; }
want_adm=$(( $(l stdin_admitted) + $(l stdin_warm_admitted) + $(l direct_admitted) + $(l direct_warm_admitted) + $(l image_admitted) ))
[ "$db_dup" -le 1 ] 2>/dev/null || anomaly "database: a ticket was admitted $db_dup times"
[ "$db_adm" = "$want_adm" ] || anomaly "database: $db_adm admissions recorded, $want_adm expected"
note "database: $db_adm admissions, at most $db_dup per registration"

kill -0 "$daemon_pid" 2>/dev/null ||
	anomaly "the daemon died; log tail: $(tail -n 5 "$tmp/serve.log" | tr '\n' '|')"
stop_daemon || anomaly "daemon exited with status $? on SIGTERM"
if grep -qiE 'warn|error|lost|cannot' "$tmp/serve.log"; then
	note "  daemon log:"
	grep -iE 'warn|error|lost|cannot' "$tmp/serve.log" | sort | uniq -c | sort -rn | head -n 5 | sed 's/^/    /'
fi

# --- 4. summary --------------------------------------------------------------
if [ "$(d scan_codes)" = "$(d zbar_codes)" ] && [ "$(d agree)" = 1 ]; then
	agree="$(d scan_codes)/$(d codes) decoded by both"
else
	agree="rollcall-scan $(d scan_codes)/$(d codes), zbarimg $(d zbar_codes)/$(d codes) decoded: THEY DISAGREE"
fi
if [ "$(l stdin_admitted)" = "$(l stdin_n)" ] && [ "$(l stdin_n)" = "$NSCAN" ]; then
	admitted="all admitted"
else
	admitted="$(l stdin_admitted) admitted: $(l stdin_mix)"
fi
note ""
note "== summary ($(( $(date +%s) - t_start )) s)"
note "scan_decode: rollcall-scan $(d scan_rate) img/s, zbarimg $(d zbar_rate) img/s, ratio $(d ratio) ($agree)"
note "  ratio of CPU time: $(d cpu_ratio) (rollcall-scan $(d scan_cpu_rate), zbarimg $(d zbar_cpu_rate) img/s of CPU)"
note "  $(d images) photos 1280x720 ($(d pngs) PNG, $(d jpegs) JPEG), $(d codes) codes; rollcall-scan --image --json --offline (zbar on the photo halved; as is, then thresholded, only when that found nothing; an offline verdict and a journal line on $jdir_where for each code) vs zbarimg -q --raw $(d zbar_opts), one thread (1 pass); $(d batch) photos a process, the same photos for both"
note "  for information: zbarimg with its defaults (every symbology) $(d zbar_default_rate) img/s; rollcall-scan / that = $(awk -v a="$(d scan_rate)" -v b="$(d zbar_default_rate)" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
sv=MISSED
awk -v r="$(d ratio)" 'BEGIN { exit !(r + 0 >= 1.5) }' && [ "$(d scan_codes)" -ge "$(d zbar_codes)" ] 2>/dev/null && sv=MET
note "6. scanner / zbarimg          $sv ratio $(d ratio) (target >= 1.5, reading at least every code zbarimg reads: $(d scan_codes) vs $(d zbar_codes) of $(d codes))"
note "scan_latency: stdin→verdict median $(l stdin_p50) ms, p99 $(l stdin_p99) ms ($(l stdin_n) scans, $admitted)"
note "  baseline: POST /api/v1/checkins alone median $(l direct_p50) ms, p99 $(l direct_p99) ms ($(l direct_n) check-ins, $(l direct_mix)); scanner / server median ratio $(awk -v a="$(l stdin_p50)" -v b="$(l direct_p50)" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'), p99 ratio $(awk -v a="$(l stdin_p99)" -v b="$(l direct_p99)" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
note "  photo→verdict: median $(l image_p50) ms, max $(l image_max) ms ($(l image_n) photos, one rollcall-scan --image --door process each)"
note "load average (1 min): $load_start at the start, $(cut -d' ' -f1 /proc/loadavg) at the end ($(nproc) CPUs; other work on the machine moves every figure)"
if [ ${#anomalies[@]} -eq 0 ]; then
	note "anomalies: none"
else
	note "anomalies: ${#anomalies[@]}"
	for a in "${anomalies[@]}"; do note "  - $a"; done
fi
exit 0
