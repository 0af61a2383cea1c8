# retailops.odoo_platform: the two commands that matter are
#   make pilot   set up everything and validate a pilot region (see README)
#   make test    set up everything and run lint, unit tests and every scenario
#
# Downloads and built images are cached outside the repository (RIG_CACHE);
# each cache rebuilds itself when missing. Logs and results go to results/.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export RIG_CACHE ?= $(HOME)/.cache/retailops-rig
# The collection seen by Ansible and Molecule: this checkout, under the
# ansible_collections/<namespace>/<name> layout Ansible needs.
COLLECTIONS := $(CURDIR)/.cache/collections
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_FORCE_COLOR ?= 0
export PATH := $(CURDIR)/$(BIN):$(PATH)
# Every scenario, the longest first (postgresql_ha with its DR checks;
# kubernetes, which builds the cluster's cache on a fresh machine): two run
# side by side, so the long ones start early and the two slots end together.
SCENARIOS_LONGEST_FIRST := postgresql_ha kubernetes branch_vpn app_tier redis_ha docker_host
SCENARIOS_ALL := $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml))))
SCENARIOS ?= $(filter $(SCENARIOS_ALL),$(SCENARIOS_LONGEST_FIRST)) $(filter-out $(SCENARIOS_LONGEST_FIRST),$(SCENARIOS_ALL))

host:
	bash rig/host-packages.sh

.PHONY: help venv host rig collection lint unit molecule test test-fast scenario build clean pilot pilot-down \
	pilot-dr pilot-dr-down pilot-dr-failback drills \
	real-odoo real-odoo-captures

help:
	@echo "make pilot       set up everything, build the local pilot region, validate it: GO or NO-GO"
	@echo "make pilot-down  remove the local pilot region (containers, networks, its state)"
	@echo "make pilot-dr    two regions, the primary lost under branch load, the DR region taking over"
	@echo "make pilot-dr-down  remove the disaster-recovery pilot's two regions"
	@echo "make pilot-dr-failback PHASE=prepare|switch   fail back to the pilot's primary region once it is back"
	@echo "make drills      the pilot region converged, then the failover drill campaign (DRILLS_ROUNDS=5)"
	@echo "make test        set up (venv, Docker engine, images, apt cache) and run every check"
	@echo "make test-fast   lint and unit tests only"
	@echo "make scenario S=docker_host   one Molecule scenario (full test sequence)"
	@echo "make build       ansible-galaxy collection build"
	@echo "make real-odoo ODOO_SRC=/path/to/odoo   contract suite + harness against a real Odoo 18 (or ODOO_IMAGE=...)"
	@echo "make real-odoo-captures ODOO_SRC=...    contract suite only, rewrites tests/captures/ from a real Odoo"
	@echo "make k8s-rig     build (when missing) and start the Kubernetes rig cluster; make k8s-down removes it"

venv: $(VENV)/.installed

$(VENV)/.installed: requirements/controller.txt requirements/test.txt requirements/constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/test.txt -c requirements/constraints.txt
	# the load harness itself (retailops-loadtests, retailops-branchctl), editable: the pins above are its deps
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

collection:
	mkdir -p $(COLLECTIONS)/ansible_collections/retailops
	ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/retailops/odoo_platform

rig: host
	bash rig/engine.sh
	bash rig/images.sh
	bash rig/traefik.sh
	bash rig/toxiproxy.sh
	bash rig/victorialogs.sh

lint: venv host collection
	$(BIN)/python tools/checks.py lint

unit: venv host collection
	$(BIN)/python tools/checks.py unit

molecule: venv collection rig
	$(BIN)/python tools/checks.py molecule $(SCENARIOS)

scenario: venv collection rig
	$(BIN)/python tools/checks.py molecule $(S)

test: host k8s-cache-background venv collection rig
	$(BIN)/python tools/checks.py lint unit molecule $(SCENARIOS)

# The Kubernetes rig's cache takes 15-20 minutes to build on a fresh machine.
# `make test` starts the build here, in the background at nice 19, so that it
# runs while the venv, the container images, lint and the unit tests do;
# molecule/kubernetes runs build.sh again, which waits for this build (a lock)
# and finds it done, or rebuilds what failed and says why. Log:
# results/logs/k8s-cache.log. Seconds when the cache is built.
.PHONY: k8s-cache-background
k8s-cache-background: host
	mkdir -p results/logs
	RIG_NICE="$${RIG_NICE:-nice -n 19 ionice -c3}" setsid nohup bash rig/kubernetes/build.sh \
	  >results/logs/k8s-cache.log 2>&1 </dev/null &

