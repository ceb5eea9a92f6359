#!/usr/bin/env bash
# The published package works (npm run test:pack; CI runs it after npm test): `npm pack`, install the
# tarball into an empty directory (dependencies from the npm registry, better-sqlite3 built from
# source as on a fresh machine), then use tuneloop from there, not from the clone:
#   npx tuneloop doctor; tuneloop call system_snapshot (the systeminformation probe in tools/);
#   build_scheduler (templates and include/ from schedulers/, the loader from tools/sched's Makefile);
#   triton_verify (the Python harness and the built-in cases in tools/triton);
#   nccl_params and diagnose_logs (the knowledge files).
# Slow (better-sqlite3 and re2 build from source: minutes on 2 cores): every step has a timeout, the whole is bounded by
# PACK_TEST_TIMEOUT_S (default 2400).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tuneloop-pack.XXXXXX")
trap 'rm -rf "$work"' EXIT
deadline=$(( $(date +%s) + ${PACK_TEST_TIMEOUT_S:-2400} ))
left() { echo $(( deadline - $(date +%s) > 10 ? deadline - $(date +%s) : 10 )); }
step() { echo "== pack-install: $*"; }
fail() { echo "pack-install: FAILED: $*" >&2; exit 1; }

step "npm pack"
tarball="$work/$(npm pack --silent --pack-destination "$work" | tail -1)"
tar -tzf "$tarball" > "$work/contents"
for f in package/dist/cli.js package/tools/inventory/probe.mjs package/tools/sched/Makefile package/tools/triton/harness.py \
         package/knowledge/nccl/params.json package/knowledge/incidents/signatures.json package/schedulers/catalog.json; do
  grep -qx "$f" "$work/contents" || fail "$f is not in the tarball"
done
if grep -E '^package/(test|bench|src|node_modules)/' "$work/contents" >/dev/null; then fail "the tarball carries test/, bench/, src/ or node_modules/"; fi
echo "$(wc -l < "$work/contents") files, $(du -k "$tarball" | cut -f1) KiB"

step "npm install the tarball into an empty directory"
mkdir "$work/app"
cd "$work/app"
npm init -y >/dev/null
nodedir=""
if [ -f /usr/include/node/node.h ]; then nodedir=/usr; fi
started=$(date +%s)
timeout "$(left)" env npm_config_nodedir=$nodedir npm_config_build_from_source=better-sqlite3 \
  npm install --no-audit --no-fund --loglevel=error "$tarball"
echo "installed in $(( $(date +%s) - started )) s"
[ -e node_modules/tuneloop/dist/cli.js ] || fail "node_modules/tuneloop/dist/cli.js is missing"

export TUNELOOP_HOME="$work/home" TUNELOOP_PYTHON="${TUNELOOP_PYTHON:-/usr/bin/python3}"
check() { # check NAME JS-EXPRESSION-ON-r < json
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);if(!('"$2"')){console.error(s.slice(0,2000));process.exit(1)}})' \
    || fail "$1"
  echo "ok: $1"
}

step "npx tuneloop doctor"
timeout 120 npx --offline --no -- tuneloop doctor --json > "$work/doctor.json"
check "doctor answers for every toolset" '["observe","sched","nccl","triton","history"].every(t=>r.some(row=>row.toolset===t))' < "$work/doctor.json"

step "tuneloop call system_snapshot"
timeout 120 npx --offline --no -- tuneloop call system_snapshot '{"top": 2, "sample_ms": 100}' > "$work/snapshot.json"
check "system_snapshot with the systeminformation inventory" 'r.cpu.threads>0 && r.inventory && /^systeminformation 5/.test(r.inventory.library) && r.inventory.processes_started>0' < "$work/snapshot.json"

step "knowledge files: nccl_params, diagnose_logs"
timeout 120 npx --offline --no -- tuneloop call nccl_params '{"names": ["NCCL_ALGO"]}' > "$work/params.json"
check "nccl_params reads knowledge/nccl" 'JSON.stringify(r).includes("NCCL_ALGO")' < "$work/params.json"
timeout 120 npx --offline --no -- tuneloop call diagnose_logs \
  '{"text": "NVRM: Xid (PCI:0000:18:00): 79, pid=1234, GPU has fallen off the bus."}' > "$work/diagnose.json"
check "diagnose_logs matches a signature from knowledge/incidents" 'JSON.stringify(r).includes("79")' < "$work/diagnose.json"

step "build_scheduler (templates, include/, tools/sched loader) from the installed package"
timeout "$(left)" npx --offline --no -- tuneloop call build_scheduler '{"name": "packcheck", "template": "vtime", "wait_s": 50}' --timeout 600 > "$work/build.json" || true
check "build_scheduler compiles the template and builds the loader" '["verified","compiled_only"].includes(r.result?.verdict)' < "$work/build.json"

step "triton_verify (tools/triton harness and cases) from the installed package"
candidate="$work/app/node_modules/tuneloop/tools/triton/cases/softmax/candidates/torch_softmax.py"
timeout "$(left)" npx --offline --no -- tuneloop call triton_verify "{\"case\": \"softmax\", \"candidate_path\": \"$candidate\", \"wait_s\": 50}" --timeout 600 > "$work/verify.json" || true
check "triton_verify runs the harness on a built-in case" '/^correct/.test(r.result?.verdict)' < "$work/verify.json"

cd "$repo"
step "all checks passed"
