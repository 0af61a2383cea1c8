#!/usr/bin/env bash
# As the official image's entrypoint (odoo/docker 18.0): HOST, PORT, USER and
# PASSWORD (or PASSWORD_FILE), with the PG*/POSTGRES_* fallbacks, become
# --db_host/--db_port/--db_user/--db_password for what $ODOO_RC does not set;
# then wait for PostgreSQL (30 s) and run odoo. Unlike the official script,
# values $ODOO_RC sets are not repeated on the command line (no password in ps).
set -euo pipefail

if [[ -v PASSWORD_FILE ]]; then
  PASSWORD="$(<"$PASSWORD_FILE")"
fi
: "${HOST:=${PGHOST:-db}}"
: "${PORT:=${PGPORT:-5432}}"
: "${USER:=${POSTGRES_USER:-${PGUSER:-odoo}}}"
: "${PASSWORD:=${POSTGRES_PASSWORD:-${PGPASSWORD:-odoo}}}"

db_args=()
unset_in_rc() { ! grep -qE "^[[:space:]]*$1[[:space:]]*=" "$ODOO_RC" 2>/dev/null; }
for pair in "db_host=$HOST" "db_port=$PORT" "db_user=$USER" "db_password=$PASSWORD"; do
  if unset_in_rc "${pair%%=*}"; then
    db_args+=("--${pair%%=*}" "${pair#*=}")
  fi
done
wait_for_psql() { /opt/odoo/venv/bin/python3 /usr/local/bin/wait-for-psql.py "${db_args[@]}" --timeout=30; }

case "${1:-odoo}" in
  -- | odoo)
    shift || true
    if [[ "${1:-}" == scaffold ]]; then
      exec odoo "$@"
    fi
    wait_for_psql
    exec odoo "$@" "${db_args[@]}"
    ;;
  -*)
    wait_for_psql
    exec odoo "$@" "${db_args[@]}"
    ;;
  *)
    exec "$@"
    ;;
esac