test-fast: venv host collection
	$(BIN)/python tools/checks.py lint unit

# The local pilot region: see README, "make pilot". PILOT_PLATFORM=docker
# (inventories/pilot-local/) or kubernetes (inventories/pilot-kubernetes/,
# on the rig's Kubernetes cluster).
export PILOT_STATE ?= $(CURDIR)/.cache/pilot
export PILOT_PLATFORM ?= docker
PILOT_INVENTORY := inventories/$(if $(filter kubernetes,$(PILOT_PLATFORM)),pilot-kubernetes,pilot-local)/

pilot: venv host collection rig
	bash rig/pilot/run.sh

pilot-down: venv collection
	$(BIN)/ansible-playbook -i $(PILOT_INVENTORY) rig/pilot/down.yml
	$(if $(filter kubernetes,$(PILOT_PLATFORM)),bash rig/kubernetes/cluster.sh down)

# The failover drill campaign (README "Failover drills", rig/drills/): the
# Docker pilot region converged (made when missing, not validated), then each
# fault DRILLS_ROUNDS times under steady writes, Patroni's defaults and a fast
# preset side by side. Results and report: results/drills/<time>/. Not part of
# make test. DRILLS_ARGS: more options of python -m rig.drills.
DRILLS_ROUNDS ?= 5
DRILLS_ARGS ?=
drills: venv host collection rig
	$(if $(filter docker,$(PILOT_PLATFORM)),,$(error make drills runs on the Docker pilot: PILOT_PLATFORM=docker))
	bash rig/pilot/run.sh converge
	$(BIN)/python -m rig.drills --rounds $(DRILLS_ROUNDS) $(DRILLS_ARGS)

# The disaster-recovery pilot (README, "make pilot-dr"): two regions
# (inventories/pilot-north/, inventories/pilot-south/), the primary lost under
# branch load, the DR region taking over. Its own state, beside make pilot's.
PILOT_DR_STATE ?= $(CURDIR)/.cache/pilot-dr

pilot-dr: venv host collection rig
	PILOT_STATE=$(PILOT_DR_STATE) bash rig/pilot/dr.sh

pilot-dr-down: venv collection
	PILOT_STATE=$(PILOT_DR_STATE) bash rig/pilot/dr.sh down

# After make pilot-dr (pilot-south active) and pilot-north's containers started
# again: playbooks/dr_failback.yml, one phase (PHASE=prepare, then PHASE=switch).
pilot-dr-failback: venv collection
	PILOT_STATE=$(PILOT_DR_STATE) bash rig/pilot/dr.sh failback $(PHASE)

# The real-Odoo lane (rig/real_odoo/, README "Real Odoo lane"): not part of
# make test. ODOO_SRC (a source tree) or ODOO_IMAGE (an image on the Docker
# engine, which rig/engine.sh provides), LANE_* settings: see the README.
real-odoo: venv collection
	$(if $(ODOO_IMAGE),bash rig/engine.sh)
	$(BIN)/python -m rig.real_odoo.lane

real-odoo-captures: venv collection
	$(if $(ODOO_IMAGE),bash rig/engine.sh)
	LANE_HARNESS=0 LANE_UPDATE_CAPTURES=1 $(BIN)/python -m rig.real_odoo.lane

# The Kubernetes rig (rig/kubernetes/README.md): a real cluster of plain
# processes in network namespaces, built from the Go module proxy and Debian
# into $(RIG_CACHE)/kubernetes (rebuilt when missing or when its recipe
# changed). K8S_RIG_NODES, K8S_RIG_NODE_POOLS: see rig/kubernetes/lib.sh.
.PHONY: k8s-rig k8s-down k8s-smoke

k8s-rig: host rig
	bash rig/kubernetes/build.sh
	bash rig/kubernetes/images.sh
	bash rig/kubernetes/cluster.sh up

k8s-down:
	bash rig/kubernetes/cluster.sh down

k8s-smoke: venv collection host rig
	bash rig/kubernetes/build.sh
	bash rig/kubernetes/images.sh
	bash rig/kubernetes/smoke.sh

build: venv
	mkdir -p build
	$(BIN)/ansible-galaxy collection build --force --output-path build .

clean:
	rm -rf .cache build results $(VENV)
