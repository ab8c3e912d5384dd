"""The helper of tests/bench/scan_bench.sh: the door scanner's benchmark.

  scan_bench.py freeport                  print a free loopback TCP port
  scan_bench.py wait BASE POOL SECS       wait for /healthz with POOL
                                          connections up
  scan_bench.py setup BASE ADMIN DIR NPHOTO NSTDIN NDIRECT
        one published meetup, a door token for it, its offline bundle
        (DIR/bundle.json), NPHOTO 1280x720 photos of tickets made with
        tests/scanner/degrade.py (DIR/photos/, PNG and JPEG, every kind of
        damage, one picture with two tickets), and NSTDIN + NDIRECT fresh
        tickets for the latency runs; everything else the other commands
        need in DIR/setup.json. Prints "event_id photos codes tickets".
  scan_bench.py decode DIR SCAN SECS JOURNALDIR
        images decoded per second: `SCAN --image PHOTOS... --json --offline
        --bundle B --journal J` (a fresh journal on JOURNALDIR each run)
        beside `zbarimg -q --raw` configured as the scanner configures zbar
        (QR only, binary, inverted codes; one thread), BATCH photos a
        process, the two on the same photos in turn, until each has run
        SECS seconds; then, for information, zbarimg with its defaults for
        a while. What each read comes from one run over every photo first.
        Prints key=value lines.
  scan_bench.py latency BASE DIR SCAN NIMG
        scan-to-verdict: the NSTDIN tickets, one line at a time, into one
        `SCAN --stdin --door --json` process on the server, each timed from
        the write to the verdict's line; the NDIRECT tickets as plain POST
        /api/v1/checkins over one keep-alive connection (the server alone,
        for comparison); then NIMG photos, each through its own `SCAN
        --image FILE --door --json` process (wall time). Prints key=value
        lines.

Only the standard library and Debian's python3-pil (through degrade.py).
"""
import base64
import json
import os
import random
import resource
import select
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# The HTTP client, port and readiness helpers of the main bench.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helper import at, cmd_freeport, cmd_wait, request  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def must(st, body, what, want):
    if st != want:
        raise SystemExit("scan_bench: %s: HTTP %d %s" % (what, st,
                                                         body[:300]))
    return body if what.endswith(".png") else json.loads(body)


WARM = 4    # untimed scans before each latency run (connections, caches)


def reg_of(token):
    """The registration id in a ticket (a JWT): its claim "r"."""
    p = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))["r"]


# --------------------------------------------------------------------------
# setup

