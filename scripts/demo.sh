#!/usr/bin/env bash
# The calico-ts tour: a three-host data centre in network namespaces on this machine,
# workloads added through the CNI plugin, the connectivity matrix before and after a
# policy applied with calicoctl, a traceroute across hosts, then everything removed.
#
#   npm ci && npm run build && sudo bash scripts/demo.sh     (KEEP=1 leaves the lab up)
#
# Nothing here touches the machine's own interfaces: every address lives inside
# namespaces the lab creates, and `calico-lab down` removes them all.
set -euo pipefail
cd "$(dirname "$0")/.."
export CALICO_LAB_DIR="${CALICO_LAB_DIR:-/var/run/calico-lab-demo}"
LAB=bin/calico-lab
CTL=bin/calicoctl

if [ "$(id -u)" != 0 ]; then echo "demo.sh: run as root (network namespaces)" >&2; exit 1; fi
for f in calico-lab.mjs calico-node.mjs calico.mjs calico-ipam.mjs calicoctl.cjs; do
  [ -f "dist/$f" ] || { echo "demo.sh: dist/$f missing: run npm ci && npm run build" >&2; exit 1; }
done
if [ -f "$CALICO_LAB_DIR/state.json" ]; then "$LAB" down; fi
[ "${KEEP:-}" = 1 ] || trap '"$LAB" down' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
json() { "$LAB" status -o json | node -e "const s=JSON.parse(require('fs').readFileSync(0,'utf8'));$1"; }

step "1. Up: a router, 3 hosts each running calico-node, frontend/backend/db workloads via CNI"
"$LAB" up --hosts 3 --workloads 3
"$LAB" workload add --host host2 --namespace dev --name tester --labels app=tester --ports http=80/tcp
"$LAB" status
eval "$(json 'for (const [k, v] of Object.entries(s.env)) console.log(`export ${k}=${JSON.stringify(v)}`)')"

step "2. Connectivity before any policy (TCP port 80, real connections between every pair)"
"$LAB" probe

step "3. Policy: frontends → backends → databases only (examples/lab/policy.yaml)"
sed -n '/^apiVersion/,$p' examples/lab/policy.yaml
"$CTL" apply -f examples/lab/policy.yaml
"$CTL" get networkpolicy -n demo

# The agents program the policy within moments; wait until a denied flow really fails.
FRONT=demo/frontend-1
DB_IP=$(json 'console.log(s.workloads.find((w) => w.name === "db-1").address)')
for _ in $(seq 1 30); do
  "$LAB" exec "$FRONT" -- timeout 1 bash -c "exec 3<>/dev/tcp/$DB_IP/80" 2>/dev/null || break
  sleep 1
done

step "4. Connectivity with the policy enforced by the hosts' nftables"
"$LAB" probe
echo
echo "The policy engine's own prediction for the same flows:"
"$CTL" policy matrix --protocol TCP --port 80 -n demo

step "5. traceroute from demo/frontend-1 (host1) to demo/frontend-2 (host2)"
TO=$(json 'console.log(s.workloads.find((w) => w.name === "frontend-2").address)')
"$LAB" exec "$FRONT" -- traceroute -n -w 1 -q 1 "$TO"

step "6. Down"
if [ "${KEEP:-}" = 1 ]; then
  echo "KEEP=1: lab left up in $CALICO_LAB_DIR; remove it with: CALICO_LAB_DIR=$CALICO_LAB_DIR $LAB down"
fi
