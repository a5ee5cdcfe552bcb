#!/usr/bin/env bash
# make stress: every reliability campaign at full size, in two lanes (one per core), each
# bounded and stopping by itself; at the end one summary line per campaign and database
# (trials, failures, data lost), and a non-zero exit if any campaign failed.
# Usage: scripts/stress.sh [path/to/python]   (the logs stay in .stress/)
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
python=${1:-$here/.venv/bin/python}
logs=$here/.stress
rm -rf "$logs" && mkdir -p "$logs"
cd "$here"

# name | environment | test file   (the full sizes the issue asks for)
campaigns=(
  "hub-kill|ONEWINDOW_CRASH_EVENTS=10000 ONEWINDOW_CRASH_CUTS=5|tests/test_sync_crash.py"
  "concurrency|ONEWINDOW_CONCURRENT_ACTIONS=5000|tests/test_concurrency.py"
  "bundle-tamper|ONEWINDOW_TAMPER_EVENTS=10000 ONEWINDOW_TAMPER_FLIPS=1000 ONEWINDOW_TAMPER_CUTS=200|tests/test_bundle_tampering.py"
  "intake-kill|ONEWINDOW_INTAKE_APPLICATIONS=5000 ONEWINDOW_INTAKE_KILLS=50|tests/test_intake_crash.py"
  "link-cut|ONEWINDOW_CUT_EVENTS=10000 ONEWINDOW_CUT_COUNT=50|tests/test_link_cuts.py"
  "import-kill|ONEWINDOW_IMPORT_EVENTS=10000 ONEWINDOW_IMPORT_KILLS=20|tests/test_import_crash.py"
  "db-flips|ONEWINDOW_FLIP_EVENTS=200|tests/test_db_flips.py"
  "hub-openapi|ONEWINDOW_SCHEMA_EXAMPLES=60|tests/test_hub_openapi.py"
  "adversarial-text|ONEWINDOW_FUZZ_EXAMPLES=200|tests/test_adversarial.py"
  "two-replicas|ONEWINDOW_REPLICA_EXAMPLES=30|tests/test_replicas.py"
  "rights-matrix||tests/test_rights_matrix.py"
  "personal-data||tests/test_data_at_rest.py"
)

run() {  # one campaign: its pytest output to its log; the exit code to a file beside it
    local name=$1 env=$2 file=$3
    [ -e "$file" ] || { echo "stress $name: test file $file missing" >"$logs/$name.log"; echo 1 >"$logs/$name.rc"; return; }
    local started=$SECONDS
    env $env "$python" -m pytest -q -s -p no:randomly "$file" >"$logs/$name.log" 2>&1
    echo $? >"$logs/$name.rc"
    echo "$name: $((SECONDS - started)) s" >>"$logs/times"
}

lane() {  # every second campaign, from $1
    local i
    for ((i = $1; i < ${#campaigns[@]}; i += 2)); do
        IFS='|' read -r name env file <<<"${campaigns[$i]}"
        run "$name" "$env" "$file"
    done
}

started=$SECONDS
lane 0 & lane 1 & wait
status=0
echo
echo "── make stress: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s ──"
for entry in "${campaigns[@]}"; do
    IFS='|' read -r name _ _ <<<"$entry"
    lines=$(grep -h '^stress ' "$logs/$name.log" 2>/dev/null)
    if [ "$(cat "$logs/$name.rc")" != 0 ] || [ -z "$lines" ]; then
        status=1
        echo "stress $name: FAILED (see .stress/$name.log)"
        tail -5 "$logs/$name.log" | sed 's/^/    /'
    fi
    [ -n "$lines" ] && echo "$lines"
done
exit $status