def cmd_setup(base, admin, out, nphoto, nstdin, ndirect):
    sys.path.insert(0, str(REPO / "tests" / "scanner"))
    import degrade  # noqa: E402  (tests/scanner/degrade.py)
    from PIL import Image  # noqa: E402

    out = Path(out)
    nphoto, nstdin, ndirect = int(nphoto), int(nstdin), int(ndirect)
    st, body = request(base, "POST", "/api/v1/chapters", {
        "slug": "shanghai", "name": "Shanghai", "kind": "city",
        "status": "active"}, admin)
    if st not in (201, 409):
        raise SystemExit("scan_bench: chapter: HTTP %d %s" % (st, body[:300]))
    ev = must(*request(base, "POST", "/api/v1/events", {
        "kind": "meetup", "title": "Scanner bench: door night",
        "description": "Doors, tickets and a scanner.",
        "chapter": "shanghai", "format": "workshop",
        "venue": "Innovation Hub, 88 Keyuan Road, Pudong, Shanghai",
        "starts_at": at(10, "14:00"), "ends_at": at(10, "18:00"),
        "timezone": "Asia/Shanghai", "capacity": 100000, "waitlist": True,
        "registration_opens_at": at(-1, "10:00"),
        "registration_closes_at": at(9, "23:00")}, admin),
        "create the event", 201)
    eid = ev["id"]
    must(*request(base, "PATCH", "/api/v1/events/%d" % eid,
                  {"status": "published"}, admin), "publish the event", 200)
    door = must(*request(base, "POST", "/api/v1/tokens",
                         {"role": "door", "name": "scan bench",
                          "events": [eid]}, admin), "door token", 201)

    n = [0]

    def register():
        n[0] += 1
        o = must(*request(base, "POST", "/api/v1/events/%d/registrations"
                          % eid, {
                              "name": "Scan Bench %d" % n[0],
                              "email": "scan-%d-%d@bench.example.org"
                                       % (os.getpid(), n[0]),
                              "company": "Bench Co", "job_title": "Engineer",
                              "identity": "professional"}),
                 "registration %d" % n[0], 201)
        if o.get("status") != "confirmed" or "token" not in o.get("ticket",
                                                                   {}):
            raise SystemExit("scan_bench: registration %d: not confirmed "
                             "with a ticket: %r" % (n[0], o))
        return o

    # The photos: every kind of damage degrade.py knows, in turn, each
    # with its own parameters; "two_tickets" shows two tickets.
    rnd = random.Random(20261123)
    kinds = list(degrade.PICTURES)
    variants = {
        "rotated": lambda a, b: degrade.rotated(a, rnd.uniform(12, 30)),
        "scaled": lambda a, b: degrade.scaled(a, rnd.uniform(0.45, 0.7)),
        "blurred": lambda a, b: degrade.blurred(a, rnd.uniform(1.4, 2.2)),
        "noisy": lambda a, b: degrade.noisy(a, rnd.uniform(28, 40)),
        "jpeg_q12": lambda a, b: degrade.jpeg(a, rnd.randint(12, 30)),
        "perspective": lambda a, b: degrade.perspective(
            a, rnd.uniform(0.08, 0.16)),
    }
    (out / "photos").mkdir(parents=True, exist_ok=True)
    (out / "png").mkdir(parents=True, exist_ok=True)
    photos = []
    ntickets = 0

    def ticket_image(reg):
        secret = reg["manage_url"].rsplit("/", 1)[1]
        raw = must(*request(base, "GET", "/api/v1/registrations/%s/"
                            "ticket.png" % secret), "ticket.png", 200)
        p = out / "png" / ("%d.png" % reg["id"])
        p.write_bytes(raw)
        img = Image.open(p)
        img.load()
        return img

    for i in range(nphoto):
        kind = kinds[i % len(kinds)]
        make, count, suffix = degrade.PICTURES[kind]
        make = variants.get(kind, make)
        regs = [register() for _ in range(count)]
        ntickets += count
        imgs = [ticket_image(r) for r in regs]
        pic = make(imgs[0], imgs[-1])
        path = out / "photos" / ("%02d-%s%s" % (i, kind, suffix))
        degrade.save(pic, path)
        with Image.open(path) as chk:
            if chk.size != degrade.CANVAS:
                raise SystemExit("scan_bench: %s is %dx%d, not %dx%d" % (
                    path, chk.size[0], chk.size[1], *degrade.CANVAS))
        photos.append({"path": str(path.relative_to(out)), "kind": kind,
                       "tokens": [r["ticket"]["token"] for r in regs],
                       "regs": [r["id"] for r in regs]})
    stdin_tokens = [register()["ticket"]["token"] for _ in range(nstdin)]
    direct_tokens = [register()["ticket"]["token"] for _ in range(ndirect)]
    warm = [register()["ticket"]["token"] for _ in range(WARM)]
    warm_direct = [register()["ticket"]["token"] for _ in range(WARM)]

    bundle = must(*request(base, "GET", "/api/v1/events/%d/offline-bundle"
                           % eid, token=door["token"]), "offline bundle",
                  200)
    (out / "bundle.json").write_text(json.dumps(bundle))
    (out / "setup.json").write_text(json.dumps({
        "event_id": eid, "door": door["token"], "photos": photos,
        "stdin_tokens": stdin_tokens, "direct_tokens": direct_tokens,
        "warm_tokens": warm, "warm_direct": warm_direct}))
    print(eid, len(photos), ntickets, n[0])
    return 0


def load_setup(out):
    """DIR/setup.json, the photos' paths made absolute."""
    setup = json.loads((out / "setup.json").read_text())
    for p in setup["photos"]:
        p["path"] = str(out.resolve() / p["path"])
    return setup


# --------------------------------------------------------------------------
# decode

ZBAR_LIKE_SCANNER = ["-Sdisable", "-Sqrcode.enable", "-Sqrcode.binary",
                     "-Stest-inverted"]
