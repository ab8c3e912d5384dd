"""Helpers for the deploy/ tests: a test certificate, and nginx running the
shipped site config (deploy/nginx/rollcall.conf) from a temporary prefix,
unprivileged-friendly, on loopback ports.

Only the ports, the certificate paths and the static-file directory of the
site config are changed; every substitution must hit, so a change to the
site config that the tests no longer cover fails loudly.

nginx's workers run as www-data (as root) and may not be allowed into the
checkout (one under /root, or any 0700 folder): what they serve is copied
into the temp prefix, world-readable, and no path of the checkout appears
in the config they read (checkout_paths() says which do).
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile

from support import REPO, free_port, wait_until, Resp

SITE = REPO / "deploy" / "nginx" / "rollcall.conf"


def nginx_bin():
    return shutil.which("nginx") or "/usr/sbin/nginx"


def make_cert(directory):
    """A self-signed P-256 certificate for 127.0.0.1/localhost, made now."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    r = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext",
         "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", key, "-out", cert],
        capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, "openssl req failed:\n" + r.stderr
    return cert, key


def _sub(text, pattern, repl, count_min=1, flags=re.M):
    new, n = re.subn(pattern, repl, text, flags=flags)
    assert n >= count_min, ("deploy/nginx/rollcall.conf no longer has %r; "
                            "update the tests with it" % pattern)
    return new


def readable_copy(src, dst):
    """Copy the tree src to dst, readable by every user whatever the
    checkout's modes (a umask of 077 makes them private)."""
    shutil.copytree(src, dst)
    os.chmod(dst, 0o755)
    for root, dirs, files in os.walk(dst):
        for n in dirs:
            os.chmod(os.path.join(root, n), 0o755)
        for n in files:
            os.chmod(os.path.join(root, n), 0o644)


def checkout_paths(text):
    """The paths inside the checkout that an nginx config names."""
    return sorted(set(re.findall(re.escape(str(REPO)) + r"[^\s;]*", text)))


def site_config(upstream_ports, http_port, https_port, cert, key, webroot,
                templates, rate="60r/m"):
    """The shipped site config with loopback ports and test paths."""
    text = SITE.read_text()
    lines = []
    for p in upstream_ports:
        lines.append("\tserver 127.0.0.1:%d max_fails=2 fail_timeout=10s;"
                     % p)
    text = _sub(text, r"^\tserver 127\.0\.0\.1:\d+ [^;\n]*;\n", "",
                count_min=2)
    text = _sub(text, r"^(upstream rollcall \{\n)",
                lambda m: m.group(1) + "\n".join(lines) + "\n")
    text = _sub(text, r"^\tlisten 80;$", "\tlisten 127.0.0.1:%d;" % http_port)
    text = _sub(text, r"^\tlisten \[::\]:80;\n", "")
    text = _sub(text, r"^\tlisten 443 ssl http2;$",
                "\tlisten 127.0.0.1:%d ssl http2;" % https_port)
    text = _sub(text, r"^\tlisten \[::\]:443 ssl http2;\n", "")
    text = _sub(text, r"/etc/letsencrypt/live/rollcall\.example\.org/"
                r"fullchain\.pem", cert)
    text = _sub(text, r"/etc/letsencrypt/live/rollcall\.example\.org/"
                r"privkey\.pem", key)
    text = _sub(text, r"/usr/share/rollcall/templates/",
                str(templates) + "/")
    text = _sub(text, r"root /var/www/html;", "root %s;" % webroot)
    if rate != "60r/m":
        text = _sub(text, r"rate=60r/m", "rate=" + rate)
    return text


class Nginx:
    """nginx with the site config in a temp prefix: pid, logs and temp
    files all inside it; `daemon off`, so the test owns the process."""

    def __init__(self, upstream_ports, rate="60r/m"):
        self.dir = tempfile.mkdtemp(prefix="rollcall-nginx-")
        os.chmod(self.dir, 0o755)          # workers run as www-data
        self.cert, self.key = make_cert(self.dir)
        os.chmod(self.key, 0o600)
        self.http_port = free_port()
        self.https_port = free_port()
        self.webroot = os.path.join(self.dir, "www")
        os.mkdir(self.webroot)
        # the static files, as /usr/share/rollcall/templates/ of a package
        self.templates = os.path.join(self.dir, "templates")
        readable_copy(REPO / "templates", self.templates)
        with open(os.path.join(self.dir, "rollcall.conf"), "w") as f:
            f.write(site_config(upstream_ports, self.http_port,
                                self.https_port, self.cert, self.key,
                                self.webroot, self.templates, rate))
        d = self.dir
        user = "user www-data;\n" if os.geteuid() == 0 else ""
        self.conf = os.path.join(d, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write("""%(user)sdaemon off;
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log info;
events { worker_connections 512; }
http {
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	access_log %(d)s/access.log;
	client_body_temp_path %(d)s/client_body;
	proxy_temp_path %(d)s/proxy;
	fastcgi_temp_path %(d)s/fastcgi;
	uwsgi_temp_path %(d)s/uwsgi;
	scgi_temp_path %(d)s/scgi;
	include %(d)s/rollcall.conf;
}
""" % {"user": user, "d": d})
        self.proc = None

    def cmd(self, *args):
        return [nginx_bin(), "-p", self.dir + "/", "-e",
                os.path.join(self.dir, "error.log"), "-c", self.conf, *args]

    def test_config(self):
        return subprocess.run(self.cmd("-t"), capture_output=True, text=True,
                              timeout=60)

    def start(self):
        r = self.test_config()
        assert r.returncode == 0, "nginx -t failed:\n" + r.stderr
        self.log = open(os.path.join(self.dir, "stderr.log"), "ab")
        self.proc = subprocess.Popen(self.cmd(), stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("nginx exited:\n" + self.error_log())
            socket.create_connection(("127.0.0.1", self.https_port),
                                     timeout=1).close()
            return True
        wait_until(up, 20, "nginx to listen on %d" % self.https_port)
        return self

    def error_log(self):
        try:
            with open(os.path.join(self.dir, "error.log"),
                      errors="replace") as f:
                return f.read()[-4000:]
        except FileNotFoundError:
            return ""

    def ssl_context(self):
        ctx = ssl.create_default_context(cafile=self.cert)
        return ctx

    def connect(self, source="127.0.0.1", timeout=30):
        """A keep-alive HTTPS connection from a loopback source address."""
        return http.client.HTTPSConnection(
            "127.0.0.1", self.https_port, timeout=timeout,
            context=self.ssl_context(), source_address=(source, 0))

    def call(self, method, path, body=None, token=None, raw=None,
             headers=None, conn=None, source="127.0.0.1"):
        h = dict(headers or {})
        data = raw
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if raw is None and body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        own = conn is None
        c = conn or self.connect(source)
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            payload = r.read()
            return Resp(method, path, data, r.status, r.headers, payload)
        finally:
            if own:
                c.close()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
