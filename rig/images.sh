#!/usr/bin/env bash
# Build the rig's images with no registry, and start its apt cache.
#
#   base     debootstrap Debian 12 (minbase), then `docker import`
#   aptcache apt-cacher-ng on the base, run as a container publishing 3142
#   systemd  systemd, python3, sudo and iproute2 on the base: the test host
#   busybox  a tiny image, also saved to an archive for side-loading tests
#   odoo-double  the Odoo 18 protocol double (rig/odoo_double) on the base,
#            with the official odoo image's paths, ports and entrypoint
#   azurite  Azurite (Azure Blob emulator) from npm on the systemd image:
#            the Azure Blob host of the postgresql_ha scenario and the pilot
#
# Each image carries a label with the digest of its recipe and is rebuilt
# only when it is missing or the recipe changed.
# shellcheck source=rig/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BASE_IMAGE="$RIG_IMAGE_PREFIX-base:$RIG_SUITE"
APTCACHE_IMAGE="$RIG_IMAGE_PREFIX-aptcache:$RIG_SUITE"
SYSTEMD_IMAGE="$RIG_IMAGE_PREFIX-systemd:$RIG_SUITE"
BUSYBOX_IMAGE="$RIG_IMAGE_PREFIX-busybox:latest"
BUSYBOX_ARCHIVE="$RIG_CACHE/images/rig-busybox.tar"
ODOO_DOUBLE_IMAGE="$RIG_IMAGE_PREFIX-odoo-double:18.0"
AZURITE_IMAGE="$RIG_IMAGE_PREFIX-azurite:$RIG_SUITE"

build_base() {
  local recipe mirror security tarball rootfs
  # The recipe is this function's own text and the suite: editing other
  # parts of this script does not re-run debootstrap.
  recipe=$(printf '%s\n%s\n' "$RIG_SUITE" "$(declare -f build_base)" | sha256sum | cut -c1-16)
  [[ "$(rig_image_recipe "$BASE_IMAGE")" == "$recipe" ]] && { log "$BASE_IMAGE is current"; return; }
  tarball="$RIG_CACHE/images/base-$RIG_SUITE-$recipe.tar"
  if [[ ! -s "$tarball" ]]; then
    command -v debootstrap >/dev/null 2>&1 || {
      log "installing debootstrap"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    }
    mirror=$(rig_debian_mirror "$RIG_SUITE")
    security=$(rig_debian_mirror "$RIG_SUITE-security")
    rootfs=$(mktemp -d "$RIG_CACHE/rootfs.XXXXXX")
    trap 'rm -rf "$rootfs"' EXIT
    log "debootstrap $RIG_SUITE from $mirror (a few minutes, once)"
    debootstrap --variant=minbase --include=ca-certificates "$RIG_SUITE" "$rootfs" "$mirror" \
      >"$RIG_CACHE/debootstrap.log" 2>&1 || { tail -n 30 "$RIG_CACHE/debootstrap.log" >&2; die "debootstrap failed"; }
    cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror $RIG_SUITE main
deb $mirror $RIG_SUITE-updates main
deb $security $RIG_SUITE-security main
SOURCES
    # Keep images small: no docs, no man pages, no package caches.
    printf 'path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\npath-exclude /usr/share/man/*\n' \
      >"$rootfs/etc/dpkg/dpkg.cfg.d/01-rig-nodoc"
    printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$rootfs/etc/apt/apt.conf.d/01-rig-norecommends"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    mkdir -p "$RIG_CACHE/images"
    rm -f "$RIG_CACHE"/images/base-"$RIG_SUITE"-*.tar
    tar -C "$rootfs" --numeric-owner -cf "$tarball.partial" .
    mv "$tarball.partial" "$tarball"
    rm -rf "$rootfs"
    trap - EXIT
  fi
  log "importing $BASE_IMAGE"
  docker import --change 'CMD ["/bin/bash"]' --change "LABEL org.retailops.rig.recipe=$recipe" \
    "$tarball" "$BASE_IMAGE" >/dev/null
}