# zbarimg reads pictures through ImageMagick, which may use a thread per
# CPU; rollcall-scan is one thread. One thread each.
ONE_THREAD = {"MAGICK_THREAD_LIMIT": "1", "OMP_NUM_THREADS": "1"}
BATCH = 8           # photos per process in the timed runs


def run_timed(argv, env=None):
    """Run argv; (wall seconds, CPU seconds of the child, result)."""
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(argv, capture_output=True, env=env, timeout=120)
    dt = time.perf_counter() - t0
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
    return dt, cpu, r


def cmd_decode(out, scan, secs, jdir):
    out = Path(out)
    setup = load_setup(out)
    photos = setup["photos"]
    files = [p["path"] for p in photos]
    expected = {t: p["path"] for p in photos for t in p["tokens"]}
    reg_file = {r: p["path"] for p in photos for r in p["regs"]}
    ncodes = len(expected)
    secs = float(secs)
    bundle = str(out / "bundle.json")
    journal = os.path.join(jdir, "decode.journal")
    env = dict(os.environ)
    env.pop("ROLLCALL_TOKEN", None)
    zenv = dict(env)
    zenv.update(ONE_THREAD)
    anomalies = []

    def scan_run(batch):
        """rollcall-scan over batch, offline, a fresh journal: (wall, cpu,
        {(file, registration)}, problems)."""
        try:
            os.unlink(journal)
        except FileNotFoundError:
            pass
        dt, cpu, r = run_timed([scan, "--image", *batch, "--json",
                                "--offline", "--bundle", bundle,
                                "--journal", journal], env)
        found, bad = set(), []
        for line in r.stdout.decode(errors="replace").splitlines():
            try:
                o = json.loads(line)
            except ValueError:
                bad.append("not JSON: " + line[:120])
                continue
            if o.get("result") == "no_code":
                continue
            rid = o.get("registration_id")
            if o.get("result") != "admitted" or reg_file.get(rid) != \
                    o.get("input"):
                bad.append("%s: %s %s" % (os.path.basename(
                    o.get("input", "?")), o.get("result"), rid))
            found.add((o.get("input"), rid))
        if r.returncode not in (0, 4):   # 4: a picture without a code
            bad.append("exit %d: %s" % (r.returncode, r.stderr.decode(
                errors="replace").strip()[-300:]))
        return dt, cpu, {rid for _, rid in found}, bad

    def zbar_run(batch, opts=ZBAR_LIKE_SCANNER, e=zenv):
        """zbarimg over batch: (wall, cpu, {registration}, problems)."""
        dt, cpu, r = run_timed(["zbarimg", "-q", "--raw", "--nodbus", *opts,
                                *batch], e)
        lines = [x for x in r.stdout.decode(errors="replace").splitlines()
                 if x]
        bad = []
        stray = [x for x in lines if x not in expected]
        if stray:
            bad.append("%d code(s) not on the photos' tickets: %.60s"
                       % (len(stray), stray[0]))
        if len(set(lines)) != len(lines):
            bad.append("%d code(s) read twice" % (len(lines) -
                                                   len(set(lines))))
        if r.returncode not in (0, 4):   # 4: a picture without a code
            bad.append("exit %d: %s" % (r.returncode, r.stderr.decode(
                errors="replace").strip()[-300:]))
        return dt, cpu, {reg_of_safe(x) for x in lines if x in expected}, bad

    # One untimed run of each over every photo: the page cache, and what
    # each reads.
    _, _, s_codes, bad = scan_run(files)
    anomalies += ["rollcall-scan: " + b for b in bad[:5]]
    _, _, z_codes, bad = zbar_run(files)
    anomalies += ["zbarimg: " + b for b in bad[:5]]
    missed_s = sorted({os.path.basename(reg_file[r]) for r in
                       set(reg_file) - s_codes})
    missed_z = sorted({os.path.basename(reg_file[r]) for r in
                       set(reg_file) - z_codes})

    # Timed: batches of BATCH photos (every kind of damage in each), the
    # two tools on the same batch one after the other, which one first
    # alternating, so load on the machine hits both alike; until both
    # have run secs seconds. Both see exactly the same photos.
    batches = [files[i:i + BATCH] for i in range(0, len(files), BATCH)]
    tot = {"s": [0.0, 0.0, 0, 0], "z": [0.0, 0.0, 0, 0]}  # wall cpu img codes
    want = {"s": 0, "z": 0}
    deadline = time.monotonic() + 4 * secs + 60
    i = 0
    while (tot["s"][0] < secs or tot["z"][0] < secs) and \
            time.monotonic() < deadline:
        batch = batches[i % len(batches)]
        regs = {r for f in batch for r in photos[files.index(f)]["regs"]}
        order = ("s", "z") if i % 2 == 0 else ("z", "s")
        for who in order:
            dt, cpu, codes, bad = (scan_run if who == "s" else
                                   zbar_run)(batch)
            t = tot[who]
            t[0] += dt
            t[1] += cpu
            t[2] += len(batch)
            t[3] += len(codes)
            want[who] += len(regs & (s_codes if who == "s" else z_codes))
            if bad and len(anomalies) < 20:
                anomalies.append(("rollcall-scan" if who == "s" else
                                  "zbarimg") + " (timed): " + bad[0])
        i += 1
    for who, name in (("s", "rollcall-scan"), ("z", "zbarimg")):
        if tot[who][3] != want[who]:
            anomalies.append("%s read %d codes in the timed runs, %d "
                             "expected from its first run" %
                             (name, tot[who][3], want[who]))

    # For information: zbarimg as it comes (every symbology, ImageMagick's
    # threads), over every photo.
    d = [0.0, 0.0, 0]
    d_codes = set()
    while d[0] < secs / 2.5:
        dt, cpu, d_codes, bad = zbar_run(files, [], env)
        d[0] += dt
        d[1] += cpu
        d[2] += len(files)

    def rate(n, t):
        return n / t if t > 0 else 0.0

    nimg = len(files)
    s_rate, z_rate = rate(tot["s"][2], tot["s"][0]), rate(tot["z"][2],
                                                          tot["z"][0])
    s_crate, z_crate = rate(tot["s"][2], tot["s"][1]), rate(tot["z"][2],
                                                            tot["z"][1])
    kinds = {}
    for p in photos:
        k = kinds.setdefault(p["kind"], [0, p["path"].rsplit(".", 1)[1]])
        k[0] += 1
    kv = {
        "images": nimg, "codes": ncodes,
        "mix": ", ".join("%d %s (%s)" % (v[0], k, v[1]) for k, v in
                         kinds.items()),
        "pngs": sum(f.endswith(".png") for f in files),
        "jpegs": sum(f.endswith(".jpg") for f in files),
        "batch": BATCH, "runs": i, "timed_images": tot["s"][2],
        "scan_rate": "%.1f" % s_rate, "scan_secs": "%.2f" % tot["s"][0],
        "scan_cpu_rate": "%.1f" % s_crate,
        "scan_codes": len(s_codes),
        "scan_images": len({reg_file[r] for r in s_codes}),
        "scan_missed": ",".join(missed_s) or "-",
        "zbar_rate": "%.1f" % z_rate, "zbar_secs": "%.2f" % tot["z"][0],
        "zbar_cpu_rate": "%.1f" % z_crate,
        "zbar_codes": len(z_codes),
        "zbar_images": len({reg_file[r] for r in z_codes}),
        "zbar_missed": ",".join(missed_z) or "-",
        "zbar_opts": " ".join(ZBAR_LIKE_SCANNER),
        "zbar_env": " ".join("%s=%s" % kv for kv in ONE_THREAD.items()),
        "zbar_default_rate": "%.1f" % rate(d[2], d[0]),
        "zbar_default_cpu_rate": "%.1f" % rate(d[2], d[1]),
        "zbar_default_codes": len(d_codes),
        "ratio": "%.2f" % (s_rate / z_rate if z_rate else 0),
        "cpu_ratio": "%.2f" % (s_crate / z_crate if z_crate else 0),
        "agree": int(s_codes == z_codes),
    }
    for k, v in kv.items():
        print("%s=%s" % (k, v))
    for a in anomalies:
        print("anomaly=%s" % a.replace("\n", " "))
    return 0


