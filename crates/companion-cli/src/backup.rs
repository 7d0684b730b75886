//! `companion backup create` and `companion backup restore`: the patient's own encrypted copy
//! of the whole diary.

use crate::*;
use clap::Subcommand;
use companion_core::store::backup;
use std::io::Write;
use std::path::Path;

#[derive(Subcommand)]
pub enum BackupAction {
    /// Write an encrypted backup of the whole diary to a new file. The same passphrases open it.
    Create {
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into this folder, which must hold no diary yet (passphrase from
    /// COMPANION_PASSPHRASE, else asked). A damaged backup is refused whole.
    Restore {
        #[arg(long)]
        from: PathBuf,
    },
    /// Move a diary that will not open (damaged) aside, whole, into a folder of its own here,
    /// so a backup can be restored in its place. Nothing is deleted.
    SetAside,
}

pub fn backup(dir: &Path, clock: companion_core::clock::SharedClock, action: BackupAction, out: &mut impl Write) -> anyhow::Result<()> {
    match action {
        BackupAction::Create { to } => {
            // Checked before the passphrase is asked, so a typo costs no unlock.
            if to.exists() {
                return Err(Error::invalid("to", Problem::NotAllowed).into());
            }
            let store = open(dir, clock)?;
            let info = store.backup_to(&to)?;
            writeln!(out, "Backup of {} records written to {} ({} KB).", info.records, to.display(), info.bytes.div_ceil(1024))?;
            writeln!(out, "Keep it somewhere other than this device. Your passphrase or recovery code opens it.")?;
        }
        BackupAction::Restore { from } => {
            if companion_core::store::presence(dir)? == companion_core::store::Presence::Present {
                return Err(Error::AlreadyInitialised.into());
            }
            if !from.is_file() {
                return Err(anyhow::anyhow!("--from: there is no file at {}", from.display()));
            }
            let info = backup::inspect(&from)?;
            let pass = secret(PASSPHRASE_ENV, "Passphrase")?;
            let store = backup::restore(&from, dir, &pass, clock)?;
            let records = store.timeline(Default::default())?.len();
            writeln!(
                out,
                "Restored the backup of {} into {}: {records} records you can read.",
                info.created_at.to_rfc3339(),
                dir.display()
            )?;
            store.lock();
        }
        BackupAction::SetAside => {
            let aside = backup::set_aside(dir, clock.now())?;
            writeln!(out, "The diary's files are kept, as they were, in {}.", aside.display())?;
            writeln!(out, "This folder is now empty: restore a backup here with `companion backup restore --from FILE`.")?;
        }
    }
    Ok(())
}
