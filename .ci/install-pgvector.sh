#!/usr/bin/env bash
# Builds pgvector from Debian's own source package (it is not packaged for Debian 12's PostgreSQL 15)
# and installs it into the local server. Does nothing when the extension is already available.
set -euo pipefail
PSQL=(psql -h 127.0.0.1 -U postgres -d postgres -tAq)
if [ "$("${PSQL[@]}" -c "select count(*) from pg_available_extensions where name = 'vector'")" = "1" ]; then
  echo "pgvector: already available"; exit 0
fi
PG_MAJOR=$(pg_config --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
SRC_LIST=/etc/apt/sources.list.d/pgvector-src.sources
if [ ! -f "$SRC_LIST" ]; then
  cat > "$SRC_LIST" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "postgresql-server-dev-${PG_MAJOR}" dpkg-dev >/dev/null
BUILD_DIR=$(mktemp -d)
cd "$BUILD_DIR"
apt-get source -qq pgvector >/dev/null
cd pgvector-*/
make -s PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config" >/dev/null
make -s install PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config" >/dev/null
rm -rf "$BUILD_DIR"
echo "pgvector: built and installed for PostgreSQL ${PG_MAJOR}"
