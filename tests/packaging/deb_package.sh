#!/usr/bin/env bash
# `cpack -G DEB` on the build makes a package that holds the binary, both units, the sysusers
# file, the example config and mappings, every migration and the licence; whose control fields
# are sane (name, version, architecture, Depends from dpkg-shlibdeps plus systemd, maintainer,
# description); whose maintainer scripts are executable shell; and whose binary runs.
# Usage: deb_package.sh SOURCE_DIR BUILD_DIR VERSION
set -euo pipefail
source=$1
build=$2
version=$3
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() {
    echo "deb_package: $*" >&2
    exit 1
}
for tool in cpack dpkg-deb dpkg-shlibdeps; do
    command -v "$tool" >/dev/null || fail "$tool is missing (scripts/setup installs dpkg-dev)"
done
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$out" >"$out/cpack.log" 2>&1 ||
    { cat "$out/cpack.log" >&2; fail "cpack -G DEB failed"; }
debs=("$out"/*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "expected one .deb in $out: ${debs[*]}"
deb=${debs[0]}
arch=$(dpkg --print-architecture)
[ "$(basename "$deb")" = "crmsync_${version}_${arch}.deb" ] ||
    fail "package file $(basename "$deb") is not crmsync_${version}_${arch}.deb"

# Contents: "./usr/bin/crmsync" etc., one path per line, with the mode of each.
contents=$(dpkg-deb -c "$deb")
listing=$(awk '{print $1, $NF}' <<<"$contents")
expect_file() {  # MODE PATH
    grep -qxF -- "$1 ./usr/$2" <<<"$listing" || fail "no $1 /usr/$2 in the package:
$contents"
}
expect_file -rwxr-xr-x bin/crmsync
for f in lib/systemd/system/crmsync.service lib/systemd/system/crmsync@.service \
         lib/sysusers.d/crmsync.conf \
         share/doc/crmsync/copyright share/doc/crmsync/README.md share/doc/crmsync/operations.md \
         share/doc/crmsync/examples/crmsync.yaml \
         $(cd "$source/config" && printf 'share/doc/crmsync/examples/%s ' mappings/*.yaml) \
         $(cd "$source/migrations" && printf 'share/crmsync/migrations/%s ' *.sql); do
    expect_file -rw-r--r-- "$f"
done
# Nothing outside /usr (a package must not ship /etc/crmsync or /var/lib/crmsync: the admin's
# config and the state survive upgrades), and nothing owned by the builder.
outside=$(awk '{print $NF}' <<<"$contents" | grep -v -e '^\./$' -e '^\./usr/' || true)
[ -z "$outside" ] || fail "files outside /usr: $outside"
owners=$(awk '{print $2}' <<<"$contents" | sort -u)
[ "$owners" = root/root ] || fail "files not owned by root/root: $owners"

# Control fields.
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = crmsync ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version), expected $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture: $(field Architecture)"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
[ -n "$(field Section)" ] || fail "no Section"
description=$(field Description)
[ "$(wc -l <<<"$description")" -ge 2 ] || fail "Description has no long text: $description"
depends=$(field Depends)
# Every library the binary links is named by a versioned dependency (dpkg-shlibdeps ran).
for lib in systemd 'libc6 (>=' 'libstdc++6 (>=' 'libsqlite3-0 (>=' 'libssl3 (>=' libsystemd0 \
           libyaml-cpp; do
    grep -qF "$lib" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
# No -dev package, and not Debian's Boost 1.74 (it conflicts with 1.81: STYLE.md).
if grep -qE -e '-dev\b' -e 'boost[a-z_-]*1\.74' <<<"$depends"; then
    fail "Depends names a -dev package or Boost 1.74: $depends"
fi

# Maintainer scripts: present, executable, valid sh.
dpkg-deb -e "$deb" "$out/control"
for script in postinst prerm postrm; do
    [ -x "$out/control/$script" ] || fail "$script is missing or not executable"
    sh -n "$out/control/$script" || fail "$script is not valid sh"
done
grep -q 'systemd-sysusers crmsync.conf' "$out/control/postinst" ||
    fail "postinst does not create the crmsync user"

# The packaged (stripped) binary runs and says its version.
dpkg-deb -x "$deb" "$out/root"
"$out/root/usr/bin/crmsync" --version | grep -qF "$version" ||
    fail "the packaged binary does not report version $version"
echo "deb_package: $(basename "$deb") holds every file, sane control fields, a working binary"
