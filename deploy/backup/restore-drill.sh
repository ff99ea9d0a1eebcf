#!/usr/bin/env bash
# Backup and restore drill: dump the clinic's database (pg_dump -Fc), restore the dump into
# a new, empty database (pg_restore), check that every row the dump holds is there, and
# verify the audit log's hash chain and the signed sessions' seals on the restored copy
# (manage.py verify_audit). Exit status 0 only when all of that holds.
#
#   DATABASE_URL=postgres://...clinic deploy/backup/restore-drill.sh [DUMP_FILE]
#
# DATABASE_URL        the database to back up (the environment the web server has; SECRET_KEY too)
# DUMP_FILE           where the dump is written (default var/backups/clinic-<UTC time>.dump); kept
# RESTORE_ADMIN_URL   a role that may CREATE and DROP DATABASE on the server restored to
#                     (default: DATABASE_URL; the application role may not: use the owner's URL)
# RESTORE_DATABASE    the name of the database restored into (default clinic_restore_drill_<time>)
# KEEP_RESTORED=1     keep the restored database afterwards (default: dropped)
# PG_BIN              where pg_dump and pg_restore are (default: the newest /usr/lib/postgresql/*/bin)
#
# The restored copy is on the same server by default; point RESTORE_ADMIN_URL at another
# server to prove the dump restores elsewhere. README, "Backups and the restore drill".
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
: "${DATABASE_URL:?set DATABASE_URL to the database to back up}"
stamp=$(date -u +%Y%m%d-%H%M%S)
dump=${1:-var/backups/clinic-$stamp.dump}
restored=${RESTORE_DATABASE:-clinic_restore_drill_${stamp//-/_}}
admin_url=${RESTORE_ADMIN_URL:-$DATABASE_URL}
if [ -z "${PG_BIN:-}" ]; then
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
fi
tool() { if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN/$1"; else command -v "$1"; fi; }

# A URL naming another database on the same server (the query string, if any, is kept).
with_database() {
  "$PY" -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$1" "$2"
}
source_url=$DATABASE_URL
restored_url=$(with_database "$admin_url" "$restored")
psql_q() { psql "$1" -X -q -A -t -v ON_ERROR_STOP=1 -c "$2"; }

mkdir -p "$(dirname "$dump")"
echo "== Dump: pg_dump -Fc to $dump"
"$(tool pg_dump)" -Fc --no-password -f "$dump" "$source_url"
echo "   $(du -h "$dump" | cut -f1)"

echo "== Restore: pg_restore into a new database $restored"
psql_q "$admin_url" "CREATE DATABASE \"$restored\""
cleanup() {
  if [ "${KEEP_RESTORED:-}" != "1" ]; then
    psql_q "$admin_url" "DROP DATABASE IF EXISTS \"$restored\" WITH (FORCE)" >/dev/null 2>&1 || true
  else
    echo "Kept the restored database: $restored"
  fi
}
trap cleanup EXIT
"$(tool pg_restore)" --no-owner --no-acl --exit-on-error --no-password -d "$restored_url" "$dump"

echo "== Rows: every row the dump holds is in the restored copy"
status=0
for table in records_auditevent records_patient records_session records_auditverification; do
  read -r count last <<<"$(psql_q "$restored_url" "SELECT count(*), coalesce(max(id), 0) FROM $table" | tr '|' ' ')"
  # The source has gone on writing since the dump: compare the rows up to the dump's last one.
  source_count=$(psql_q "$source_url" "SELECT count(*) FROM $table WHERE id <= $last")
  if [ "$count" = "$source_count" ]; then
    echo "   $table: $count rows, as in the source"
  else
    echo "   $table: $count rows restored, but the source has $source_count up to id $last" >&2
    status=1
  fi
done

echo "== verify_audit on the restored copy"
if ! DATABASE_URL="$restored_url" "$PY" manage.py verify_audit; then
  status=1
fi

if [ $status -eq 0 ]; then
  echo "Restore drill passed: the dump restores, its rows are all there, and its audit log is intact."
else
  echo "RESTORE DRILL FAILED (see above)." >&2
fi
exit $status
