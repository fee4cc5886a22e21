#!/usr/bin/env bash
# The end-to-end benchmark (docs/performance.md): bench fake Salesforce -> client -> bench fake
# Marketo on 127.0.0.1, for crmsync (`crmsync once`, full durability: SQLite commit per batch,
# payload digests) and for the jsforce peer in ../shared/peer, on the same fakes and records.
# Each client run gets fresh fakes; crmsync-bench-measure reports, from wait4's rusage, the
# client process alone (wall, user+sys CPU, peak RSS) and the fakes process separately.
#
#   bench/run.sh [--records N[,N...]] [--throttled [--throttled-records N]] [--no-peer]
#                [--mkto-latency MS] [--build-dir DIR] [--no-build] [--work-dir DIR]
#                [--peer-dir DIR] [--callgrind] [--perf-record] [--smoke]
#
#   --records 100000,1000000   sizes of the unthrottled runs (default 100000)
#   --throttled                also a run against Marketo's real limits (100 calls / 20 s,
#                              10 in flight): the share of the quota ceiling achieved
#   --throttled-records N      records of that run (default 150000: about 80 s at the ceiling)
#   --no-peer                  crmsync only (no Node.js or npm needed)
#   --mkto-latency MS          delay every Sync Leads reply by MS (default 0: unthrottled)
#   --build-dir DIR            where crmsync is built (default build; configured and built
#                              with scripts/setup when missing)
#   --no-build                 use the binaries as they are (ctest's smoke run)
#   --work-dir DIR             logs, state and results (default /tmp/crmsync-bench)
#   --peer-dir DIR             the peer with node_modules; default WORK/peer, copied from
#                              ../shared/peer and `npm install`ed on first use
#   --callgrind                run crmsync under valgrind's callgrind and report its instruction
#                              count (reproducible on a loaded machine; wall and CPU then
#                              measure valgrind, not crmsync); profile in WORK/*/crmsync/
#   --perf-record              run crmsync under `perf record -e cpu-clock` (samples, native
#                              speed: counts SHA-NI and the kernel, which callgrind cannot);
#                              `perf report -i WORK/*/crmsync/perf.data`
#   --smoke                    fail unless every run delivered every record (the ctest check)
#
# Exit status 0 when every run completed and delivered every record.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
records_list=100000
throttled=false
throttled_records=150000
peer=true
latency=0
build_dir=build
build=true
work_dir=/tmp/crmsync-bench
peer_dir=
smoke=false
callgrind=false
perf_record=false
while [ $# -gt 0 ]; do
    case "$1" in
        --records) records_list=$2; shift ;;
        --throttled) throttled=true ;;
        --throttled-records) throttled_records=$2; shift ;;
        --no-peer) peer=false ;;
        --mkto-latency) latency=$2; shift ;;
        --build-dir) build_dir=$2; shift ;;
        --no-build) build=false ;;
        --work-dir) work_dir=$2; shift ;;
        --peer-dir) peer_dir=$2; shift ;;
        --smoke) smoke=true ;;
        --callgrind) callgrind=true ;;
        --perf-record) perf_record=true ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
