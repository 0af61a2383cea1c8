#!/usr/bin/env bash
# Choose the Odoo the pilot runs, never silently, and write the choice as
# extra vars for playbooks/site.yml to "$PILOT_STATE/odoo.yml":
#
#   PILOT_ODOO_SRC=/path/odoo-18-tree   an Odoo 18 source tree -> an image built from it
#                                       (rig/odoo-image.sh, no registry) -> side-loaded
#   PILOT_ODOO_ARCHIVE=/path/odoo.tar   an image archive (docker save) -> side-loaded
#   PILOT_ODOO_IMAGE=odoo:18.0          an image on this machine's engine -> saved, side-loaded
#   (neither)                           the official image when its registry answers
#                                       (PILOT_ODOO_REGISTRY_IMAGE, default odoo:18.0)
#   (no registry)                       the Odoo 18 protocol double built by the rig
#   PILOT_ODOO=double|official          force one of the last two
#
# Prints one line saying which Odoo it chose and why.
set -euo pipefail

: "${PILOT_STATE:?PILOT_STATE is not set}"
RIG_CACHE="${RIG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/retailops-rig}"
registry_image="${PILOT_ODOO_REGISTRY_IMAGE:-odoo:18.0}"
double_image=retailops/rig-odoo-double:18.0
out="$PILOT_STATE/odoo.yml"
images="$PILOT_STATE/images"
mkdir -p "$images"

say() { printf '[pilot] %s\n' "$*" >&2; }
die() { printf '[pilot] error: %s\n' "$*" >&2; exit 2; }

# Save a local image once per image ID (docker save is slow).
save_image() {
  local image="$1" archive="$2" id
  id=$(docker image inspect --format '{{.Id}}' "$image") || die "image $image is not on this engine"
  if [[ ! -s "$archive" || "$(cat "$archive.id" 2>/dev/null)" != "$id" ]]; then
    docker save -o "$archive.tmp" "$image"
    mv "$archive.tmp" "$archive"
    printf '%s\n' "$id" >"$archive.id"
  fi
}

# The archive's image name (repo:tag) from its manifest.
archive_image() {
  tar -xOf "$1" manifest.json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["RepoTags"][0])'
}

# What the pilot's database needs (demo data: products, POS configs, a warehouse).
init_modules=(point_of_sale stock account purchase sale_management)

real_odoo_vars() { # kind image archive_path reason [label]
  local kind="$1" image_source=registry image="$2" archive="$3" reason="$4" label="${5:-Odoo (image $2)}"
  [[ -n "$archive" ]] && image_source=archive
  cat >"$out" <<YAML
---
# Written by rig/pilot/odoo.sh: $reason
pilot_odoo_kind: $kind
pilot_odoo_label: "$label"
odoo_image_source: $image_source
odoo_image: "$image"
odoo_container_uid: 101
odoo_container_gid: 101
docker_host_image_archives: $( [[ -n "$archive" ]] && printf '[{src: "%s", images: ["%s"]}]' "$archive" "$image" || printf '[]')
odoo_init_modules: [$(IFS=,; echo "${init_modules[*]}")]
# Odoo's own session store on a directory both app nodes share: no Redis
# session module supports Odoo 18 with Sentinel (roles/odoo/README.md).
odoo_session_store: filesystem
YAML
  say "Odoo under test: ${5:-the Odoo image $image} ($reason)"
}

choice="${PILOT_ODOO:-auto}"
case "$choice" in auto|double|official) ;; *) die "PILOT_ODOO must be auto, double or official, not '$choice'" ;; esac

if [[ -n "${PILOT_ODOO_SRC:-}" ]]; then
  source_image="${PILOT_ODOO_SRC_IMAGE:-retailops/rig-odoo:18.0}"
  ODOO_SRC_IMAGE="$source_image" bash "$(dirname "$0")/../odoo-image.sh" "$PILOT_ODOO_SRC" "${init_modules[@]}"
  save_image "$source_image" "$images/odoo-src.tar"
  version=$(docker image inspect --format '{{ index .Config.Labels "org.retailops.odoo.version" }}' "$source_image")
  fingerprint=$(docker image inspect --format '{{ index .Config.Labels "org.retailops.odoo.source-fingerprint" }}' "$source_image")
  real_odoo_vars source "$source_image" "$images/odoo-src.tar" "built from PILOT_ODOO_SRC=$PILOT_ODOO_SRC" \
    "Odoo $version (image $source_image, built from the source tree $(realpath "$PILOT_ODOO_SRC"), fingerprint $fingerprint)"
  exit 0
fi
if [[ -n "${PILOT_ODOO_ARCHIVE:-}" ]]; then
  [[ -s "$PILOT_ODOO_ARCHIVE" ]] || die "PILOT_ODOO_ARCHIVE=$PILOT_ODOO_ARCHIVE is not a readable image archive"
  archive=$(realpath "$PILOT_ODOO_ARCHIVE")
  real_odoo_vars official "$(archive_image "$archive")" "$archive" "from PILOT_ODOO_ARCHIVE"
  exit 0
fi
if [[ -n "${PILOT_ODOO_IMAGE:-}" ]]; then
  save_image "$PILOT_ODOO_IMAGE" "$images/odoo.tar"
  real_odoo_vars official "$PILOT_ODOO_IMAGE" "$images/odoo.tar" "local image from PILOT_ODOO_IMAGE"
  exit 0
fi
if [[ "$choice" != double ]]; then
  say "asking the registry for $registry_image (60 s at most)"
  if timeout 60 docker pull --quiet "$registry_image" >/dev/null 2>"$images/pull.log"; then
    real_odoo_vars official "$registry_image" "" "the registry answered"
    exit 0
  fi
  [[ "$choice" == official ]] && die "PILOT_ODOO=official but $registry_image cannot be pulled: $(tail -n1 "$images/pull.log")"
  reason="no registry: $(tail -n1 "$images/pull.log" | cut -c1-120)"
else
  reason="PILOT_ODOO=double"
fi

docker image inspect "$double_image" >/dev/null 2>&1 || die "$double_image is missing: run make rig"
save_image "$double_image" "$images/odoo-double.tar"
cat >"$out" <<YAML
---
# Written by rig/pilot/odoo.sh: $reason
pilot_odoo_kind: double
pilot_odoo_label: "Odoo 18 protocol double, image $double_image (rig/odoo_double; not the real Odoo)"
odoo_image_source: archive
odoo_image: "$double_image"
odoo_container_uid: 999
odoo_container_gid: 999
docker_host_image_archives: [{src: "$images/odoo-double.tar", images: ["$double_image"]}]
# The double's own switch: test users hashed with few rounds (fast logins).
odoo_options_extra: {double_password_rounds: 1000}
# Seeds what Odoo's demo data would give: products, stock, one POS per branch
# (a DR region has no branches of its own: its database is the primary's).
odoo_init_command: [python3, -m, odoo_double, seed, -c, /etc/odoo/odoo.conf, --image-env, --products, "200",
                    --warehouses, "2", --branches, "{{ groups['branches'] | default([]) | join(',') }}"]
YAML
say "Odoo under test: the Odoo 18 protocol double $double_image ($reason)"
