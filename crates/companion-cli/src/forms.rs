//! `companion instruments` and `companion schedule`: the validated instruments this build ships,
//! and how often each is due.

use crate::*;
use clap::Subcommand;
use std::io::Write;
use std::path::Path;

#[derive(Subcommand)]
pub enum InstrumentsAction {
    /// The validated instruments this build ships.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum ScheduleAction {
    /// Every schedule and whether it is due.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Make a check-in due every N days (1-365), or stop it with --off.
    Set {
        #[arg(long)]
        instrument: String,
        #[arg(long, conflicts_with = "off")]
        every_days: Option<String>,
        #[arg(long)]
        off: bool,
    },
}

pub fn list_instruments(json: bool, out: &mut impl Write) -> anyhow::Result<()> {
    let all = companion_core::instruments::all();
    if json {
        let list: Vec<_> = all
            .iter()
            .map(|i| {
                serde_json::json!({
                    "id": i.id, "title": i.questionnaire.title, "questionnaire": i.questionnaire.canonical(),
                    "items": i.scored_items.len(), "max_total": i.max_total, "bands": i.bands,
                    "full_form": i.full_form,
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut *out, &list)?;
        writeln!(out)?;
    } else {
        for i in all {
            writeln!(out, "{:<7} {} ({} scored items, total 0-{})", i.id, i.questionnaire.title, i.scored_items.len(), i.max_total)?;
        }
    }
    Ok(())
}

pub fn schedule(dir: &Path, clock: companion_core::clock::SharedClock, action: ScheduleAction, out: &mut impl Write) -> anyhow::Result<()> {
    let mut store = open(dir, clock)?;
    let (schedules, json) = match action {
        ScheduleAction::List { json } => (store.schedules()?, json),
        ScheduleAction::Set { instrument, every_days, off } => {
            let days = if off { None } else { Some(whole_number("every_days", every_days.as_deref().unwrap_or(""))?) };
            (store.set_schedule(&instrument, days)?, false)
        }
    };
    if json {
        serde_json::to_writer_pretty(&mut *out, &schedules)?;
        writeln!(out)?;
    } else {
        for s in schedules {
            writeln!(out, "{:<7} every {} days, {} (due {})", s.instrument, s.every_days, s.state, s.due_at.format("%Y-%m-%d %H:%M"))?;
        }
    }
    Ok(())
}