case "$build_dir" in /*) ;; *) build_dir="$repo/$build_dir" ;; esac
mkdir -p "$work_dir"
work_dir=$(cd "$work_dir" && pwd)
peer_dir=${peer_dir:-$work_dir/peer}

crmsync="$build_dir/crmsync"
fakes="$build_dir/bench/crmsync-bench-fakes"
measure="$build_dir/bench/crmsync-bench-measure"

# ---- build ------------------------------------------------------------------------------------
if $build; then
    if [ ! -f "$build_dir/build.ninja" ]; then
        (cd "$repo" && CRMSYNC_BUILD_DIR="$build_dir" scripts/setup)
    else
        cmake --build "$build_dir" --target crmsync crmsync-bench-fakes crmsync-bench-measure \
            crmsync-mapping-bench >/dev/null
    fi
fi
for b in "$crmsync" "$fakes" "$measure"; do
    [ -x "$b" ] || { echo "run.sh: $b is missing (build it, or drop --no-build)" >&2; exit 1; }
done

if $peer && [ ! -d "$peer_dir/node_modules/jsforce" ]; then
    # The peer's README: npm install beside sf2mkto.js, never inside the repo.
    command -v npm >/dev/null || { echo "run.sh: the peer needs node and npm (or use --no-peer)" >&2; exit 1; }
    mkdir -p "$peer_dir"
    cp "$repo/../shared/peer/package.json" "$repo/../shared/peer/sf2mkto.js" "$peer_dir/"
    chmod u+w "$peer_dir"/*
    (cd "$peer_dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi

# ---- helpers ----------------------------------------------------------------------------------
# jget FILE KEY: a number or string of a flat JSON object, empty when absent.
jget() { sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p" "$1" | head -1; }

fakes_pid=
cleanup() {
    if [ -n "$fakes_pid" ]; then
        kill -TERM "$fakes_pid" 2>/dev/null || true
        wait "$fakes_pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT

# start_fakes DIR RECORDS [FAKE ARGS...]: fresh fakes under measurement; sets sf_url, mkto_url.
start_fakes() {
    local dir=$1 n=$2
    shift 2
    rm -f "$dir/fakes.ready"
    "$measure" --out "$dir/fakes.rusage" -- "$fakes" --records "$n" --ready-file "$dir/fakes.ready" \
        "$@" >"$dir/fakes.log" 2>&1 &
    fakes_pid=$!
    for _ in $(seq 300); do
        [ -s "$dir/fakes.ready" ] && break
        kill -0 "$fakes_pid" 2>/dev/null || { cat "$dir/fakes.log" >&2; exit 1; }
        sleep 0.1
    done
    [ -s "$dir/fakes.ready" ] || { echo "run.sh: the fakes did not start" >&2; exit 1; }
    sf_url=$(jget "$dir/fakes.ready" salesforce)
    mkto_url=$(jget "$dir/fakes.ready" marketo)
}

stop_fakes() {
    local dir=$1
    curl -sf "$sf_url/bench/stats" >"$dir/sf.stats"
    curl -sf "$mkto_url/bench/stats" >"$dir/mkto.stats"
    kill -TERM "$fakes_pid"
    wait "$fakes_pid" || { echo "run.sh: the fakes failed, see $dir/fakes.log" >&2; exit 1; }
    fakes_pid=
}

# run_client NAME RECORDS LABEL [FAKE ARGS...]: one client run on fresh fakes, into WORK/LABEL/NAME.
run_client() {
    local name=$1 n=$2 label=$3
    shift 3
    local dir="$work_dir/$label/$name"
    rm -rf "$dir"
    mkdir -p "$dir/state"
    start_fakes "$dir" "$n" "$@"
    local status=0
    if [ "$name" = crmsync ]; then
        local wrapper=()
        $callgrind && wrapper=(valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out")
        $perf_record && wrapper=(perf record -q -e cpu-clock -F 4000 ${CRMSYNC_BENCH_PERF_ARGS:-} -o "$dir/perf.data" --)
        CRMSYNC_BENCH_STATE="$dir/state" CRMSYNC_BENCH_SF_URL="$sf_url" \
            CRMSYNC_BENCH_MKTO_URL="$mkto_url" CRMSYNC_BENCH_SF_SECRET=bench-sf-secret \
            CRMSYNC_BENCH_MKTO_SECRET=bench-mkto-secret CRMSYNC_BENCH_DAILY_CALLS=50000 \
            CRMSYNC_BENCH_CALLS_PER_20S="$calls_per_20s" \
            "$measure" --out "$dir/client.rusage" -- \
            "${wrapper[@]}" "$crmsync" -c "$repo/bench/config/crmsync.yaml" once >"$dir/client.log" 2>&1 || status=$?
    else
        (cd "$peer_dir" && SF_LOGIN_URL="$sf_url" MKTO_BASE="$mkto_url" \
            SF_USERNAME=bench@example.com SF_PASSWORD=bench-password \
            SF_CLIENT_ID=bench-sf-client SF_CLIENT_SECRET=bench-sf-secret \
            MKTO_CLIENT_ID=bench-mkto-client MKTO_CLIENT_SECRET=bench-mkto-secret \
            SF_VERSION=61.0 WATERMARK_FILE="$dir/state/peer-wm.json" \
            "$measure" --out "$dir/client.rusage" -- node sf2mkto.js >"$dir/client.log" 2>&1) || status=$?
    fi
    stop_fakes "$dir"
    echo "$status" >"$dir/status"
    local delivered
    delivered=$(( $(jget "$dir/mkto.stats" created) + $(jget "$dir/mkto.stats" updated) ))
    echo "$delivered" >"$dir/delivered"
    if [ "$status" -ne 0 ] || [ "$delivered" -ne "$n" ]; then
        echo "run.sh: $name delivered $delivered of $n records (exit $status), see $dir/client.log" >&2
        return 1
    fi
}

# ---- machine ----------------------------------------------------------------------------------
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)
compiler=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)
{
    echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
        "$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), kernel $(uname -r)"
    echo "build: ${build_type:-?}, $(${compiler:-c++} --version 2>/dev/null | head -1)"
    $peer && echo "peer: node $(node --version), jsforce $(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$peer_dir/node_modules/jsforce/package.json" | head -1)"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$work_dir/machine.txt"

# ---- runs -------------------------------------------------------------------------------------
failed=0
clients=(crmsync)
$peer && clients+=(peer)

# row LABEL FORMAT VALUE...: one table line, one column per client and the peer/crmsync ratio.
report() {
    local label=$1 n=$2
    local out="$work_dir/$label/results.txt"
    : >"$out"
    for c in "${clients[@]}"; do
        local d="$work_dir/$label/$c"
        local wall cpu rss fcpu calls
        wall=$(jget "$d/client.rusage" wall_s)
        cpu=$(jget "$d/client.rusage" cpu_s)
        rss=$(jget "$d/client.rusage" max_rss_kb)
        fcpu=$(jget "$d/fakes.rusage" cpu_s)
        calls=$(jget "$d/mkto.stats" sync_calls)
        echo "$c $wall $cpu $rss $fcpu $(cat "$d/delivered") $calls $(jget "$d/client.rusage" user_s) $(jget "$d/client.rusage" sys_s)" >>"$out"
    done
    awk -v n="$n" -v label="$label" '
        { name[NR] = $1; wall[NR] = $2; cpu[NR] = $3; rss[NR] = $4; fcpu[NR] = $5;
          got[NR] = $6; calls[NR] = $7; user[NR] = $8; sys[NR] = $9 }
        function row(title, a, b, fmt, better_low) {
            line = sprintf("| %-34s | " fmt " |", title, a)
            if (NR > 1) {
                line = line sprintf(" " fmt " |", b)
                if (a > 0) line = line sprintf(" %7.2fx |", b / a); else line = line "     n/a |"
            }
            print line
        }
        END {
            printf "\n%s: %d records\n", label, n
            if (NR > 1) { print "| | crmsync | peer | peer / crmsync |"; print "|---|---:|---:|---:|" }
            else { print "| | crmsync |"; print "|---|---:|" }
            row("records delivered", got[1], got[2], "%10d")
            row("wall s", wall[1], wall[2], "%10.2f")
            row("records/s (wall)", got[1] / wall[1], (NR > 1 && wall[2] > 0) ? got[2] / wall[2] : 0, "%10.0f")
            row("CPU s (user+sys)", cpu[1], cpu[2], "%10.2f")
            row("  user s", user[1], user[2], "%10.2f")
            row("  sys s", sys[1], sys[2], "%10.2f")
            row("CPU s per 100k records", cpu[1] * 100000 / n, cpu[2] * 100000 / n, "%10.3f")
            row("peak RSS MB", rss[1] / 1024, rss[2] / 1024, "%10.1f")
            row("fakes CPU s (both servers)", fcpu[1], fcpu[2], "%10.2f")
            row("Marketo calls", calls[1], calls[2], "%10d")
        }' "$out" | tee "$work_dir/$label/table.md"
}

# crmsync's client-side call window: out of the way when the fake does not limit, Marketo's
# real 100 calls / 20 s when it does.
calls_per_20s=1000000
IFS=, read -r -a sizes <<<"$records_list"
for n in "${sizes[@]}"; do
    label="unthrottled-$n"
    for c in "${clients[@]}"; do
        echo "== $label: $c" >&2
        run_client "$c" "$n" "$label" --mkto-latency "$latency" || failed=1
    done
    report "$label" "$n"
    if $callgrind; then
        ir=$(sed -n 's/^summary: //p' "$work_dir/$label/crmsync/callgrind.out")
        echo "crmsync instructions (callgrind): $ir total, $(( ir / n )) per record" |
            tee -a "$work_dir/$label/table.md"
    fi
done

if $throttled; then
    label="throttled-$throttled_records"
    calls_per_20s=100
    for c in "${clients[@]}"; do
        echo "== $label: $c (Marketo limits on)" >&2
        # The peer's naive retry (five tries, 2 s apart, on 606) can give up under the real
        # limits: that is a finding to report, not a harness failure.
        run_client "$c" "$throttled_records" "$label" --mkto-limits --mkto-latency "$latency" ||
            [ "$c" = peer ] || failed=1
    done
    report "$label" "$throttled_records"
    echo
    echo "quota ceiling (100 calls / 20 s x 300 records = 1500 records/s), over whole 20 s windows"
    echo "from each client's first Sync Leads call:"
    echo "| client | window s | records in window | ceiling | share of ceiling | 606 | 615 |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    for c in "${clients[@]}"; do
        s="$work_dir/$label/$c/mkto.stats"
        awk -v c="$c" -v span="$(jget "$s" span_ms)" -v got="$(jget "$s" span_records)" \
            -v cap="$(jget "$s" span_ceiling_records)" -v e606="$(jget "$s" error_606)" \
            -v e615="$(jget "$s" error_615)" 'BEGIN {
                share = "n/a"
                if (cap > 0) share = sprintf("%.1f%%", 100 * got / cap)
                printf "| %s | %d | %d | %d | %s | %d | %d |\n", c, span / 1000, got, cap,
                    share, e606, e615 }'
    done | tee "$work_dir/$label/quota.md"
fi

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$work_dir/machine.txt"
if [ "$failed" -ne 0 ]; then
    echo "run.sh: some runs did not deliver every record (see above)" >&2
    exit 1
fi
$smoke && echo "bench smoke: every run delivered every record"
exit 0
