#!/usr/bin/env bash
# Installs every Debian package the tests, benchmarks and the lab need, skipping
# what is already present. Idempotent; safe to run on every CI run.
set -euo pipefail

packages=(
  iproute2 nftables iptables ipset iputils-ping traceroute iperf3 tcpdump conntrack
  bird2 gobgpd frr exabgp etcd-server etcd-client containernetworking-plugins
  procps psmisc hyperfine
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-system-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi

echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
