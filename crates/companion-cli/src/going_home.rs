//! `companion care-team`, `companion ruleset show` and `companion plan show`: what the clinic
//! sent for the patient's care at home, as this diary keeps it offline.

use crate::open;
use clap::Subcommand;
use companion_core::clock::SharedClock;
use companion_core::store::CareTeamNow;
use std::io::Write;
use std::path::Path;

#[derive(Subcommand)]
pub enum RulesetAction {
    /// The safety ruleset in force: the clinic's (signed, verified) or the app's shipped one;
    /// since when, the clinic key's fingerprint, and the last one refused and why.
    Show {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum PlanAction {
    /// The clinic's going-home plan: treatment, check-ins, what to watch for, advice.
    Show {
        #[arg(long)]
        json: bool,
    },
}

pub fn day_name(d: &str) -> &'static str {
    match d {
        "mon" => "Monday",
        "tue" => "Tuesday",
        "wed" => "Wednesday",
        "thu" => "Thursday",
        "fri" => "Friday",
        "sat" => "Saturday",
        _ => "Sunday",
    }
}

fn role_name(role: &str) -> &'static str {
    match role {
        "ward" => "Ward",
        "contact_nurse" => "Contact nurse",
        "coordinator" => "Cancer coordinator",
        "gp" => "GP",
        "out_of_hours" => "Out-of-hours doctor",
        _ => "Emergency",
    }
}

pub fn care_team(dir: &Path, clock: SharedClock, json: bool, out: &mut impl Write) -> anyhow::Result<()> {
    let team: CareTeamNow = open(dir, clock)?.care_team()?;
    if json {
        serde_json::to_writer_pretty(&mut *out, &team)?;
        writeln!(out)?;
        return Ok(());
    }
    if team.contacts.is_empty() {
        writeln!(out, "The clinic has not sent its contacts yet (they come with the first sync after pairing).")?;
    }
    for c in &team.contacts {
        let state = match (&c.staffed.open, &c.staffed.until, &c.staffed.opens_day, &c.staffed.opens_at) {
            (true, Some(u), _, _) => format!("open until {u}"),
            (true, None, _, _) => "always open".to_owned(),
            (false, _, Some(d), Some(t)) => format!("closed now, opens {} at {t}", day_name(d)),
            _ => "closed now".to_owned(),
        };
        writeln!(out, "{}: {} {} ({state})", role_name(&c.contact.role), c.contact.name, c.contact.phone)?;
    }
    if let Some(own) = &team.own_ward_phone {
        writeln!(out, "Your own number for the ward: {own} (you typed it; not from the clinic)")?;
    }
    let now = &team.call_now;
    let who = now.name.clone().unwrap_or_else(|| role_name(&now.role).to_owned());
    match &now.ward {
        Some(w) if !w.open => writeln!(out, "Call now: the ward is closed now: call {} ({who})", now.phone)?,
        Some(w) => {
            writeln!(out, "Call now: {who} {}{}", now.phone, w.until.as_deref().map(|u| format!(", open until {u}")).unwrap_or_default())?
        }
        None => writeln!(out, "Call now: {who} {}", now.phone)?,
    }
    writeln!(out, "In an emergency call 113. This app is not an emergency service.")?;
    Ok(())
}

pub fn ruleset(dir: &Path, clock: SharedClock, action: RulesetAction, out: &mut impl Write) -> anyhow::Result<()> {
    let RulesetAction::Show { json } = action;
    let status = open(dir, clock)?.ruleset_status()?;
    if json {
        serde_json::to_writer_pretty(&mut *out, &status)?;
        writeln!(out)?;
        return Ok(());
    }
    match (status.source, status.since) {
        ("clinic", Some(since)) => writeln!(out, "ruleset {} {} from the clinic, in force since {since}", status.id, status.version)?,
        _ => writeln!(out, "ruleset {} {} (shipped with the app)", status.id, status.version)?,
    }
    if let Some(k) = &status.key_fingerprint {
        writeln!(out, "clinic key fingerprint {k}")?;
    }
    if let Some(r) = &status.refused {
        let what = r.version.as_deref().map(|v| format!(" version {v}")).unwrap_or_default();
        let why = match r.reason.as_str() {
            "bad_signature" => "its signature does not match the clinic's key".to_owned(),
            "not_newer" => "it is not newer than the one in force".to_owned(),
            _ => format!("it breaks the app's safety floors ({})", r.field.as_deref().unwrap_or("the ruleset")),
        };
        writeln!(out, "refused at {}: a ruleset{what}, because {why}; the one above stays in force", r.at)?;
    }
    Ok(())
}

pub fn plan(dir: &Path, clock: SharedClock, action: PlanAction, out: &mut impl Write) -> anyhow::Result<()> {
    let PlanAction::Show { json } = action;
    let store = open(dir, clock)?;
    let plan = store.plan()?;
    if json {
        let schedules = store.schedules()?;
        serde_json::to_writer_pretty(
            &mut *out,
            &serde_json::json!({ "plan": plan, "schedules": schedules, "appointments": store.appointments()? }),
        )?;
        writeln!(out)?;
        return Ok(());
    }
    let Some(p) = plan else {
        writeln!(out, "no plan from the clinic yet")?;
        return Ok(());
    };
    writeln!(out, "going-home plan from the clinic, since {}", p.since)?;
    let treatment: Vec<&str> = p.plan.treatment.iter().map(|t| t.as_str()).collect();
    if !treatment.is_empty() {
        writeln!(out, "treatment: {}", treatment.join(", "))?;
    }
    for s in store.schedules()?.iter().filter(|s| s.source == "clinic") {
        writeln!(out, "check-in {} every {} day(s): {} ({})", s.instrument, s.every_days, s.state, s.due_at)?;
    }
    for w in &p.plan.watch_for {
        writeln!(out, "watch for: {w}")?;
    }
    for a in &p.plan.advice {
        writeln!(out, "advice: {a}")?;
    }
    for a in store.appointments()? {
        writeln!(out, "appointment {}{}", a.start, a.description.map(|d| format!(": {d}")).unwrap_or_default())?;
    }
    Ok(())
}
