//! `meldpunt restore --from FILE`: puts a backup (from `meldpunt backup`) in place of the
//! database, checked first and swapped atomically.
//!
//! 1. Takes the database lock (`dblock`): refused while a server runs on the database.
//! 2. Refuses when the database (or its `-wal`) exists, unless `force`.
//! 3. Copies the backup to a temporary file in the database's folder and checks the copy:
//!    `PRAGMA integrity_check` is `ok`, `PRAGMA foreign_key_check` finds nothing, the schema
//!    version (`PRAGMA user_version`) is one this binary knows, the instance row is there.
//! 4. fsyncs the copy, removes a stale `-wal`/`-shm` of the old database, renames the copy
//!    over the database (atomic on one file system) and fsyncs the folder.
//!
//! The backup file itself is only read.

use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::dblock::{self, LockError};
use crate::store::sqlite::maint::known_schema_version;

/// Why a restore was refused or failed. Nothing was changed unless the message says so.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// A server runs on the database.
    #[error(transparent)]
    Locked(#[from] LockError),
    /// The database exists and `--force` was not given.
    #[error(
        "{0} exists; nothing was changed. To replace it with the backup, stop the server, keep a \
         copy of the current database (`meldpunt backup --to …`), and run restore again with --force"
    )]
    Exists(String),
    /// The backup is missing, damaged or of an unknown schema.
    #[error("the backup {path} cannot be restored: {why}; nothing was changed")]
    BadBackup {
        /// The backup.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// A file operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
}

/// What was restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restored {
    /// `PRAGMA user_version` of the backup (migrations run when the server starts).
    pub schema_version: u32,
    /// Cases in the backup.
    pub cases: u64,
    /// Organisations in the backup.
    pub organisations: u64,
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> RestoreError {
    let what = what.into();
    move |source| RestoreError::Io { what, source }
}

/// Checks a database file (the temporary copy of the backup).
fn verify(path: &Path, shown: &Path) -> Result<Restored, RestoreError> {
    let bad = |why: String| RestoreError::BadBackup {
        path: shown.display().to_string(),
        why,
    };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| bad(format!("cannot open it as SQLite ({e})")))?;
    let sql = |e: rusqlite::Error| bad(format!("not a readable Meldpunt database ({e})"));
    let problems: Vec<String> = {
        let mut stmt = conn.prepare("PRAGMA integrity_check").map_err(sql)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(sql)?;
        rows.collect::<rusqlite::Result<_>>().map_err(sql)?
    };
    if problems != ["ok"] {
        let first: Vec<&str> = problems.iter().take(3).map(String::as_str).collect();
        return Err(bad(format!(
            "the integrity check failed: {}",
            first.join("; ")
        )));
    }
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(sql)?;
    let known = known_schema_version();
    let version = u32::try_from(version).unwrap_or(0);
    if version == 0 {
        return Err(bad("it holds no Meldpunt schema (version 0)".into()));
    }
    if version > known {
        return Err(bad(format!(
            "its schema version {version} is newer than this meldpunt ({known}); restore it with \
             the version that made it"
        )));
    }
    let fk_problems: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .map_err(sql)?;
    if fk_problems != 0 {
        return Err(bad(format!("{fk_problems} rows break foreign keys")));
    }
    let count = |table: &str| -> Result<u64, RestoreError> {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| u64::try_from(n).unwrap_or(0))
        .map_err(sql)
    };
    if count("instance")? != 1 {
        return Err(bad("the instance row is missing".into()));
    }
    let out = Restored {
        schema_version: version,
        cases: count("cases")?,
        organisations: count("organisations")?,
    };
    conn.close().map_err(|(_, e)| sql(e))?;
    Ok(out)
}

fn remove_if_exists(p: &Path) -> Result<(), RestoreError> {
    match std::fs::remove_file(p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(format!("cannot remove {}", p.display()))(e)),
    }
}

/// Removes a temporary copy and the side files SQLite may have left beside it.
fn remove_temp(tmp: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(with_suffix(tmp, suffix));
    }
}

