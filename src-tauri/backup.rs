//! Commands for the patient's own backup: make one (in the backups folder, see
//! `companion_core::paths::backup_dir`), list the ones there, restore one into a device with no
//! diary. The window names a backup by its file name only, never by a path.

use crate::args::{Args, Reply};
use crate::AppState;
use companion_core::api::{args::*, Backups};
use companion_core::paths;
use companion_core::store::{backup, BackupInfo};
use companion_core::{Error, Problem};
use tauri::State;

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn create_backup(state: State<'_, AppState>, _a: Args<CreateBackup>) -> Reply<CreateBackup> {
    state.with(|s| {
        let folder = paths::backup_dir();
        std::fs::create_dir_all(&folder).map_err(Error::from)?;
        let name = format!("companion-{}.{}", chrono::Local::now().format("%Y-%m-%d-%H%M%S"), backup::EXTENSION);
        s.with_store(|st| st.backup_to(&folder.join(name)))
    })
}

/// The backups folder, the backups in it that can be read (newest first), and the names of
/// files there that end like a backup but fail its checks, so the person hears of them.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn backups(_a: Args<BackupsArgs>) -> Reply<BackupsArgs> {
    let folder = paths::backup_dir();
    let shown = folder.to_string_lossy().into_owned();
    let mut listed = Backups { folder: shown, backups: Vec::new(), damaged: Vec::new() };
    let Ok(dir) = std::fs::read_dir(&folder) else { return Ok(listed) };
    for path in dir.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == backup::EXTENSION)) {
        // Only the name crosses to the window.
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        match backup::inspect(&path) {
            Ok(info) => listed.backups.push(BackupInfo { file: name, ..info }),
            Err(_) => listed.damaged.push(name),
        }
    }
    listed.backups.sort_by_key(|b| std::cmp::Reverse(b.created_at));
    listed.damaged.sort();
    Ok(listed)
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn restore_backup(state: State<'_, AppState>, a: Args<RestoreBackup>) -> Reply<RestoreBackup> {
    let Args(RestoreBackup { file, passphrase }) = a;
    state.with(|s| {
        let bare = std::path::Path::new(&file);
        if bare.components().count() != 1 || bare.file_name().is_none() || !file.ends_with(backup::EXTENSION) {
            return Err(Error::invalid("file", Problem::NotAllowed));
        }
        s.restore(&paths::backup_dir().join(bare), &passphrase)
    })
}

/// A diary that will not open (damaged) is moved aside, whole, so a backup can be restored in
/// its place; the reply is the folder it went to, to tell the person.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn set_aside_diary(state: State<'_, AppState>, _a: Args<SetAsideDiary>) -> Reply<SetAsideDiary> {
    state.with(|s| Ok(s.set_aside()?.to_string_lossy().into_owned()))
}
