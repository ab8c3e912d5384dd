"""deploy/: the configuration file and `rollcalld check`, X-Forwarded-For
from trusted proxies only, sd_notify readiness and watchdog, the Debian
package installed into a scratch root, the systemd units (verify and
security exposure) and the nginx site config (nginx -t)."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile

import pytest

import support
from deploy_support import Nginx, SITE, checkout_paths
from support import (REPO, _apply, expect, free_port, fresh_rate_window,
                     http_call, meetup, run_cli, uniq, wait_until)

CONF = REPO / "deploy" / "rollcall.conf"
UNITS = ("rollcalld.service", "rollcalld@.service")


def person(**over):
    return _apply({"name": "Wang Wu", "email": uniq("w") + "@example.com",
                   "company": "Example Co", "job_title": "SRE",
                   "identity": "professional"}, over)


def write(path, text, mode=0o600):
    path.write_text(text)
    os.chmod(path, mode)
    return str(path)


def check(binary, path, *extra, env=None):
    e = support.cli_env()
    e.update(env or {})
    r = subprocess.run([binary, "check", "--config", str(path), *extra],
                       capture_output=True, text=True, timeout=30, env=e)
    for m in support.SANITIZER_MARKERS:
        assert m not in r.stderr, r.stderr
    return r


def settings(r):
    """`check`'s output as a dict."""
    assert r.returncode == 0, "check failed (%d): %s" % (r.returncode,
                                                         r.stderr)
    return dict(l.split(" = ", 1) for l in r.stdout.splitlines()
                if " = " in l)


# --------------------------------------------------------------------------
# The configuration file


def test_shipped_config_passes_check(rollcalld_bin):
    r = check(rollcalld_bin, CONF)
    s = settings(r)
    assert "%s: ok" % CONF in r.stdout, r.stdout
    assert s["public_url"] == "https://rollcall.example.org" and \
        s["listen"] == "127.0.0.1:8080" and \
        s["trusted_proxies"] == "127.0.0.1, ::1", s
    assert s["db"] == "(set, not shown)", \
        "check must never print the conninfo: %r" % s


