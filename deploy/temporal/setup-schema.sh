#!/bin/sh
# One-shot (temporalio/admin-tools): create or upgrade Temporal's schemas in PostgreSQL.
# Idempotent: `setup-schema -v 0.0` keeps a newer version, `update-schema` applies only what is
# missing, so it runs on every `docker compose up`. The databases themselves are created by
# deploy/postgres/initdb/10-roles.sh.
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${POSTGRES_PWD:?}"
DB_PORT="${DB_PORT:-5432}"
SCHEMA_DIR="${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"
export SQL_PASSWORD="$POSTGRES_PWD"

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}

sql_tool --db "${DBNAME:-temporal}" setup-schema -v 0.0
sql_tool --db "${DBNAME:-temporal}" update-schema -d "$SCHEMA_DIR/temporal/versioned"
sql_tool --db "${VISIBILITY_DBNAME:-temporal_visibility}" setup-schema -v 0.0
sql_tool --db "${VISIBILITY_DBNAME:-temporal_visibility}" update-schema -d "$SCHEMA_DIR/visibility/versioned"
echo "Temporal schemas are up to date."