/// Restores `from` into `database` (see the module documentation).
pub fn restore(from: &Path, database: &Path, force: bool) -> Result<Restored, RestoreError> {
    let bad = |why: &str| RestoreError::BadBackup {
        path: from.display().to_string(),
        why: why.to_owned(),
    };
    if !from.is_file() {
        return Err(bad("no such file"));
    }
    if let (Ok(a), Ok(b)) = (from.canonicalize(), database.canonicalize())
        && a == b
    {
        return Err(bad("it is the database itself"));
    }
    let dir = match database.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(io(format!("cannot create {}", dir.display())))?;
    let _lock = dblock::try_lock(database)?;
    let wal = with_suffix(database, "-wal");
    let shm = with_suffix(database, "-shm");
    if !force && (database.exists() || wal.exists()) {
        return Err(RestoreError::Exists(database.display().to_string()));
    }

    let name = database
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "meldpunt.db".to_owned());
    let tmp = dir.join(format!(
        ".{name}.restore-{}",
        crate::service::wire::b64(&crate::service::random_id())
    ));
    let result = (|| -> Result<Restored, RestoreError> {
        std::fs::copy(from, &tmp).map_err(io(format!(
            "cannot copy {} to {}",
            from.display(),
            tmp.display()
        )))?;
        // `copy` takes the backup's mode; the database is owner-only.
        crate::private_file::restrict(&tmp)
            .map_err(io(format!("cannot set the mode of {}", tmp.display())))?;
        let restored = verify(&tmp, from)?;
        // The check may have left side files if the backup was in WAL mode.
        for suffix in ["-wal", "-shm", "-journal"] {
            remove_if_exists(&with_suffix(&tmp, suffix))?;
        }
        File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(io(format!("cannot sync {}", tmp.display())))?;
        // The old database's log must not be applied to the restored file.
        remove_if_exists(&wal)?;
        remove_if_exists(&shm)?;
        std::fs::rename(&tmp, database).map_err(io(format!(
            "cannot move {} to {}",
            tmp.display(),
            database.display()
        )))?;
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(io(format!("cannot sync the folder {}", dir.display())))?;
        Ok(restored)
    })();
    if result.is_err() {
        remove_temp(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::store::sqlite::SqliteStore;

    fn make_db(path: &Path, slug: &str) {
        let s = SqliteStore::open(path).unwrap();
        s.create_org(slug, "Org").unwrap();
    }

    #[test]
    fn restores_checks_and_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let backup = dir.path().join("backup.db");
        let db = dir.path().join("live").join("meldpunt.db");
        {
            let src = dir.path().join("src.db");
            let s = SqliteStore::open(&src).unwrap();
            s.create_org("acme", "Acme").unwrap();
            s.backup(&backup).unwrap();
        }
        let r = restore(&backup, &db, false).unwrap();
        assert_eq!(r.organisations, 1);
        assert_eq!(r.schema_version, known_schema_version());
        // Exists: refused, unchanged.
        let before = std::fs::read(&db).unwrap();
        let e = restore(&backup, &db, false).unwrap_err();
        assert!(matches!(e, RestoreError::Exists(_)), "{e}");
        assert_eq!(std::fs::read(&db).unwrap(), before);
        // Locked: refused even with force.
        let lock = dblock::try_lock(&db).unwrap();
        let e = restore(&backup, &db, true).unwrap_err();
        assert!(matches!(e, RestoreError::Locked(_)), "{e}");
        drop(lock);
        // A damaged backup: refused, the database unchanged.
        let damaged = dir.path().join("damaged.db");
        let mut bytes = std::fs::read(&backup).unwrap();
        let len = bytes.len();
        for b in &mut bytes[len / 2..] {
            *b = 0x5a;
        }
        std::fs::write(&damaged, &bytes).unwrap();
        let e = restore(&damaged, &db, true).unwrap_err();
        assert!(matches!(e, RestoreError::BadBackup { .. }), "{e}");
        assert_eq!(std::fs::read(&db).unwrap(), before);
        // Not a database at all.
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, b"not a database, just some bytes").unwrap();
        assert!(matches!(
            restore(&junk, &db, true).unwrap_err(),
            RestoreError::BadBackup { .. }
        ));
        // A schema from the future.
        let future = dir.path().join("future.db");
        make_db(&future, "beta");
        {
            let c = Connection::open(&future).unwrap();
            c.pragma_update(None, "user_version", known_schema_version() + 1)
                .unwrap();
        }
        let e = restore(&future, &db, true).unwrap_err().to_string();
        assert!(e.contains("newer"), "{e}");
        // No temporary files are left behind.
        let left: Vec<_> = std::fs::read_dir(db.parent().unwrap())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("restore"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
