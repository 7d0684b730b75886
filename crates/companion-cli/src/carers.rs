//! `companion carer`: carers on this device and invited to their own.

use crate::*;
use clap::Subcommand;
use std::io::Write;

#[derive(Subcommand)]
pub enum CarerAction {
    /// Add a carer who unlocks this diary with their own passphrase (COMPANION_CARER_PASSPHRASE,
    /// else asked). Your own passphrase (COMPANION_PASSPHRASE) confirms it is you.
    Add {
        #[arg(long)]
        name: String,
        /// Who they are to you: daughter, husband, neighbour, ...
        #[arg(long)]
        relationship: String,
        /// What they may do, comma-separated: observations (log what they see), questions (see
        /// and add questions), symptoms (see your symptoms and temperatures), checkins (see
        /// your check-ins).
        #[arg(long, default_value = "observations,questions,symptoms")]
        allow: String,
        /// Their passphrase stops working by itself after this many days (and your next
        /// unlock removes them, as `carer remove` would).
        #[arg(long)]
        days: Option<String>,
    },
    /// The carers who can unlock this diary, and what each may do.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a carer: their passphrase stops working at once, and the diary's key is changed.
    /// What they wrote stays. Their access at the clinic ends at the next sync.
    Remove {
        #[arg(long)]
        name: String,
    },
    /// Invite a carer to join from their own device; prints a one-time code for them.
    Invite {
        #[arg(long)]
        name: String,
        /// What they may do (see `carer add`); check-ins only if you say so.
        #[arg(long)]
        allow: String,
        /// Their access ends by itself after this many days.
        #[arg(long)]
        days: Option<String>,
        /// Who they are to you (daughter, neighbour, ...); optional. A carer already on this
        /// device, or invited before, keeps the one you gave unless you give another.
        #[arg(long)]
        relationship: Option<String>,
    },
    /// Share your own check-in (private until you do) with the patient and the clinic.
    Share { id: String },
}

pub(crate) fn scope_list(scopes: &[Scope]) -> String {
    scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
}

/// "Ingrid (daughter)", or just "Ingrid" when no relationship was given.
pub(crate) fn person_label(name: &str, relationship: Option<&str>) -> String {
    match relationship {
        Some(r) => format!("{name} ({r})"),
        None => name.to_owned(),
    }
}

pub fn carer(
    dir: &std::path::Path,
    clock: companion_core::clock::SharedClock,
    action: CarerAction,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match action {
        CarerAction::Add { name, relationship, allow, days } => {
            // Check what can be checked before any passphrase is asked.
            companion_core::domain::person_name(&name).map_err(Error::from)?;
            let allow = Scope::parse_list("allow", &allow).map_err(Error::from)?;
            let days = days.as_deref().map(|d| whole_number("days", d)).transpose()?;
            companion_core::store::check_carer_days(days)?;
            let mine = secret(PASSPHRASE_ENV, "Your passphrase")?;
            let mut store = Store::open(dir, &mine, clock)?;
            let theirs = new_secret(CARER_PASSPHRASE_ENV, "The carer chooses a passphrase")?;
            let added = store.add_carer(&name, &relationship, &theirs, &allow, &mine, days)?;
            let c = &added.carer;
            writeln!(
                out,
                "{} can now unlock this diary with their own passphrase.",
                person_label(&c.person.name, c.person.relationship.as_deref())
            )?;
            writeln!(out, "They may: {}", scope_list(&c.allow))?;
            if let Some(until) = c.until {
                writeln!(out, "Their access ends by itself on {}.", until.format("%Y-%m-%d %H:%M UTC"))?;
            }
            if let Some(code) = added.new_recovery_code {
                writeln!(out, "Your recovery code has been replaced (write it down; it is shown only this once):")?;
                writeln!(out, "{}", code.as_str())?;
            }
        }
        CarerAction::List { json } => {
            let store = open(dir, clock)?;
            if json {
                // What the app's Carers screen reads, under the same names, and `on_this_device`,
                // the name `carers` had before, for scripts.
                let mut v = serde_json::to_value(companion_core::api::CarersReply::of(&store)?)?;
                v["on_this_device"] = v["carers"].clone();
                serde_json::to_writer_pretty(&mut *out, &v)?;
                writeln!(out)?;
                return Ok(());
            }
            let carers = store.carers()?;
            let invited = store.invited_carers()?;
            if carers.is_empty() && invited.is_empty() {
                writeln!(out, "No carers.")?;
            } else {
                for c in carers {
                    let until = c.until.map(|u| format!("  until {}", u.format("%Y-%m-%d"))).unwrap_or_default();
                    writeln!(
                        out,
                        "{}  on this device  may: {}  added {}{until}",
                        person_label(&c.person.name, c.person.relationship.as_deref()),
                        scope_list(&c.allow),
                        c.added_at.format("%Y-%m-%d")
                    )?;
                }
                for i in invited {
                    let until = i.expires_at.as_deref().map(|t| format!("  until {}", &t[..10.min(t.len())])).unwrap_or_default();
                    writeln!(
                        out,
                        "{}  invited to their own device  may: {}{until}",
                        person_label(&i.name, i.relationship.as_deref()),
                        scope_list(&i.allow)
                    )?;
                }
            }
        }
        CarerAction::Remove { name } => {
            let mut store = open(dir, clock)?;
            let here = store.carer_named(&name).is_ok();
            let removed = store.remove_carer(&name)?;
            if here {
                writeln!(out, "{} removed: their passphrase no longer opens this diary.", removed.name)?;
            } else {
                writeln!(out, "{} removed.", removed.name)?;
            }
            if store.carers_to_revoke()?.contains(&removed.id.to_string()) {
                writeln!(out, "Their own device loses access at the next sync with the clinic.")?;
            }
        }
        CarerAction::Invite { name, allow, days, relationship } => {
            let allow = Scope::parse_list("allow", &allow).map_err(Error::from)?;
            let days = days.as_deref().map(|d| whole_number("days", d)).transpose()?;
            let mut store = open(dir, clock)?;
            let invitation = companion_core::sync::block_on(companion_core::sync::invite_carer(
                &mut store,
                &name,
                relationship.as_deref(),
                &allow,
                days,
            ))??;
            writeln!(out, "Invitation code for {name} (one use, valid {} hours):", companion_core::sync::INVITATION_HOURS)?;
            writeln!(out, "{}", invitation.code)?;
            writeln!(out, "They may: {}", scope_list(&allow))?;
            if let Some(until) = invitation.expires_at {
                writeln!(out, "Their access ends by itself on {until}.")?;
            }
        }
        CarerAction::Share { id } => {
            let id = entry_id(&id)?;
            let mut store = open(dir, clock)?;
            let entry = store.share_checkin(id)?;
            writeln!(out, "{} shared with {} and the clinic", entry.id, store.patient()?.name)?;
        }
    }
    Ok(())
}
