#!/usr/bin/env bash
# Like odoo/docker 18.0 entrypoint.sh: HOST/PORT/USER/PASSWORD (with the
# PG*/POSTGRES_* fallbacks) fill db_* options absent from $ODOO_RC, then wait
# for PostgreSQL. ODOO_DOUBLE_SEED="--products 1000 --branches B001,B002"
# seeds the database first (idempotent).
set -e

if [ -v PASSWORD_FILE ]; then
  PASSWORD="$(< "$PASSWORD_FILE")"
  export PASSWORD
fi

run() { exec python3 -m odoo_double "$@"; }

case "$1" in
  -- | odoo)
    shift
    python3 /usr/local/bin/wait_for_psql.py --timeout=30
    if [ -n "${ODOO_DOUBLE_SEED:-}" ]; then
      # shellcheck disable=SC2086  # the variable holds several arguments
      python3 -m odoo_double seed -c "$ODOO_RC" --image-env $ODOO_DOUBLE_SEED >/dev/null
    fi
    run server -c "$ODOO_RC" --image-env "$@"
    ;;
  -*)
    python3 /usr/local/bin/wait_for_psql.py --timeout=30
    run server -c "$ODOO_RC" --image-env "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