# build_image IMAGE DIR [extra docker build args...]: FROM the base image,
# or from RIG_PARENT_IMAGE when set (its recipe is then part of this one's).
build_image() {
  local image=$1 dir=$2 parent=${RIG_PARENT_IMAGE:-$BASE_IMAGE} recipe
  shift 2
  recipe=$(rig_recipe_hash "$dir"/* <(rig_image_recipe "$parent"))
  [[ "$(rig_image_recipe "$image")" == "$recipe" ]] && { log "$image is current"; return; }
  log "building $image"
  docker build -q --label "org.retailops.rig.recipe=$recipe" --build-arg "BASE_IMAGE=$parent" \
    "$@" -t "$image" "$dir" >/dev/null
}

# stage_azurite: its recipe and the machine's CA bundle (see its Dockerfile).
stage_azurite() {
  local ctx="$RIG_CACHE/images/azurite-context"
  rm -rf "$ctx"
  mkdir -p "$ctx"
  cp "$RIG_DIR"/images/azurite/* "$ctx"/
  cp /etc/ssl/certs/ca-certificates.crt "$ctx"/
  printf '%s\n' "$ctx"
}

# stage_odoo_double: a build context with the recipe and a reproducible tar
# of the double's source, so the recipe digest changes when the code does.
stage_odoo_double() {
  local ctx="$RIG_CACHE/images/odoo-double-context"
  rm -rf "$ctx"
  mkdir -p "$ctx"
  cp "$RIG_DIR"/images/odoo-double/* "$ctx"/
  tar -C "$RIG_DIR" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
    --exclude=__pycache__ -cf "$ctx/odoo_double.tar" odoo_double
  printf '%s\n' "$ctx"
}

# The running apt cache is kept when it runs the current image on this
# RIG_CACHE's directory: a container left by a run with another RIG_CACHE
# (Docker restarts it with the engine) may store into a directory that is
# gone, and then answers every request with 500.
start_aptcache() {
  local running want
  want="true $APTCACHE_IMAGE $(docker image inspect --format '{{.Id}}' "$APTCACHE_IMAGE") $RIG_CACHE/apt-cacher-ng"
  running=$(docker inspect --format \
    '{{.State.Running}} {{.Config.Image}} {{.Image}}{{range .Mounts}} {{.Source}}{{end}}' \
    "$RIG_APTCACHE_NAME" 2>/dev/null || true)
  if [[ "$running" == "$want" && -d "$RIG_CACHE/apt-cacher-ng" ]]; then
    log "apt cache is running"
  else
    docker rm -f "$RIG_APTCACHE_NAME" >/dev/null 2>&1 || true
    mkdir -p "$RIG_CACHE/apt-cacher-ng"
    docker run -d --name "$RIG_APTCACHE_NAME" --restart unless-stopped \
      -p "$RIG_APTCACHE_PORT:3142" -v "$RIG_CACHE/apt-cacher-ng:/var/cache/apt-cacher-ng" \
      "$APTCACHE_IMAGE" >/dev/null
    log "apt cache started"
  fi
  for _ in $(seq 1 30); do
    timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$RIG_APTCACHE_PORT" 2>/dev/null && return
    sleep 1
  done
  docker logs "$RIG_APTCACHE_NAME" >&2 || true
  die "apt cache did not answer on port $RIG_APTCACHE_PORT"
}

build_base
build_image "$APTCACHE_IMAGE" "$RIG_DIR/images/aptcache"
start_aptcache
proxy="http://$(rig_host_gateway):$RIG_APTCACHE_PORT"
build_image "$SYSTEMD_IMAGE" "$RIG_DIR/images/systemd" --build-arg "APT_PROXY=$proxy"
build_image "$BUSYBOX_IMAGE" "$RIG_DIR/images/busybox" --build-arg "APT_PROXY=$proxy"
build_image "$ODOO_DOUBLE_IMAGE" "$(stage_odoo_double)" --build-arg "APT_PROXY=$proxy"
RIG_PARENT_IMAGE=$SYSTEMD_IMAGE build_image "$AZURITE_IMAGE" "$(stage_azurite)" --build-arg "APT_PROXY=$proxy"
if [[ ! -s "$BUSYBOX_ARCHIVE" || "$BUSYBOX_ARCHIVE" -ot "$RIG_DIR/images/busybox/Dockerfile" ]] \
   || [[ "$(cat "$BUSYBOX_ARCHIVE.id" 2>/dev/null)" != "$(docker image inspect --format '{{.Id}}' "$BUSYBOX_IMAGE")" ]]; then
  mkdir -p "$(dirname "$BUSYBOX_ARCHIVE")"
  docker save -o "$BUSYBOX_ARCHIVE" "$BUSYBOX_IMAGE"
  docker image inspect --format '{{.Id}}' "$BUSYBOX_IMAGE" >"$BUSYBOX_ARCHIVE.id"
  log "saved $BUSYBOX_IMAGE to $BUSYBOX_ARCHIVE"
fi
log "images ready: $SYSTEMD_IMAGE, $BUSYBOX_IMAGE (archive $BUSYBOX_ARCHIVE), $ODOO_DOUBLE_IMAGE, $AZURITE_IMAGE"
