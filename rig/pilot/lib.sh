# shellcheck shell=bash disable=SC2154
# Shared by rig/pilot/run.sh (make pilot) and rig/pilot/dr.sh (make pilot-dr),
# sourced after they set PILOT_TAG (the lines' prefix), logs (the playbooks'
# log directory) and started ($SECONDS at the start): SC2154, those three are
# the sourcing script's.

# step WORDS: a step's header, with the seconds since the start.
step() { printf '\n[%s] === %s (%ds)\n' "$PILOT_TAG" "$*" "$((SECONDS - started))"; }

# play LOG-NAME INVENTORY PLAYBOOK ARGS...: run a playbook, its output into
# $logs/LOG-NAME.log; print its recap, or its last lines and stop the script.
play() {
  local name="$1" inventory="$2"
  shift 2
  if ! ansible-playbook -i "$inventory" "$@" >"$logs/$name.log" 2>&1; then
    tail -n 40 "$logs/$name.log"
    printf '[%s] %s failed; full log: %s\n' "$PILOT_TAG" "$name" "$logs/$name.log" >&2
    exit 1
  fi
  sed -n '/^PLAY RECAP/,$p' "$logs/$name.log"
}

# changed LOG: the tasks a playbook changed, over every host of its recap.
changed() { sed -n '/^PLAY RECAP/,$p' "$1" | grep -o 'changed=[0-9]*' | awk -F= '{s += $2} END {print s + 0}'; }

# follow FILE LOG CMD...: run CMD (output into LOG) and print FILE's lines as they come. Ansible
# prints a task's output only when the task ends; the harness writes its progress lines to FILE.
follow() {
  local file="$1" log="$2" tailer rc=0
  shift 2
  tail -n +1 -F --pid=$$ "$file" 2>/dev/null &
  tailer=$!
  "$@" >"$log" 2>&1 || rc=$?
  sleep 1 # its last lines
  kill "$tailer" 2>/dev/null || true
  return "$rc"
}
