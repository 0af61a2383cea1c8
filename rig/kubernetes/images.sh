#!/usr/bin/env bash
# Save the project's images from the Docker engine into archives that every
# node's containerd imports at bring-up (ctr reads the `docker save` format):
# K8S_RIG_IMAGES, by default the Odoo double built by rig/images.sh.
# An archive is written again only when its image changed (by image ID);
# archives of images no longer listed are removed.
#
#   K8S_RIG_IMAGES="retailops/rig-odoo-double:18.0 retailops/rig-odoo:18.0" bash rig/kubernetes/images.sh
# shellcheck source=rig/kubernetes/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mkdir -p "$K8S_PROJECT_IMAGES"
wanted=" "
for image in $K8S_RIG_IMAGES; do
  id=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null) \
    || die "$image is not on the Docker engine (make rig builds the Odoo double; K8S_RIG_IMAGES lists the images)"
  archive="$K8S_PROJECT_IMAGES/$(tr '/:' '__' <<<"$image").tar"
  wanted+="$archive "
  if [[ -s "$archive" && "$(cat "$archive.id" 2>/dev/null)" == "$id" ]]; then
    log "kubernetes rig: $image archive is current"
    continue
  fi
  docker save -o "$archive.partial" "$image"
  mv "$archive.partial" "$archive"
  printf '%s\n' "$id" >"$archive.id"
  log "kubernetes rig: saved $image to $archive"
done
for archive in "$K8S_PROJECT_IMAGES"/*.tar; do
  [[ -e "$archive" && "$wanted" != *" $archive "* ]] && rm -f "$archive" "$archive.id"
done
exit 0
