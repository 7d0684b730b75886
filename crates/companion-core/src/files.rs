//! Files written whole or not at all. A replaced file goes through `tempfile`: the bytes go into
//! a private (0600) temporary file beside the target, are synced, and the file is renamed into
//! place, then the folder is synced so the rename survives a crash: a crash leaves the old
//! content or the new, never a mix. A new file is created in place and removed if its write
//! fails.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

fn staged(path: &Path, bytes: &[u8]) -> io::Result<tempfile::NamedTempFile> {
    let dir = folder_of(path);
    // tempfile makes it 0600 on Unix, whatever the umask.
    let mut tmp = tempfile::Builder::new().prefix(".companion-").suffix(".tmp").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    Ok(tmp)
}

fn folder_of(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Replaces `path` with `bytes` atomically.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    staged(path, bytes)?.persist(path).map_err(|e| e.error)?;
    sync_dir(folder_of(path))
}

/// Writes `bytes` as a new file at `path` (0600); an existing file there is never touched
/// (`AlreadyExists`). Created in place (`create_new`, which every file system supports, shares
/// included), synced, and removed again if the write fails, so nothing half-written stays.
pub fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o.open(path)?;
    if let Err(e) = f.write_all(bytes).and_then(|()| f.sync_all()) {
        drop(f);
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    sync_dir(folder_of(path))
}

/// Makes a rename durable on platforms where that takes an fsync of the folder.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_whole_private_and_nothing_is_left_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prefs.json");
        write_atomically(&path, b"one").unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
    }

    #[test]
    fn a_new_file_never_replaces_one_that_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.pdf");
        write_new(&path, b"first").unwrap();
        let again = write_new(&path, b"second").unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
        assert!(write_new(&dir.path().join("no-such-folder/x.pdf"), b"x").is_err());
    }
}
