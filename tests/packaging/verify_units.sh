#!/usr/bin/env bash
# Runs `systemd-analyze verify` on packaging/crmsync.service and crmsync@.service.
# Usage: verify_units.sh PACKAGING_DIR CRMSYNC_BINARY
#
# verify refuses a unit whose ExecStart/ExecStartPre binary does not exist, and on a build
# machine /usr/bin/crmsync does not (systemd 252's --root does not redirect that check, and
# installing into / would need root and leave files behind). So the units are verified as
# copies in a temporary directory with /usr/bin/crmsync replaced by the freshly built binary:
# every other line is the shipped one. verify exits 0 on unknown keys or bad values (it only
# warns), so any output at all fails the test.
set -euo pipefail
packaging=$1
binary=$2
if ! command -v systemd-analyze >/dev/null; then
    echo "verify_units: systemd-analyze is missing (scripts/setup installs the systemd package)" >&2
    exit 1
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for unit in crmsync.service crmsync@.service; do
    sed "s|/usr/bin/crmsync|$binary|g" "$packaging/$unit" >"$dir/$unit"
done
cd "$dir"
# A template cannot be verified itself, only an instance of it.
out=$(systemd-analyze verify crmsync.service crmsync@example_pair.service 2>&1) || {
    echo "$out" >&2
    exit 1
}
if [ -n "$out" ]; then
    echo "verify_units: systemd-analyze verify warned:" >&2
    echo "$out" >&2
    exit 1
fi
echo "verify_units: crmsync.service and crmsync@.service verified"
