//! The database lock: `meldpunt serve` holds an exclusive `flock` on `DATABASE.lock` for as
//! long as it runs, so that `meldpunt restore` and `meldpunt purge` can tell that a server is
//! using the file and refuse. The lock goes away with the process (also after a crash); the
//! empty lock file stays and is harmless.

use std::fs::File;
use std::path::{Path, PathBuf};

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it.
    #[error(
        "{db} is in use: a `meldpunt serve` (or restore, or purge) is running on it \
         (it holds {lock}); stop it first"
    )]
    Held {
        /// The database.
        db: String,
        /// The lock file.
        lock: String,
    },
    /// The lock file cannot be opened.
    #[error("cannot open the lock file {lock}: {source}")]
    Io {
        /// The lock file.
        lock: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A held lock; released on drop (or when the process ends).
#[derive(Debug)]
pub struct DbLock {
    _file: File,
    path: PathBuf,
}

impl DbLock {
    /// The lock file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The lock file of a database: `DATABASE.lock` beside it.
#[must_use]
pub fn lock_path(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

/// Takes the database's lock without waiting.
pub fn try_lock(db: &Path) -> Result<DbLock, LockError> {
    let path = lock_path(db);
    let io = |source| LockError::Io {
        lock: path.display().to_string(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    match flock_exclusive(&file) {
        Ok(true) => Ok(DbLock { _file: file, path }),
        Ok(false) => Err(LockError::Held {
            db: db.display().to_string(),
            lock: path.display().to_string(),
        }),
        Err(e) => Err(io(e)),
    }
}

/// `Ok(false)`: someone else holds it.
#[cfg(unix)]
fn flock_exclusive(file: &File) -> std::io::Result<bool> {
    use rustix::fs::{FlockOperation, flock};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Ok(false),
        Err(e) => Err(std::io::Error::from(e)),
    }
}

/// Without `flock` (not Unix) the lock is unavailable: say so rather than pretend.
#[cfg(not(unix))]
fn flock_exclusive(_file: &File) -> std::io::Result<bool> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "database locking needs a Unix system",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("m.db");
        let first = try_lock(&db).unwrap();
        assert!(first.path().ends_with("m.db.lock"));
        let e = try_lock(&db).unwrap_err();
        assert!(matches!(e, LockError::Held { .. }), "{e}");
        drop(first);
        try_lock(&db).unwrap();
    }
}
