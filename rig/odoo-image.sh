#!/usr/bin/env bash
# Build a real Odoo 18 image from a local Odoo 18 source tree, with no
# registry, like the rig's other images: on the rig's debootstrap Debian 12
# base (Python 3.11), labelled with its recipe digest, and rebuilt only when
# the image is missing or its recipe changed: rig/images/odoo/, the
# pin lists (requirements/odoo18-py311.txt, requirements/odoo18-build-constraints.txt),
# the base image, or the source tree's fingerprint (path, size and mtime of
# every file of odoo-bin, odoo/ and addons/, without __pycache__).
#
#   bash rig/odoo-image.sh SRC [MODULE...]
#
# SRC is an Odoo 18 source tree: odoo-bin and odoo/ at its top, the addons in
# odoo/addons/ and, in the official layout, addons/ too. The image has them
# all under odoo/addons/ (as Odoo's own packages install them), so no
# addons_path entry is needed for them. MODULE... must be in the tree.
# The Python dependencies are built as wheels by pip on this machine (as it is
# configured here: index, certificates) with its Debian python3, and the image
# installs them from those wheels.
#
# Needs the rig (make rig): the base image and the apt cache. The image is
# $RIG_IMAGE_PREFIX-odoo:18.0 unless ODOO_SRC_IMAGE names another.
# shellcheck source=rig/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO_DIR="$(cd "$RIG_DIR/.." && pwd)"
BASE_IMAGE="$RIG_IMAGE_PREFIX-base:$RIG_SUITE"
ODOO_IMAGE="${ODOO_SRC_IMAGE:-$RIG_IMAGE_PREFIX-odoo:18.0}"
RECIPE_DIR="$RIG_DIR/images/odoo"
REQUIREMENTS="$REPO_DIR/requirements/odoo18-py311.txt"
CONSTRAINTS="$REPO_DIR/requirements/odoo18-build-constraints.txt"
# The Python of the base image (Debian 12): the wheels are built for it.
IMAGE_PYTHON=3.11

src_error() { printf '[rig] error: PILOT_ODOO_SRC=%s is not an Odoo 18 source tree: %s\n' "$1" "$2" >&2; exit 2; }