def reg_of_safe(token):
    try:
        return reg_of(token)
    except (ValueError, KeyError, IndexError):
        return None


# --------------------------------------------------------------------------
# latency

class Lines:
    """Lines from a pipe, read in big chunks (no byte-at-a-time reads)."""

    def __init__(self, fd):
        self.fd = fd
        self.buf = b""

    def readline(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                return None
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line


class Replies:
    """HTTP/1.1 replies with a Content-Length from a blocking socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _more(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise SystemExit("scan_bench: the server closed the connection")
        self.buf += chunk

    def reply(self):
        while b"\r\n\r\n" not in self.buf:
            self._more()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        n = None
        for h in lines[1:]:
            k, _, v = h.partition(":")
            if k.strip().lower() == "content-length":
                n = int(v.strip())
            elif k.strip().lower() == "transfer-encoding":
                raise SystemExit("scan_bench: a chunked reply: %s" % h)
        if n is None:
            raise SystemExit("scan_bench: a reply without Content-Length")
        while len(self.buf) < n:
            self._more()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, body


def pct(xs, p):
    """The p-th percentile (nearest rank) of xs, in ms."""
    s = sorted(xs)
    if not s:
        return 0.0
    k = max(1, min(len(s), int(round(p / 100.0 * len(s) + 0.4999))))
    return s[k - 1] * 1000


def cmd_latency(base, out, scan, nimg):
    out = Path(out)
    setup = load_setup(out)
    eid, door = setup["event_id"], setup["door"]
    env = dict(os.environ)
    env["ROLLCALL_TOKEN"] = door    # not on the command line
    env["NO_COLOR"] = "1"
    conn = ["--server", base, "--event", str(eid), "--gate", "bench"]
    anomalies = []

    # 1. keyboard wedge: one scanner process, one line at a time; and
    # 2. the server alone: the same kind of check-in, each request built
    # before the clock starts and written whole to one keep-alive
    # connection, the reply read back whole (as little client as there can
    # be). One of each in turn, which first alternating, so that whatever
    # else the machine does hits both alike.
    p = subprocess.Popen([scan, "--stdin", "--door", "--json", *conn],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, bufsize=0, env=env)
    lines = Lines(p.stdout.fileno())
    u = urllib.parse.urlsplit(base)
    sock = socket.create_connection((u.hostname, u.port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    replies = Replies(sock)
    lat, results, dlat, dres = [], {}, [], {}
    warm_ok = dwarm_ok = 0
    nwarm = len(setup["warm_tokens"])
    scanner_alive = True

    def via_scanner(i, tok):
        nonlocal warm_ok, scanner_alive
        t0 = time.perf_counter()
        p.stdin.write(tok.encode() + b"\n")
        line = lines.readline(30)
        dt = time.perf_counter() - t0
        if line is None:
            anomalies.append("stdin: no verdict within 30 s for scan %d"
                             % (i + 1))
            scanner_alive = False
            return
        try:
            o = json.loads(line)
        except ValueError:
            anomalies.append("stdin: not JSON: %r" % line[:120])
            return
        res = o.get("result", "?")
        if o.get("source") != "online":
            res += "/" + str(o.get("source"))
        if i < nwarm:
            warm_ok += res == "admitted"
            return
        lat.append(dt)
        results[res] = results.get(res, 0) + 1
        if res != "admitted" and sum(results.values()) - \
                results.get("admitted", 0) <= 3:
            anomalies.append("stdin: scan %d: %s" % (
                i + 1, str(o.get("message") or o)[:200]))

    def direct(i, tok):
        nonlocal dwarm_ok
        body = json.dumps({"token": tok, "nonce": os.urandom(16).hex(),
                           "gate": "bench", "event_id": eid}).encode()
        req = ("POST /api/v1/checkins HTTP/1.1\r\nHost: %s:%d\r\n"
               "Authorization: Bearer %s\r\nContent-Type: application/json"
               "\r\nContent-Length: %d\r\n\r\n" % (
                   u.hostname, u.port, door, len(body))).encode() + body
        t0 = time.perf_counter()
        sock.sendall(req)
        status, data = replies.reply()
        dt = time.perf_counter() - t0
        try:
            res = json.loads(data).get("result", "HTTP %d" % status)
        except ValueError:
            res = "HTTP %d" % status
        if i < nwarm:       # the connection's set-up among them
            dwarm_ok += res == "admitted"
            return
        dlat.append(dt)
        dres[res] = dres.get(res, 0) + 1

    try:
        stoks = setup["warm_tokens"] + setup["stdin_tokens"]
        dtoks = setup["warm_direct"] + setup["direct_tokens"]
        for i in range(max(len(stoks), len(dtoks))):
            order = (0, 1) if i % 2 == 0 else (1, 0)
            for which in order:
                if which == 0 and i < len(stoks) and scanner_alive:
                    via_scanner(i, stoks[i])
                elif which == 1 and i < len(dtoks):
                    direct(i, dtoks[i])
    finally:
        sock.close()
        p.stdin.close()
        try:
            rc = p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
            anomalies.append("stdin: the scanner did not end after stdin "
                             "closed; killed")
        err = p.stderr.read().decode(errors="replace").strip()
    if rc != 0:
        anomalies.append("stdin: rollcall-scan exited %d%s" % (
            rc, (": " + err[-200:]) if err else ""))
    nst = len(setup["stdin_tokens"])

    # 3. a photo to a verdict: one process per picture, as a door laptop
    # given one picture would run it.
    env.pop("NO_COLOR", None)
    picks, seen = [], set()
    for ph in setup["photos"]:
        if ph["kind"] not in seen:
            seen.add(ph["kind"])
            picks.append(ph)
    picks = picks[:int(nimg)]
    ilat, ires, per_kind = [], {}, []
    iok = iverdicts = 0
    for ph in picks:
        t0 = time.perf_counter()
        r = subprocess.run([scan, "--image", ph["path"], "--door", "--json",
                            *conn], capture_output=True, env=env,
                           timeout=60)
        dt = time.perf_counter() - t0
        got = []
        for x in r.stdout.decode(errors="replace").splitlines():
            try:
                got.append(json.loads(x).get("result", "?"))
            except ValueError:
                got.append("not JSON")
        for g in got:
            ires[g] = ires.get(g, 0) + 1
        iverdicts += got.count("admitted")
        ilat.append(dt)
        per_kind.append("%s %.0f" % (ph["kind"], dt * 1000))
        if got == ["admitted"] * len(ph["tokens"]) and r.returncode == 0:
            iok += 1
        else:
            anomalies.append("photo %s: %s (exit %d, %d ticket(s)) %s" % (
                os.path.basename(ph["path"]), ",".join(got) or "nothing",
                r.returncode, len(ph["tokens"]),
                r.stderr.decode(errors="replace").strip()[-200:]))

    def mix(d):
        return ",".join("%s:%d" % kv for kv in sorted(d.items())) or "-"

    kv = {
        "stdin_n": len(lat), "stdin_planned": nst,
        "stdin_admitted": results.get("admitted", 0),
        "stdin_mix": mix(results), "stdin_warm_admitted": warm_ok,
        "stdin_warm": len(setup["warm_tokens"]),
        "stdin_p50": "%.2f" % pct(lat, 50), "stdin_p99": "%.2f" % pct(lat, 99),
        "stdin_max": "%.2f" % (max(lat) * 1000 if lat else 0),
        "stdin_mean": "%.2f" % (sum(lat) / len(lat) * 1000 if lat else 0),
        "direct_n": len(dlat), "direct_mix": mix(dres),
        "direct_admitted": dres.get("admitted", 0),
        "direct_warm_admitted": dwarm_ok,
        "direct_warm": len(setup["warm_direct"]),
        "direct_p50": "%.2f" % pct(dlat, 50),
        "direct_p99": "%.2f" % pct(dlat, 99),
        "image_n": len(ilat), "image_mix": mix(ires), "image_ok": iok,
        "image_admitted": iverdicts,
        "image_p50": "%.0f" % pct(ilat, 50),
        "image_max": "%.0f" % (max(ilat) * 1000 if ilat else 0),
        "image_each": ", ".join(per_kind) or "-",
    }
    for k, v in kv.items():
        print("%s=%s" % (k, v))
    for a in anomalies:
        print("anomaly=%s" % a.replace("\n", " "))
    return 0


def main(argv):
    cmds = {"freeport": (cmd_freeport, 0), "wait": (cmd_wait, 3),
            "setup": (cmd_setup, 6), "decode": (cmd_decode, 4),
            "latency": (cmd_latency, 4)}
    if len(argv) < 2 or argv[1] not in cmds or \
            len(argv) - 2 != cmds[argv[1]][1]:
        print(__doc__, file=sys.stderr)
        return 2
    return cmds[argv[1]][0](*argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
