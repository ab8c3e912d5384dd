#!/usr/bin/env bash
# `make deb`: the release build, staged as it installs, packed by dpkg-deb
# into build/rollcall_VERSION_ARCH.deb (whose path is the last line out).
# Runs after `make all`; needs dpkg-dev for dpkg-shlibdeps.
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in dpkg-deb dpkg-shlibdeps; do
	command -v "$tool" >/dev/null ||
		{ echo "build-deb: $tool missing: apt-get install dpkg-dev" >&2; exit 1; }
done
for bin in build/rollcalld build/rollcall-scan; do
	[ -x "$bin" ] || { echo "build-deb: $bin missing: run make all" >&2; exit 1; }
done

arch=$(dpkg --print-architecture)
# 0.1.N, N the commits on this branch: every landed change a newer package.
version=${ROLLCALL_VERSION:-0.1.$(git rev-list --count HEAD 2>/dev/null || echo 0)}
stage=build/deb/rollcall
deb=build/rollcall_${version}_${arch}.deb
rm -rf "$stage" build/deb/shlibs
umask 022
mkdir -p "$stage/DEBIAN"

install -D -m 755 -s build/rollcalld "$stage/usr/bin/rollcalld"
install -D -m 755 -s build/rollcall-scan "$stage/usr/bin/rollcall-scan"
install -d "$stage/usr/share/rollcall/sql"
install -m 644 sql/*.sql "$stage/usr/share/rollcall/sql/"
install -d "$stage/usr/share/rollcall/sql/functions"
install -m 644 sql/functions/*.sql "$stage/usr/share/rollcall/sql/functions/"
cp -R templates "$stage/usr/share/rollcall/templates"
install -D -m 640 deploy/rollcall.conf "$stage/etc/rollcall/rollcall.conf"
install -D -m 644 deploy/systemd/rollcalld.service \
	"$stage/lib/systemd/system/rollcalld.service"
install -D -m 644 deploy/systemd/rollcalld@.service \
	"$stage/lib/systemd/system/rollcalld@.service"
doc=$stage/usr/share/doc/rollcall
install -D -m 644 README.md "$doc/README.md"
install -D -m 644 docs/deploy.md "$doc/deploy.md"
install -D -m 644 deploy/nginx/rollcall.conf "$doc/examples/nginx-rollcall.conf"
install -D -m 644 deploy/rollcall.conf "$doc/examples/rollcall.conf"
find "$stage" -type d -exec chmod 755 {} +
find "$stage/usr/share" -type f -exec chmod 644 {} +

# Depends: the shared libraries the two programs link, as dpkg-shlibdeps
# names them (it wants a debian/control to stand in).
mkdir -p build/deb/shlibs/debian
printf 'Source: rollcall\n\nPackage: rollcall\nArchitecture: any\n' \
	>build/deb/shlibs/debian/control
depends=$(cd build/deb/shlibs && dpkg-shlibdeps -O \
	-e"../rollcall/usr/bin/rollcalld" -e"../rollcall/usr/bin/rollcall-scan" \
	2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "build-deb: dpkg-shlibdeps found no libraries" >&2; exit 1; }

size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
	-e "s/@DEPENDS@/$depends/" deploy/debian/control.in >"$stage/DEBIAN/control"
install -m 644 deploy/debian/conffiles "$stage/DEBIAN/conffiles"
install -m 755 deploy/debian/postinst deploy/debian/prerm deploy/debian/postrm \
	"$stage/DEBIAN/"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f ! -path './etc/*' -print |
	sed 's|^\./||' | LC_ALL=C sort | xargs md5sum) >"$stage/DEBIAN/md5sums"

rm -f build/rollcall_*_"$arch".deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