[[ $# -ge 1 && -n "$1" ]] || { echo "usage: $0 SRC [MODULE...]" >&2; exit 2; }
given="$1"
shift
[[ -d "$given" ]] || src_error "$given" "no such directory"
src="$(cd "$given" && pwd -P)"

# --- What the tree is --------------------------------------------------------
[[ -f "$src/odoo/release.py" ]] || src_error "$given" "odoo/release.py is missing"
[[ -f "$src/odoo-bin" ]] || src_error "$given" "odoo-bin is missing at its top"
[[ -f "$src/odoo/addons/base/__manifest__.py" ]] || src_error "$given" "odoo/addons/base is missing"
# release.py is plain Python with no imports of Odoo: read its version.
version=$(python3 - "$src/odoo/release.py" <<'PY'
import runpy, sys
release = runpy.run_path(sys.argv[1])
print(release["version_info"][0], release["version"])
PY
) || src_error "$given" "odoo/release.py cannot be read"
read -r major full_version <<<"$version"
[[ "$major" == 18 ]] || src_error "$given" "odoo/release.py says version $full_version, not 18"

addon_dirs=(odoo/addons)
tree_paths=(odoo-bin odoo) # what the image takes from the tree
if [[ -d "$src/addons" ]]; then
  addon_dirs+=(addons)
  tree_paths+=(addons)
fi
module_dir() { # the addons directory holding a module, or nothing
  local dir
  for dir in "${addon_dirs[@]}"; do
    [[ -f "$src/$dir/$1/__manifest__.py" ]] && { printf '%s\n' "$dir"; return; }
  done
}
missing=()
for module in web bus "$@"; do
  [[ -n "$(module_dir "$module")" ]] || missing+=("$module")
done
[[ ${#missing[@]} -eq 0 ]] || src_error "$given" "modules not in ${addon_dirs[*]}: ${missing[*]}"
if [[ ${#addon_dirs[@]} -gt 1 ]]; then
  # Both directories merge into odoo/addons/ in the image: no name twice.
  twice=$(comm -12 <(find "$src/odoo/addons" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort) \
                   <(find "$src/addons" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort) | head -n 5 | xargs)
  [[ -z "$twice" ]] || src_error "$given" "addons/ and odoo/addons/ both hold: $twice"
fi

# --- Whether the image is current -------------------------------------------
fingerprint=$(cd "$src" && find "${tree_paths[@]}" \
                -name __pycache__ -prune -o -name '*.pyc' -o -type f -printf '%p %s %T@\n' \
              | LC_ALL=C sort | sha256sum | cut -c1-16)
[[ -n "$(rig_image_recipe "$BASE_IMAGE")" ]] || die "$BASE_IMAGE is missing: run make rig"
recipe=$(rig_recipe_hash "$RECIPE_DIR"/* "$REQUIREMENTS" "$CONSTRAINTS" \
           <(rig_image_recipe "$BASE_IMAGE") <(printf '%s\n' "$fingerprint"))
if [[ "$(rig_image_recipe "$ODOO_IMAGE")" == "$recipe" ]]; then
  log "$ODOO_IMAGE is current (Odoo $full_version, source $src, fingerprint $fingerprint)"
  exit 0
fi
started=$SECONDS
log "building $ODOO_IMAGE: Odoo $full_version from $src (fingerprint $fingerprint)"

# --- Python dependencies as wheels (pip as configured on this machine) ------
# Built by this machine's Debian python3, the interpreter the image gets from
# the same suite: pip picks the versions whose Requires-Python it satisfies,
# and cbor2 compiles against its headers. Debian packages when missing.
wheel_python="${RIG_WHEEL_PYTHON:-/usr/bin/python3}"
wheels="$RIG_CACHE/odoo-wheels/$(rig_recipe_hash "$REQUIREMENTS" "$CONSTRAINTS" <(echo "$IMAGE_PYTHON"))"
if [[ ! -f "$wheels/.complete" ]]; then
  if [[ -z "${RIG_WHEEL_PYTHON:-}" ]]; then
    need=()
    [[ -x /usr/bin/python3 ]] || need+=(python3)
    /usr/bin/python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
    compgen -G "/usr/include/python3*/Python.h" >/dev/null || need+=(python3-dev)
    command -v gcc >/dev/null 2>&1 || need+=(gcc)
    if ((${#need[@]} > 0)); then
      log "installing ${need[*]} (to build the wheels)"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    fi
  fi
  have=$("$wheel_python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)
  [[ "$have" == "$IMAGE_PYTHON" ]] \
    || die "the wheels are built for the image's Python $IMAGE_PYTHON: $wheel_python is '${have:-missing}' (set RIG_WHEEL_PYTHON)"
  log "pip wheel: the Python dependencies of Odoo 18 (requirements/odoo18-py311.txt)"
  rm -rf "$wheels"
  mkdir -p "$wheels"
  PIP_CONSTRAINT="$CONSTRAINTS" "$wheel_python" -m pip wheel --quiet --disable-pip-version-check \
    --wheel-dir "$wheels" -r "$REQUIREMENTS" >"$RIG_CACHE/odoo-wheels.log" 2>&1 \
    || { tail -n 30 "$RIG_CACHE/odoo-wheels.log" >&2; die "pip wheel failed (log: $RIG_CACHE/odoo-wheels.log)"; }
  touch "$wheels/.complete"
fi

# --- The build context -------------------------------------------------------
proxy="http://$(rig_host_gateway):$RIG_APTCACHE_PORT"
timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$RIG_APTCACHE_PORT" 2>/dev/null \
  || die "the rig's apt cache does not answer on port $RIG_APTCACHE_PORT: run make rig"
ctx="$RIG_CACHE/images/odoo-context"
rm -rf "$ctx"
mkdir -p "$ctx/wheels"
trap 'rm -rf "$ctx"' EXIT
cp "$RECIPE_DIR"/* "$ctx"/
cp "$REQUIREMENTS" "$ctx/requirements.txt"
cp "$CONSTRAINTS" "$ctx/constraints.txt"
cp "$wheels"/*.whl "$ctx/wheels/"
# addons/ (official layout) joins odoo/addons/; files keep their mtimes.
tar -C "$src" --exclude=__pycache__ --exclude='*.pyc' --exclude=.git \
  --owner=0 --group=0 --numeric-owner --transform='s,^addons\(/\|$\),odoo/addons\1,' \
  -cf "$ctx/odoo-server.tar" "${tree_paths[@]}"
log "build context staged ($(du -sh "$ctx" | cut -f1)); docker build"
docker build --label "org.retailops.rig.recipe=$recipe" \
  --label "org.retailops.odoo.version=$full_version" \
  --label "org.retailops.odoo.source=$src" \
  --label "org.retailops.odoo.source-fingerprint=$fingerprint" \
  --build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg "APT_PROXY=$proxy" \
  -t "$ODOO_IMAGE" "$ctx" >"$RIG_CACHE/odoo-image-build.log" 2>&1 \
  || { tail -n 40 "$RIG_CACHE/odoo-image-build.log" >&2; die "docker build failed (log: $RIG_CACHE/odoo-image-build.log)"; }
log "built $ODOO_IMAGE in $((SECONDS - started)) s (Odoo $full_version)"
