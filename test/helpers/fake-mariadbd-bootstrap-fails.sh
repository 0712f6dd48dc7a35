#!/bin/sh
# A FAKE server binary, only to test error reporting: it answers --version like MariaDB 10.11, and as
# "mariadbd --bootstrap" prints what the real one printed when another server starting in the same tmpdir
# deleted its temporary table (issue 16), then fails.
case " $* " in
  *" --version "*) echo "fake-mariadbd  Ver 10.11.19-MariaDB for debian-linux-gnu on x86_64 (fake for tests)"; exit 0 ;;
esac
cat > /dev/null
cat >&2 <<'OUT'
2026-12-06 20:20:50 0 [Note] Starting MariaDB 10.11.19-MariaDB as process 27669
2026-12-06 20:20:50 1 [Warning] Could not remove temporary table: '/tmp/#sql-temptable-6c15-1-4', error: 2
ERROR: 1051  Unknown table 'mysql.tmp_user_sys'
2026-12-06 20:20:50 0 [ERROR] Aborting
OUT
exit 1
