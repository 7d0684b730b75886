//! `companion pair` and `companion sync`: connecting to the clinic's server (or, in an empty
//! folder, joining as a carer with an invitation), and a sync round.

use crate::*;
use std::io::Write;
use std::path::Path;

pub fn pair(
    dir: &Path,
    clock: companion_core::clock::SharedClock,
    server: &str,
    code: &str,
    ca_file: Option<PathBuf>,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    companion_core::sync::check_server(server)?;
    let ca = match ca_file {
        Some(path) => {
            let pem = std::fs::read_to_string(&path).map_err(|_| Error::invalid("ca_file", Problem::BadFormat))?;
            companion_core::sync::check_ca(&pem)?;
            Some(pem)
        }
        None => None,
    };
    if companion_core::store::presence(dir)? == companion_core::store::Presence::Missing {
        // A carer's own device: the invitation sets up a new diary, owned by the carer.
        let pass = new_secret(PASSPHRASE_ENV, "Choose a passphrase")?;
        let (store, recovery) =
            companion_core::sync::block_on(companion_core::sync::join_as_carer(dir, server, code, &pass, ca.as_deref(), clock))??;
        let patient = store.patient()?;
        let me = store.me().clone();
        writeln!(out, "Joined as {}, helping {}.", person_label(&me.name, me.relationship.as_deref()), patient.name)?;
        writeln!(out, "You may: {}", scope_list(&store.allowed()))?;
        writeln!(out, "Recovery code (write it down; it is shown only this once):")?;
        writeln!(out, "{}", recovery.as_str())?;
        store.lock();
        return Ok(());
    }
    let mut store = open(dir, clock)?;
    let link = companion_core::sync::block_on(companion_core::sync::pair_with(&mut store, server, code, ca.as_deref()))??;
    writeln!(out, "Connected to {} (patient {}).", link.server, link.patient)?;
    Ok(())
}

pub fn sync(dir: &Path, clock: companion_core::clock::SharedClock, status: bool, json: bool, out: &mut impl Write) -> anyhow::Result<()> {
    let mut store = open(dir, clock)?;
    let link = store.sync_link()?.ok_or(Error::NotPaired)?;
    if status {
        // What the app's settings show, under the same names.
        let s = companion_core::api::SyncStatus::of(&store, None)?;
        if json {
            serde_json::to_writer_pretty(&mut *out, &s)?;
            writeln!(out)?;
        } else {
            writeln!(out, "connected to {}", link.server)?;
            let last = s.last_success.map(|t| t.to_rfc3339()).unwrap_or_else(|| "never".into());
            let (pending, quarantined) = (s.pending, s.quarantined);
            writeln!(out, "last successful sync: {last}\nwaiting to be sent: {pending}\nrefused by the server: {quarantined}")?;
            if let Some(p) = s.problem {
                writeln!(out, "needs you: {p}")?;
            }
        }
        return Ok(());
    }
    let report = companion_core::sync::block_on(companion_core::sync::sync_once(&mut store))??;
    if json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        writeln!(out, "sent {}, received {}, refused {}, waiting {}", report.sent, report.received, report.refused, report.pending)?;
        if report.merged > 0 {
            writeln!(out, "merged {} record(s) changed on another device", report.merged)?;
        }
    }
    match report.outcome {
        companion_core::sync::Outcome::Done => {}
        companion_core::sync::Outcome::Later { retry_after_secs, because } => {
            use companion_core::sync::Wait;
            let what = match because {
                Wait::Unreachable => "the clinic server could not be reached",
                Wait::Busy => "the clinic server is busy",
                Wait::ServerError => "the clinic server had a problem",
            };
            return Err(anyhow::anyhow!("{what}; nothing was lost, and the next try is possible in {retry_after_secs} seconds"));
        }
        companion_core::sync::Outcome::PairAgain => {
            return Err(anyhow::anyhow!("the clinic no longer accepts this device's credential; pair again"));
        }
        companion_core::sync::Outcome::Revoked if store.is_carer_device() => {
            return Err(anyhow::anyhow!(
                "your access to {}'s diary has ended (removed by the patient, or its time ran out)",
                store.patient()?.name
            ));
        }
        companion_core::sync::Outcome::Revoked => {
            return Err(anyhow::anyhow!("the clinic has revoked this device's access"));
        }
    }
    Ok(())
}

/// Who at the clinic opened the record: when, who, their role, what.
pub fn access_log(dir: &Path, clock: companion_core::clock::SharedClock, json: bool, out: &mut impl Write) -> anyhow::Result<()> {
    let list = open(dir, clock)?.access_log()?;
    if json {
        serde_json::to_writer_pretty(&mut *out, &list)?;
        writeln!(out)?;
        return Ok(());
    }
    if list.is_empty() {
        writeln!(out, "no one at the clinic had opened your record as of the last sync")?;
    }
    for a in &list {
        writeln!(out, "{}  {} ({})  {}", a.at.format("%Y-%m-%d %H:%M"), a.who, a.role, a.what)?;
    }
    Ok(())
}
