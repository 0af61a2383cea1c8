#!/usr/bin/env bash
# Make sure a Docker engine answers: use the running one, else install
# Debian's docker.io, start dockerd and wait until it answers.
# shellcheck source=rig/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

# Every systemd container of the scenarios and the pilot runs as root and
# takes inotify instances from root's per-user limit (128 by default). Once
# it is used up, wireguard-go exits with "Failed to listen on uapi socket:
# too many open files" and wg-quick fails to start. Raise it, never lower it.
inotify_instances=/proc/sys/fs/inotify/max_user_instances
if [[ -w $inotify_instances ]] && (($(<"$inotify_instances") < RIG_INOTIFY_INSTANCES)); then
  log "raising fs.inotify.max_user_instances from $(<"$inotify_instances") to $RIG_INOTIFY_INSTANCES"
  echo "$RIG_INOTIFY_INSTANCES" >"$inotify_instances"
fi

if engine_answers; then
  log "docker engine is running ($(docker version --format '{{.Server.Version}}'))"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  [[ $(id -u) -eq 0 ]] || die "dockerd is not installed and this is not root: install docker.io first"
  log "installing Debian's docker.io"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    docker.io containerd runc iptables ca-certificates >/dev/null
fi

if [[ -d /run/systemd/system ]] && systemctl start docker 2>/dev/null; then
  log "started docker.service"
else
  log "starting dockerd in the background (log: $RIG_CACHE/dockerd.log)"
  nohup dockerd >"$RIG_CACHE/dockerd.log" 2>&1 &
fi

for _ in $(seq 1 60); do
  if engine_answers; then
    log "docker engine is up ($(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 1
done
tail -n 20 "$RIG_CACHE/dockerd.log" >&2 2>/dev/null || true
die "docker engine did not answer within 60 s"
