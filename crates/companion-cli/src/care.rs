//! `companion treatment` and `companion advice`, and how advice and check-in results are
//! printed: the safety side of the command line.

use crate::{entry_id, open, whole_number};
use clap::Subcommand;
use companion_core::clock::SharedClock;
use companion_core::instruments::{Instrument, Item9};
use companion_core::rules::{Contacts, Level};
use companion_core::store::{Advice, Saved};
use companion_core::treatment::Treatment;
use companion_core::{EntryData, Error, Problem};
use std::io::Write;
use std::path::Path;

#[derive(Subcommand)]
pub enum TreatmentAction {
    /// Set the treatments you are on (safety advice depends on them): comma-separated from
    /// chemotherapy, immunotherapy, radiotherapy, targeted-therapy, hormone-therapy; or --none.
    Set {
        #[arg(long, value_name = "LIST", conflicts_with = "none", required_unless_present = "none")]
        on: Option<String>,
        /// You are on none of them.
        #[arg(long)]
        none: bool,
    },
    /// The treatments set.
    Show {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum AdviceAction {
    /// The advice Companion showed, newest first: when, how urgent, which rule, about which
    /// record (and whether it was withdrawn since), and when "I understand" was pressed.
    List {
        #[arg(long)]
        json: bool,
        /// How many days back (1-365).
        #[arg(long, default_value = "30")]
        days: String,
    },
    /// Record "I understand" on a piece of advice (its id from `advice list` or an `add --json`).
    Ack {
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

pub fn treatment(dir: &Path, clock: SharedClock, action: TreatmentAction, out: &mut impl Write) -> anyhow::Result<()> {
    let (list, json, by_clinic) = match action {
        TreatmentAction::Set { on, none } => {
            let wanted =
                if none { Vec::new() } else { Treatment::parse_list("on", on.as_deref().unwrap_or_default()).map_err(Error::from)? };
            if !none && wanted.is_empty() {
                return Err(Error::invalid("on", Problem::Required).into());
            }
            let mut store = open(dir, clock)?;
            (store.set_treatments(&wanted)?, false, store.treatments_from_clinic()?)
        }
        TreatmentAction::Show { json } => {
            let store = open(dir, clock)?;
            (store.treatments()?, json, store.treatments_from_clinic()?)
        }
    };
    if json {
        let set_by = if by_clinic { "clinic" } else { "patient" };
        serde_json::to_writer_pretty(&mut *out, &serde_json::json!({ "treatments": list, "set_by": set_by }))?;
        writeln!(out)?;
    } else if list.is_empty() {
        writeln!(out, "no treatment set")?;
    } else {
        let from = if by_clinic { " (from the clinic's plan; if it is wrong, tell the clinic)" } else { "" };
        writeln!(out, "{}{from}", list.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", "))?;
    }
    Ok(())
}

pub fn advice(dir: &Path, clock: SharedClock, action: AdviceAction, out: &mut impl Write) -> anyhow::Result<()> {
    match action {
        AdviceAction::List { json, days } => {
            let days = whole_number("days", &days)?;
            if !(1..=companion_core::store::MAX_SUMMARY_DAYS).contains(&days) {
                // Checked before the passphrase is asked, as the store would.
                return Err(Error::invalid("days", Problem::OutOfRange { min: 1.0, max: 365.0 }).into());
            }
            let list = open(dir, clock)?.advice_shown(days)?;
            if json {
                serde_json::to_writer_pretty(&mut *out, &list)?;
                writeln!(out)?;
                return Ok(());
            }
            if list.is_empty() {
                writeln!(out, "no advice shown in the last {days} days")?;
            }
            for a in &list {
                writeln!(out, "{}  {}", advice_line(a), a.id)?;
            }
        }
        AdviceAction::Ack { ids } => {
            let ids = ids.iter().map(|i| entry_id(i)).collect::<anyhow::Result<Vec<_>>>()?;
            for a in open(dir, clock)?.acknowledge_advice(&ids)? {
                let at = a.acknowledged_at.map(|t| t.to_rfc3339()).unwrap_or_default();
                writeln!(out, "{} understood at {at}", a.id)?;
            }
        }
    }
    Ok(())
}

/// One piece of advice shown, on one line: when, how urgent, the rule, what about, who
/// understood it when, and whether its record was withdrawn since.
pub fn advice_line(a: &Advice) -> String {
    let acks: Vec<String> = a.acknowledgements.iter().map(|k| format!("{} by {}", k.at.format("%Y-%m-%d %H:%M"), k.by.name)).collect();
    let ack = if acks.is_empty() { "not acknowledged".to_owned() } else { format!("understood {}", acks.join(", ")) };
    let withdrawn = if a.withdrawn { "  (the record was withdrawn since)" } else { "" };
    format!(
        "{}  {:<12} {:<26} {:<11} {ack}{withdrawn}  {}",
        a.raised_at.format("%Y-%m-%d %H:%M"),
        a.level.as_str(),
        a.rule,
        a.record_kind.as_str(),
        // "Measure again" is the person's to do: not an alert for the care team.
        if a.level == companion_core::rules::Level::Recheck { String::new() } else { receipt_words(&a.receipt) }
    )
}

/// Where the clinic is with a piece of advice, never more than it said: until its receipt
/// arrives, the clinic has not been told.
pub fn receipt_words(r: &companion_core::store::receipts::Receipt) -> String {
    let at = |t: &chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M").to_string();
    let mut parts = Vec::new();
    match (&r.sent_at, &r.received_at) {
        (_, Some(t)) => parts.push(format!("received by the clinic {} (a nurse may not have seen it yet)", at(t))),
        (Some(t), None) => parts.push(format!("sent {}, the clinic has not confirmed it yet: call if you need help now", at(t))),
        (None, None) => parts.push("Companion has not told the clinic: call if you need help now".to_owned()),
    }
    if let (Some(t), None) = (&r.taken_at, &r.closed_at) {
        parts.push(format!("{} is looking at this ({})", r.taken_by.as_deref().unwrap_or("a nurse"), at(t)));
    }
    if r.closed_at.is_none() && r.outcome.as_deref() == Some("no_answer") {
        parts.push("the clinic tried to call you and could not reach you: call them back".to_owned());
    }
    if let Some(t) = &r.closed_at {
        parts.push(format!("closed {}: {}", at(t), r.outcome.as_deref().unwrap_or("done")));
    }
    if let Some(m) = &r.message {
        parts.push(format!("message: {m}"));
    }
    parts.join("; ")
}

fn number(a: &Advice, role: &str) -> String {
    a.contacts.iter().find(|c| c.role == role).and_then(|c| c.number.clone()).unwrap_or_default()
}

/// What the advice asks the person to do, in plain words, with the ruleset's numbers. It never
/// says the clinic was told.
fn advice_text(a: &Advice) -> String {
    match a.level {
        Level::Emergency => format!("Call {} now.", number(a, "emergency")),
        Level::Crisis => "You said you have had thoughts of being better off dead or of hurting yourself. Get help now: \
                          you do not have to deal with this alone."
            .into(),
        Level::CallNow => match &a.ward_staffed {
            Some(s) if s.open => format!("Call the cancer ward now.{}", open_until(s)),
            Some(_) => {
                format!("The ward is closed now: call {} now.", a.contacts.first().and_then(|c| c.number.as_deref()).unwrap_or("116 117"))
            }
            None => "Call the cancer ward now.".into(),
        },
        Level::Contact24h => match &a.ward_staffed {
            Some(s) if !s.open => format!("Contact the cancer ward within 24 hours.{}", opens(s)),
            Some(s) => format!("Contact the cancer ward within 24 hours.{}", open_until(s)),
            None => "Contact the cancer ward within 24 hours.".into(),
        },
        Level::ContactTeam => "Tell your care team about this at your next contact, or sooner if you are worried.".into(),
        Level::Recheck => {
            let when = a.follow_up_at.map(|t| format!(" (a reminder is set for {})", t.format("%H:%M UTC"))).unwrap_or_default();
            let fever = a.fever_from.map(|f| format!(" If it is {f:.1} °C or more then, call the cancer ward.")).unwrap_or_default();
            format!("Measure your temperature again in one hour{when}.{fever} Call at once if you feel unwell or start shivering.")
        }
    }
}

fn open_until(s: &companion_core::care_team::Staffed) -> String {
    s.until.as_deref().map(|u| format!(" The ward is open until {u}.")).unwrap_or_default()
}

fn opens(s: &companion_core::care_team::Staffed) -> String {
    match (&s.opens_day, &s.opens_at) {
        (Some(d), Some(t)) => format!(" The ward is closed now; it opens {} at {t}.", crate::going_home::day_name(d)),
        _ => " The ward is closed now.".into(),
    }
}

pub fn print_advice(advice: &[Advice], out: &mut impl Write) -> anyhow::Result<()> {
    for a in advice {
        let calls: Vec<String> = a
            .contacts
            .iter()
            .map(|c| {
                let role = match c.role.as_str() {
                    "emergency" => "emergency",
                    "out_of_hours" => "out-of-hours doctor",
                    "helpline" => "Mental Helse helpline",
                    "contact_nurse" => "contact nurse",
                    _ if c.source == "patient" => "cancer ward (the number you gave)",
                    _ => "cancer ward",
                };
                let who = c.name.clone().unwrap_or_else(|| role.to_owned());
                format!("{who} {}", c.number.as_deref().unwrap_or("(number not set: companion ward-phone NUMBER)"))
            })
            .collect();
        writeln!(out, "ADVICE [{}] ({}) {}", a.level.as_str(), a.rule, advice_text(a))?;
        if !calls.is_empty() {
            writeln!(out, "  Call: {}", calls.join("; "))?;
        }
    }
    if !advice.is_empty() {
        writeln!(out, "  Companion has not told the clinic. This app is not an emergency service.")?;
    }
    Ok(())
}

/// A check-in's result. A PHQ-9 always says how item 9 was answered: a positive answer repeats
/// the crisis numbers whatever the total, and a skipped one says the risk was not asked about.
pub fn print_assessment(
    instrument: &Instrument,
    saved: &Saved,
    contacts: &Contacts,
    json: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let EntryData::Assessment { score, answers, scoring, .. } = &saved.entry.data else {
        return Err(Error::Internal("not an assessment").into());
    };
    let item9 = Item9::of(*scoring, score, answers);
    if json {
        let mut v = serde_json::json!({
            "id": saved.entry.id,
            "instrument": instrument.id,
            "questionnaire": instrument.questionnaire.canonical(),
            "total": score.total,
            "max": score.max,
            "band": score.band,
            "positive": score.positive,
            "next": score.next,
            "missing": score.missing,
            "items": score.items,
            "subscores": score.subscores,
            "advice": saved.advice,
            // Its name before, kept for scripts.
            "alerts": saved.advice,
        });
        if let Some(i) = &item9 {
            v["item9"] = serde_json::json!(i.value);
        }
        if let Some(by) = companion_core::instruments::CompletedBy::of(answers) {
            v["completed_by"] = serde_json::json!(by);
        }
        serde_json::to_writer_pretty(&mut *out, &v)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "{}", saved.entry.id)?;
    match score.total {
        Some(t) => writeln!(
            out,
            "{}: {t} of {}{}",
            instrument.questionnaire.title,
            score.max,
            score.band.as_deref().map(|b| format!(", {b}")).unwrap_or_default()
        )?,
        None => writeln!(out, "{}: no total, {} scored item(s) unanswered", instrument.questionnaire.title, score.missing.len())?,
    }
    match item9 {
        Some(Item9 { value: None, .. }) => writeln!(
            out,
            "Question 9 (thoughts of being better off dead or of hurting yourself) was not answered, so this result does not \
             tell whether you are at risk. If you have such thoughts, get help now: {} (emergency), {} (Mental Helse helpline).",
            contacts.emergency, contacts.helpline
        )?,
        Some(Item9 { value: Some(v), answer }) if v > 0 => writeln!(
            out,
            "Question 9: answered that you have had thoughts of being better off dead or of hurting yourself: {}.",
            answer.as_deref().unwrap_or("yes")
        )?,
        _ => {}
    }
    if let Some(next) = &score.next {
        writeln!(out, "The screen is positive: go on to the full form ({next}).")?;
    }
    print_advice(&saved.advice, out)
}
