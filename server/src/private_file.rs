//! Files only their owner may read: the database (and so SQLite's `-wal` and `-shm`, which take
//! the database file's mode), backups, a restore's copy, keyrings and decrypted exports are
//! created `0600` whatever the umask.

use std::fs::{File, OpenOptions};
use std::path::Path;

/// The mode of every file Meldpunt creates that holds data.
pub const MODE: u32 = 0o600;

/// `opts` with the owner-only mode for a file it creates (on Unix; elsewhere unchanged).
pub fn owner_only(opts: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(MODE)
    }
    #[cfg(not(unix))]
    {
        opts
    }
}

/// Creates `path` empty and owner-only if it does not exist; an existing file is left as it is.
pub fn create_if_missing(path: &Path) -> std::io::Result<()> {
    match owner_only(OpenOptions::new().write(true).create_new(true)).open(path) {
        Ok(f) => f.sync_all(),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates a new, empty, owner-only file; fails if `path` exists.
pub fn create_new(path: &Path) -> std::io::Result<File> {
    owner_only(OpenOptions::new().write(true).create_new(true)).open(path)
}

/// Makes an existing file owner-only (on Unix).
pub fn restrict(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(MODE))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}
