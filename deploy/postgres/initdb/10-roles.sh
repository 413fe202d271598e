#!/bin/sh
# First start of the postgres container only (docker-entrypoint-initdb.d): one role and database
# for the console, one role and two databases for Temporal. Neither role is a superuser, and
# neither can read the other's data. Passwords come from the container's environment; changing
# them later means ALTER ROLE (this script does not run again on an initialised volume).
set -eu
: "${JSC_DB_PASSWORD:?JSC_DB_PASSWORD is not set}"
: "${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD is not set}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v jsc_pw="$JSC_DB_PASSWORD" -v temporal_pw="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE jsc LOGIN PASSWORD :'jsc_pw';
CREATE DATABASE jsc OWNER jsc;
REVOKE ALL ON DATABASE jsc FROM PUBLIC;

CREATE ROLE temporal LOGIN PASSWORD :'temporal_pw';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
REVOKE ALL ON DATABASE temporal FROM PUBLIC;
REVOKE ALL ON DATABASE temporal_visibility FROM PUBLIC;
SQL
