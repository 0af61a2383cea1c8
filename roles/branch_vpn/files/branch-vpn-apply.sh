#!/usr/bin/env bash
# Installed by retailops.odoo_platform.branch_vpn (roles/branch_vpn/files); do not edit here.
# retailops.odoo_platform.branch_vpn: apply /etc/wireguard/IFACE.conf.
#
#   branch-vpn-apply IFACE up MANIFEST     wg-quick PostUp: pre-shared keys and routes
#   branch-vpn-apply IFACE sync MANIFEST   a changed config on a running interface:
#                                 wg syncconf (sessions of unchanged peers stay
#                                 up), address, MTU, pre-shared keys, routes
#
# MANIFEST (written by the role, file names only) lists the private key
# file, the route metric and the pre-shared key file of each peer.
#
# wg syncconf clears the private key when its input has none, which expires
# every session; so the input is `wg-quick strip` plus the key read from its
# 0600 file here, on the host. Key material goes through a pipe only.
set -euo pipefail
iface=${1:?interface}
mode=${2:?up or sync}
manifest=${3:?manifest}
conf=/etc/wireguard/$iface.conf

field() { awk -v k="$1" '$1 == k { print $2; exit }' "$manifest"; }

set_psks() {
  awk '$1 == "psk" { print $2, $3 }' "$manifest" | while read -r peer file; do
    wg set "$iface" peer "$peer" preshared-key "$file"
  done
}

# Routes for every AllowedIPs prefix with the manifest's metric, unless a
# route of this interface already covers it (the address's own prefix);
# routes of this interface that no peer allows any more are removed.
sync_routes() {
  local metric want have prefix family
  metric=$(field route-metric)
  want=$(wg show "$iface" allowed-ips | cut -f2- | tr -s ' \t' '\n' | grep -v -e '^$' -e '^(none)$' | sort -u || true)
  for prefix in $want; do
    family=-4; [[ $prefix == *:* ]] && family=-6
    if [[ -z $(ip "$family" route show dev "$iface" match "$prefix" 2>/dev/null) ]]; then
      ip "$family" route add "$prefix" dev "$iface" metric "${metric:-0}"
    fi
  done
  for family in -4 -6; do
    have=$(ip "$family" -o route show dev "$iface" | awk '!/proto kernel/ && $1 != "default" && $1 !~ /^fe80/ { print $1 }')
    for prefix in $have; do
      [[ $prefix == */* ]] || { [[ $family == -4 ]] && prefix=$prefix/32 || prefix=$prefix/128; }
      grep -qxF "$prefix" <<<"$want" || ip "$family" route del "$prefix" dev "$iface"
    done
  done
}

sync_interface() {
  wg syncconf "$iface" <(wg-quick strip "$conf"; printf '[Interface]\nPrivateKey = %s\n' "$(cat "$(field private-key)")")
  local want have mtu
  want=$(awk -F' *= *' '$1 == "Address" { gsub(/ /, "", $2); print $2 }' "$conf" | tr ',' '\n' | sort -u)
  have=$(ip -o addr show dev "$iface" | awk '$3 == "inet" || ($3 == "inet6" && $4 !~ /^fe80/) { print $4 }' | sort -u)
  for a in $want; do grep -qxF "$a" <<<"$have" || ip addr add "$a" dev "$iface"; done
  for a in $have; do grep -qxF "$a" <<<"$want" || ip addr del "$a" dev "$iface"; done
  mtu=$(awk -F' *= *' '$1 == "MTU" { print $2; exit }' "$conf")
  [[ -z $mtu ]] || ip link set dev "$iface" mtu "$mtu"
}

case $mode in
  up) set_psks; sync_routes ;;
  sync) sync_interface; set_psks; sync_routes ;;
  *) echo "usage: $0 IFACE up|sync MANIFEST" >&2; exit 2 ;;
esac