@pytest.mark.parametrize("text, line, reason", [
    ("listen = 127.0.0.1:8080\n# a comment\n\nbogus = 1\n", 4,
     "unknown key 'bogus'"),
    ("pool = 8\njust some words\n", 2, "expected 'key = value'"),
    ("= 3\n", 1, "no key"),
    ("Pool = 3\n", 1, "'Pool' is not a key"),
    ("pool = 0\n", 1, "pool: wants a whole number from 1 to 256"),
    ("rate_limit = 10  # a minute\n", 1, "rate_limit: wants a whole number"),
    ("queue = -1\n", 1, "queue: wants a whole number"),
    ("pool = 4\n\npool = 5\n", 3, "pool is already set on line 1"),
    ("listen = 8080\n", 1, "listen: wants ADDR:PORT"),
    ("listen = ::1:8080\n", 1, "listen: wants ADDR:PORT"),
    ("listen =\n", 1, "listen: empty value"),
    ("public_url = ftp://example.org\n", 1, "public_url: wants an http"),
    ("trusted_proxies = 127.0.0.1, nginx.local\n", 1,
     "trusted_proxies: 'nginx.local' is not an IP address"),
    ("trusted_proxies = 10.0.0.0/33\n", 1, "'10.0.0.0/33' is not an IP"),
    ("syslog = maybe\n", 1, "syslog: wants yes or no"),
    ("db = dbname=x\ndb_file = /etc/hostname\n", 2, "db and db_file both set"),
    ("db_file = /nonexistent/db.conninfo\n", 1, "db_file: cannot open"),
    ("verbose = yes\npool = 3\x01\n", 2, "control character"),
    ("smtp = smtp://127.0.0.1:25\nsmtp_tls = maybe\n", 2,
     "smtp_tls: wants required, try or none"),
    ("mail_from = a@b.org\nsmtp = http://x\n", 2, "smtp: wants smtp://"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 30 and "\n" not in v
    else None)
def test_check_names_the_line_and_the_reason(rollcalld_bin, tmp_path, text,
                                            line, reason):
    path = write(tmp_path / "rollcall.conf", text)
    r = check(rollcalld_bin, path)
    assert r.returncode == 1, ("check should refuse %r with status 1, got "
                               "%d: %r" % (text, r.returncode, r.stdout))
    want = "%s:%d: " % (path, line)
    assert want in r.stderr and reason in r.stderr, \
        "expected %r and %r on stderr, got %r" % (want, reason, r.stderr)
    assert "ok" not in r.stdout


def test_check_wants_a_readable_file_and_a_config(rollcalld_bin, tmp_path):
    r = check(rollcalld_bin, tmp_path / "missing.conf")
    assert r.returncode == 1 and "missing.conf" in r.stderr and \
        "No such file" in r.stderr, r.stderr
    r = run_cli([rollcalld_bin, "check"])
    assert r.returncode == 2 and "--config" in r.stderr, r.stderr
    # serve with a broken file starts nothing
    path = write(tmp_path / "bad.conf", "pool = many\n")
    r = run_cli([rollcalld_bin, "serve", "--config", path])
    assert r.returncode == 1 and "%s:1: pool" % path in r.stderr, r.stderr


def test_db_file_must_not_be_readable_by_everyone(rollcalld_bin, tmp_path):
    secret = write(tmp_path / "db.conninfo",
                   "host=/nonexistent dbname=x password=hunter2\n", 0o644)
    path = write(tmp_path / "rollcall.conf", "db_file = %s\n" % secret)
    r = check(rollcalld_bin, path)
    assert r.returncode == 1 and "%s:1: " % path in r.stderr and \
        "readable by every user" in r.stderr, r.stderr
    os.chmod(secret, 0o640)
    r = check(rollcalld_bin, path)
    assert settings(r)["db"] == "(set, not shown)"
    assert "hunter2" not in r.stdout + r.stderr, "a secret was printed"
    write(tmp_path / "db.conninfo", "\n  \n", 0o600)
    r = check(rollcalld_bin, path)
    assert r.returncode == 1 and "is empty" in r.stderr, r.stderr


def test_flags_beat_the_environment_which_beats_the_file(rollcalld_bin,
                                                         tmp_path):
    path = write(tmp_path / "rollcall.conf",
                 "listen = 127.0.0.1:7001\npublic_url = https://file.example"
                 "\npool = 3\nrate_limit = 5\nverbose = no\n")
    s = settings(check(rollcalld_bin, path))
    assert (s["listen"], s["public_url"], s["pool"], s["rate_limit"]) == \
        ("127.0.0.1:7001", "https://file.example", "3", "5"), s
    s = settings(check(rollcalld_bin, path,
                       env={"ROLLCALL_PUBLIC_URL": "https://env.example"}))
    assert s["public_url"] == "https://env.example", s
    s = settings(check(rollcalld_bin, path, "--public-url",
                       "https://flag.example", "--pool", "7", "-v",
                       "--listen", "127.0.0.1:7002",
                       env={"ROLLCALL_PUBLIC_URL": "https://env.example"}))
    assert (s["public_url"], s["pool"], s["verbose"], s["listen"],
            s["rate_limit"]) == ("https://flag.example", "7", "yes",
                                 "127.0.0.1:7002", "5"), s
    r = check(rollcalld_bin, path, "--pool", "999")
    assert r.returncode == 2 and "--pool" in r.stderr, r.stderr
    # nothing given: the built-in defaults
    s = settings(check(rollcalld_bin, write(tmp_path / "empty.conf", "")))
    assert (s["listen"], s["pool"], s["rate_limit"], s["queue"]) == \
        ("127.0.0.1:8080", "8", "60", "2048"), s


class NotifySocket:
    """systemd's end of sd_notify: a datagram socket collecting states."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="rc-notify-")
        self.path = os.path.join(self.dir, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.got = []

    def drain(self):
        while True:
            try:
                self.got.append(self.sock.recv(4096).decode())
            except (socket.timeout, BlockingIOError):
                return self.got

    def has(self, line):
        return any(line in m.split("\n") for m in self.drain())

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def test_serve_runs_from_the_config_file_with_notify_and_trusted_proxies(
        rollcalld_bin, pg, create_event, tmp_path):
    port = free_port()
    secret = write(tmp_path / "db.conninfo", pg.conninfo + "\n", 0o640)
    path = write(tmp_path / "rollcall.conf", """# as a volunteer would write it
listen = 127.0.0.1:%d
public_url = https://tickets.example.org
db_file = %s
trusted_proxies = 127.0.0.1
rate_limit = 1
verbose = yes
""" % (port, secret))
    ev = create_event(meetup(capacity=100), status="published")
    url = "/api/v1/events/%d/registrations" % ev["id"]
    note = NotifySocket()
    env = support.cli_env()
    env.update({"NOTIFY_SOCKET": note.path, "WATCHDOG_USEC": "300000",
                "ROLLCALL_PUBLIC_URL": ""})
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([rollcalld_bin, "serve", "--config", path],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                            env=env)

    def logtext():
        return (tmp_path / "serve.log").read_text(errors="replace")
    try:
        wait_until(lambda: proc.poll() is None and note.has("READY=1"), 60,
                   "READY=1 on $NOTIFY_SOCKET")
        assert http_call(port, "GET", "/healthz").status == 200

        def reg(xff=None):
            return http_call(port, "POST", url, person(),
                             headers={"X-Forwarded-For": xff} if xff else {})
        fresh_rate_window()     # the limit's calls below in one minute
        first = expect(reg("127.0.0.9"), 201)
        assert first["manage_url"].startswith("https://tickets.example.org/"), \
            "public_url from the file must build manage links: %r" % first
        # rate_limit = 1 a minute per client: the client is the last
        # X-Forwarded-For entry from a trusted proxy
        expect(reg("127.0.0.10"), 201)
        expect(reg("127.0.0.10"), 429, "rate_limited")
        expect(reg("127.0.0.66, 127.0.0.11"), 201)
        # a last entry that is no IP literal: the peer itself is the client
        expect(reg("127.0.0.12, not-an-address"), 201)
        expect(reg(), 429, "rate_limited")
        expect(reg("::ffff:127.0.0.13"), 201)
        text = logtext()
        for a in ("127.0.0.9 ", "127.0.0.10 ", "127.0.0.11 "):
            assert a in text, "the request log should name %r:\n%s" % (a,
                                                                     text)
        assert "hunter" not in text and pg.conninfo not in text
        # WATCHDOG_USEC=300000: the daemon pings every 150 ms. Waited
        # for, not timed (a loaded machine stretches any interval): three
        # more pings, where one stalled loop would send none.
        def pings():
            return sum(m.count("WATCHDOG=1") for m in note.drain())
        n0 = pings()
        wait_until(lambda: pings() - n0 >= 3, 10,
                   "three more WATCHDOG=1 pings on $NOTIFY_SOCKET "
                   "(WATCHDOG_USEC=300000 wants one every 150 ms)")
        assert any(m.startswith("READY=1") and "STATUS=serving on "
                   "127.0.0.1:%d" % port in m for m in note.got), note.got
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, logtext()
        assert note.has("STOPPING=1"), note.got
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
        note.close()
    bad = [l for l in logtext().splitlines()
           if any(m in l for m in support.SANITIZER_MARKERS)]
    assert not bad, logtext()


def test_forwarded_for_is_ignored_from_untrusted_peers(pg, start_daemon,
                                                       create_event):
    d = start_daemon(pg.conninfo, ["--rate-limit", "1", "--trusted-proxies",
                                   "10.0.0.0/8 ::1"])
    ev = create_event(meetup(capacity=100), status="published")
    url = "/api/v1/events/%d/registrations" % ev["id"]
    expect(d.api("POST", url, person(),
                 headers={"X-Forwarded-For": "127.0.0.20"}), 201)
    expect(d.api("POST", url, person(),
                 headers={"X-Forwarded-For": "127.0.0.21"}), 429,
           "rate_limited")


def test_token_reads_the_database_from_the_config(rollcalld_bin, pg,
                                                  tmp_path):
    secret = write(tmp_path / "db.conninfo", pg.conninfo, 0o600)
    path = write(tmp_path / "rollcall.conf", "db_file = %s\n" % secret)
    r = run_cli([rollcalld_bin, "token", "--config", path, "--role",
                 "admin", "--name", "from-config", "--ttl", "1h"])
    assert r.returncode == 0 and r.stdout.count(".") == 2, r.stderr


# --------------------------------------------------------------------------
# The Debian package


def dpkg(root, *args, check_rc=True):
    r = subprocess.run(["dpkg", "--root=%s" % root, "--force-depends",
                        "--force-script-chrootless", *args],
                       capture_output=True, text=True, timeout=120)
    assert not check_rc or r.returncode == 0, \
        "dpkg %s failed (%d):\n%s%s" % (" ".join(args), r.returncode,
                                        r.stdout, r.stderr)
    return r


@pytest.fixture(scope="module")
def deb():
    if os.geteuid() != 0:
        pytest.skip("dpkg --root and the postinst's chown want root")
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    r = subprocess.run(["make", "-s", "--no-print-directory", "-j2", "deb"],
                       cwd=REPO, capture_output=True, text=True, timeout=600,
                       env=env)
    assert r.returncode == 0, "make deb failed:\n%s%s" % (r.stdout[-3000:],
                                                         r.stderr[-3000:])
    debs = [l for l in r.stdout.splitlines() if l.endswith(".deb")]
    assert debs, "make deb named no package:\n" + r.stdout
    path = REPO / debs[-1]
    assert path.is_file(), r.stdout
    return path


@pytest.fixture(scope="module")
def scratch_root(deb):
    """The package installed by dpkg into an empty root of its own, its
    maintainer scripts run outside a chroot with $DPKG_ROOT set."""
    root = tempfile.mkdtemp(prefix="rollcall-root-")
    for d in ("etc", "var/lib/dpkg/info", "var/lib/dpkg/updates",
              "var/log"):
        os.makedirs(os.path.join(root, d))
    open(os.path.join(root, "var/lib/dpkg/status"), "w").close()
    for name, line, mode in (("passwd", "root:x:0:0:root:/root:/bin/bash",
                              0o644), ("group", "root:x:0:", 0o644),
                             ("shadow", "root:*:19000:0:99999:7:::", 0o640),
                             ("gshadow", "root:*::", 0o640)):
        with open(os.path.join(root, "etc", name), "w") as f:
            f.write(line + "\n")
        os.chmod(os.path.join(root, "etc", name), mode)
    dpkg(root, "-i", str(deb))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_deb_control_conffiles_and_contents(deb):
    info = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True,
                          text=True, timeout=30).stdout
    assert re.search(r"^Package: rollcall$", info, re.M), info
    for lib in ("libpq5", "libevent-2.1-7", "libjwt0", "libsodium23",
                "libzbar0"):
        assert lib in info, "Depends should name %s:\n%s" % (lib, info)
    conffiles = subprocess.run(["dpkg-deb", "--ctrl-tarfile", str(deb)],
                               capture_output=True, timeout=30).stdout
    assert b"./conffiles" in conffiles
    tmp = tempfile.mkdtemp(prefix="rollcall-ctrl-")
    try:
        subprocess.run(["dpkg-deb", "-e", str(deb), tmp], check=True,
                       timeout=30)
        with open(os.path.join(tmp, "conffiles")) as f:
            assert f.read().split() == ["/etc/rollcall/rollcall.conf"]
        for s in ("postinst", "prerm", "postrm"):
            assert os.access(os.path.join(tmp, s), os.X_OK), s
            r = subprocess.run(["sh", "-n", os.path.join(tmp, s)],
                               capture_output=True, text=True)
            assert r.returncode == 0, "%s: %s" % (s, r.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)],
                             capture_output=True, text=True,
                             timeout=30).stdout
    for want in ("./usr/bin/rollcalld", "./usr/bin/rollcall-scan",
                 "./usr/share/rollcall/sql/001_foundation.sql",
                 "./usr/share/rollcall/templates/",
                 "./etc/rollcall/rollcall.conf",
                 "./lib/systemd/system/rollcalld.service",
                 "./lib/systemd/system/rollcalld@.service",
                 "./usr/share/doc/rollcall/examples/nginx-rollcall.conf"):
        assert any(l.split()[-1] == want for l in listing.splitlines()), \
            "the package lacks %s:\n%s" % (want, listing)
    for l in listing.splitlines():
        assert " root/root " in l, "every file belongs to root: %r" % l


def test_deb_installs_files_user_and_units(deb, scratch_root):
    root = scratch_root
    with open(os.path.join(root, "etc/passwd")) as f:
        users = [l for l in f if l.startswith("rollcall:")]
    assert len(users) == 1, "postinst should add one system user rollcall"
    uid, gid, home, shell = (users[0].split(":")[i] for i in (2, 3, 5, 6))
    assert int(uid) < 1000 and home == "/nonexistent" and \
        shell.strip() == "/usr/sbin/nologin", users
    with open(os.path.join(root, "etc/group")) as f:
        assert any(l.startswith("rollcall:x:%s:" % gid) for l in f)
    conf = os.stat(os.path.join(root, "etc/rollcall/rollcall.conf"))
    assert (conf.st_uid, conf.st_gid, conf.st_mode & 0o777) == \
        (0, int(gid), 0o640), "rollcall.conf should be root:rollcall 0640"
    d = os.stat(os.path.join(root, "etc/rollcall"))
    assert (d.st_gid, d.st_mode & 0o777) == (int(gid), 0o750)
    for f in ("usr/bin/rollcalld", "usr/bin/rollcall-scan"):
        assert os.access(os.path.join(root, f), os.X_OK), f
    for u in UNITS:
        assert os.path.isfile(os.path.join(root, "lib/systemd/system", u)), u
    status = dpkg(root, "-s", "rollcall").stdout
    assert "Status: install ok installed" in status and \
        "/etc/rollcall/rollcall.conf" in status.split("Conffiles:")[1], status
    r = subprocess.run([os.path.join(root, "usr/bin/rollcalld"), "check",
                        "--config", os.path.join(root,
                                                 "etc/rollcall/rollcall.conf")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, "the installed config fails check: " + r.stderr
    # installing again (an upgrade in place) keeps one user
    dpkg(root, "-i", str(deb))
    with open(os.path.join(root, "etc/passwd")) as f:
        assert sum(l.startswith("rollcall:") for l in f) == 1


def test_installed_program_migrates_and_serves_the_packaged_files(
        scratch_root, pg, tmp_path):
    """What `systemctl start rollcalld` runs (migrate, then serve), with
    the installed release binary, SQL and templates, on a new database."""
    root = scratch_root
    db = "pkg_" + uniq("d").replace("-", "_")
    pg.psql("CREATE DATABASE %s" % db)
    conninfo = re.sub(r"dbname=\S+", "dbname=" + db, pg.conninfo)
    share = os.path.join(root, "usr/share/rollcall")
    binary = os.path.join(root, "usr/bin/rollcalld")
    port = free_port()
    conf = write(tmp_path / "rollcall.conf",
                 "db = %s\nlisten = 127.0.0.1:%d\nshare = %s\n" %
                 (conninfo, port, share))
    r = subprocess.run([binary, "migrate", "--config", conf],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, "installed migrate failed:\n" + r.stderr
    log = open(tmp_path / "pkg.log", "wb")
    proc = subprocess.Popen([binary, "serve", "--config", conf],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        wait_until(lambda: http_call(port, "GET", "/healthz").status == 200,
                   60, "the installed rollcalld to answer /healthz")
        page = http_call(port, "GET", "/")
        assert page.status == 200 and b"<html" in page.raw.lower(), page
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def test_deb_remove_keeps_config_and_user_purge_keeps_data(deb, tmp_path):
    root = str(tmp_path / "root")
    for d in ("etc", "var/lib/dpkg/info", "var/lib/dpkg/updates", "var/log"):
        os.makedirs(os.path.join(root, d))
    open(os.path.join(root, "var/lib/dpkg/status"), "w").close()
    for name, line in (("passwd", "root:x:0:0:root:/root:/bin/bash"),
                       ("group", "root:x:0:"), ("shadow", "root:*::::::"),
                       ("gshadow", "root:*::")):
        with open(os.path.join(root, "etc", name), "w") as f:
            f.write(line + "\n")
    dpkg(root, "-i", str(deb))
    conninfo = os.path.join(root, "etc/rollcall/db.conninfo")
    with open(conninfo, "w") as f:
        f.write("host=db1 password=kept\n")
    dpkg(root, "-r", "rollcall")
    assert not os.path.exists(os.path.join(root, "usr/bin/rollcalld"))
    assert os.path.isfile(os.path.join(root, "etc/rollcall/rollcall.conf")), \
        "remove must keep the conffile"
    assert "deinstall ok config-files" in dpkg(root, "-s", "rollcall").stdout
    dpkg(root, "--purge", "rollcall")
    assert not os.path.exists(os.path.join(root, "etc/rollcall/rollcall.conf"))
    assert os.path.isfile(conninfo), \
        "purge must not delete the administrator's own db.conninfo"
    with open(os.path.join(root, "etc/passwd")) as f:
        assert any(l.startswith("rollcall:") for l in f), \
            "the system user stays (files and the database may be its)"
    for script in ("postrm", "prerm"):
        text = (REPO / "deploy" / "debian" / script).read_text()
        assert not re.search(r"dropdb|DROP\s+(DATABASE|ROLE)", text, re.I), \
            "%s must never drop the database" % script


# --------------------------------------------------------------------------
# systemd


def systemd_analyze():
    path = shutil.which("systemd-analyze")
    if path is None:
        pytest.skip("systemd-analyze is not installed (deploy/dev/deps.sh "
                    "test installs systemd)")
    return path


@pytest.fixture(scope="module")
def unit_root(scratch_root):
    """The scratch root with the host's own units beside the package's, so
    `systemd-analyze --root` finds sysinit.target and friends."""
    units = os.path.join(scratch_root, "lib/systemd/system")
    for src in ("/lib/systemd/system", "/usr/lib/systemd/system"):
        if os.path.isdir(src):
            subprocess.run(["cp", "-an", src + "/.", units + "/"],
                           check=True, timeout=60)
            break
    return scratch_root


def test_systemd_analyze_verify_is_clean(unit_root):
    sa = systemd_analyze()
    r = subprocess.run([sa, "verify", "--root=%s" % unit_root,
                        "rollcalld.service", "rollcalld@8081.service",
                        "rollcalld@8082.service"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and not r.stderr.strip() and \
        not r.stdout.strip(), ("systemd-analyze verify complains (%d):\n%s%s"
                               % (r.returncode, r.stdout, r.stderr))


@pytest.mark.parametrize("unit", ["rollcalld.service",
                                  "rollcalld@8081.service"])
def test_systemd_security_exposure_at_most_2(unit_root, unit):
    sa = systemd_analyze()
    r = subprocess.run([sa, "security", "--offline=true",
                        "--root=%s" % unit_root, "--threshold=20",
                        "--no-pager", unit],
                       capture_output=True, text=True, timeout=120)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d)", r.stdout)
    assert m, "no exposure level in:\n%s%s" % (r.stdout, r.stderr)
    assert float(m.group(1)) <= 2.0, ("%s exposure %s > 2.0:\n%s" %
                                      (unit, m.group(1), r.stdout))


def test_units_sandbox_and_notify(unit_root):
    for u in UNITS:
        text = (REPO / "deploy" / "systemd" / u).read_text()
        for want in ("Type=notify", "WatchdogSec=", "User=rollcall",
                     "ProtectSystem=strict", "ProtectHome=yes",
                     "PrivateTmp=yes", "NoNewPrivileges=yes",
                     "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
                     "SystemCallFilter=@system-service",
                     "MemoryDenyWriteExecute=yes", "KillSignal=SIGTERM",
                     "--config /etc/rollcall/rollcall.conf"):
            assert want in text, "%s lacks %s" % (u, want)
    tmpl = (REPO / "deploy" / "systemd" / "rollcalld@.service").read_text()
    assert "--listen 127.0.0.1:%i" in tmpl


# --------------------------------------------------------------------------
# nginx


def test_nginx_in_the_tests_reads_nothing_from_the_checkout():
    """nginx's workers (www-data) may not enter the checkout (one under
    /root, a 0700 folder): the test config must name only copies."""
    n = Nginx([free_port()])
    try:
        for name in ("nginx.conf", "rollcall.conf"):
            with open(os.path.join(n.dir, name)) as f:
                inside = checkout_paths(f.read())
            assert not inside, ("the test's %s hands nginx paths inside the "
                                "checkout, which its workers may not be "
                                "allowed to read: %r" % (name, inside))
        css = os.path.join(n.templates, "style.css")
        assert os.stat(css).st_mode & 0o004, \
            "the stylesheet nginx serves should be readable by every user"
    finally:
        n.stop()


def test_nginx_site_config_passes_nginx_t_and_matches_the_server(
        rollcalld_bin, tmp_path):
    if shutil.which("nginx") is None and not os.path.exists("/usr/sbin/nginx"):
        pytest.skip("nginx is not installed (deploy/dev/deps.sh test)")
    n = Nginx([free_port(), free_port()])
    try:
        r = n.test_config()
        assert r.returncode == 0 and "test is successful" in r.stderr and \
            "[warn]" not in r.stderr, "nginx -t:\n" + r.stderr
    finally:
        n.stop()
    site = SITE.read_text()
    header = (REPO / "server" / "server.h").read_text()
    body = int(re.search(r"#define HTTP_MAXBODY\s+\((\d+) \* 1024\)",
                         header).group(1))
    hdrs = int(re.search(r"#define HTTP_MAXHEADERS\s+\((\d+) \* 1024\)",
                         header).group(1))
    timeout = int(re.search(r"#define HTTP_TIMEOUT\s+(\d+)", header).group(1))
    rate = settings(check(rollcalld_bin, write(tmp_path / "e.conf", "")))
    for want in ("client_max_body_size %dk;" % body,
                 "large_client_header_buffers 4 %dk;" % hdrs,
                 "client_header_timeout %ds;" % timeout,
                 "client_body_timeout %ds;" % timeout,
                 "rate=%sr/m" % rate["rate_limit"],
                 "listen 443 ssl http2;",
                 "proxy_set_header X-Forwarded-For",
                 "max_fails=", "proxy_next_upstream error timeout;"):
        assert want in site, "deploy/nginx/rollcall.conf lacks %r" % want
    # the trusted proxy of the shipped rollcall.conf is where nginx is
    assert "trusted_proxies = 127.0.0.1" in CONF.read_text()
