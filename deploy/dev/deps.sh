#!/usr/bin/env bash
# Install the Debian packages Rollcall needs, only those missing.
# Usage: deps.sh build|test|bench|run
set -euo pipefail
want=()
need_pc() {	# pkg-config module, Debian package
	pkg-config --exists "$1" 2>/dev/null || want+=("$2")
}
need_cmd() {	# command, Debian package
	command -v "$1" >/dev/null 2>&1 || want+=("$2")
}
need_py() {	# module, Debian package (Debian's own python3)
	/usr/bin/python3 -c "import $1" >/dev/null 2>&1 || want+=("$2")
}
need_cmd gcc gcc
need_cmd make make
need_cmd pkg-config pkg-config
need_pc libpq libpq-dev
need_pc libjwt libjwt-dev
need_pc libevent libevent-dev
need_pc libevent_pthreads libevent-dev
need_pc jansson libjansson-dev
need_pc libsodium libsodium-dev
need_pc libqrencode libqrencode-dev
need_pc libpng libpng-dev
need_pc libcrypto libssl-dev
need_pc zbar libzbar-dev
need_pc libjpeg libjpeg62-turbo-dev
need_pc libcurl libcurl4-openssl-dev
need_pc gmime-3.0 libgmime-3.0-dev
need_pc xlsxwriter libxlsxwriter-dev
need_pc pangocairo libpango1.0-dev
need_pc cairo-pdf libcairo2-dev
# Badges: CJK names need a font that has them (embedded in the PDF).
fc-list 2>/dev/null | grep -q NotoSansCJK || want+=(fonts-noto-cjk)
case "${1:-build}" in
run|test|bench)
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || want+=(postgresql)
	need_cmd psql postgresql-client
	need_cmd runuser util-linux ;;
esac
case "${1:-build}" in
test|bench)
	need_cmd nginx nginx
	need_cmd openssl openssl
	need_cmd systemd-analyze systemd
	need_cmd dpkg-shlibdeps dpkg-dev
	need_pc cmocka libcmocka-dev
	[ -x /usr/bin/python3 ] || want+=(python3)
	need_py pytest python3-pytest
	need_py jwt python3-jwt
	need_py cryptography python3-cryptography
	need_py PIL python3-pil
	need_py aiosmtpd python3-aiosmtpd
	need_py openpyxl python3-openpyxl
	need_cmd zbarimg zbar-tools
	need_cmd pdftotext poppler-utils
	need_cmd pdftoppm poppler-utils
	need_cmd pdffonts poppler-utils
	need_cmd lp cups-client
	need_cmd chromium chromium
	need_cmd node nodejs
	need_cmd npm npm
	need_cmd java default-jre-headless
	need_cmd clang clang
	ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a \
	    >/dev/null 2>&1 || want+=(libclang-rt-14-dev) ;;
esac
case "${1:-build}" in
bench) need_cmd wrk wrk; need_cmd pgbench postgresql-client; need_cmd qrencode qrencode; need_cmd openssl openssl ;;
esac
[ ${#want[@]} -eq 0 ] && exit 0
# De-duplicate, then install.
mapfile -t want < <(printf '%s\n' "${want[@]}" | sort -u)
echo "deps: installing ${want[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages and not root; run: sudo apt-get install -y ${want[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "${want[@]}" ||
	{ apt-get update && apt-get install -y --no-install-recommends "${want[@]}"; }
