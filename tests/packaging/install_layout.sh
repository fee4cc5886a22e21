#!/usr/bin/env bash
# `cmake --install` into a temporary prefix puts every file the units and docs name in place,
# and the installed binary runs.
# Usage: install_layout.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
source=$1
build=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
missing=0
for f in bin/crmsync \
         lib/systemd/system/crmsync.service lib/systemd/system/crmsync@.service \
         lib/sysusers.d/crmsync.conf \
         share/doc/crmsync/README.md share/doc/crmsync/operations.md share/doc/crmsync/copyright \
         share/doc/crmsync/examples/crmsync.yaml \
         $(cd "$source/config" && printf 'share/doc/crmsync/examples/%s ' mappings/*.yaml) \
         $(cd "$source/migrations" && printf 'share/crmsync/migrations/%s ' *.sql); do
    if [ ! -f "$prefix/$f" ]; then
        echo "install_layout: $f is not installed" >&2
        missing=1
    fi
done
[ "$missing" -eq 0 ]
"$prefix/bin/crmsync" --version >/dev/null
echo "install_layout: every file installed"
