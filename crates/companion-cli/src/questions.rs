//! `companion question`: questions for the next visit.

use crate::*;
use clap::Subcommand;
use std::io::Write;

#[derive(Subcommand)]
pub enum QuestionAction {
    Add {
        #[arg(long)]
        text: String,
    },
    /// Open questions in their order, then the rest.
    List {
        #[arg(long)]
        json: bool,
    },
    Edit {
        id: String,
        #[arg(long)]
        text: String,
    },
    /// Set the state: open, asked, answered (with --answer) or archived.
    Mark {
        id: String,
        #[arg(long)]
        state: String,
        #[arg(long)]
        answer: Option<String>,
    },
    /// Set the order of the open questions: all their ids, first to last.
    Reorder { ids: Vec<String> },
    /// Set (YYYY-MM-DD) or clear (no date) the date of the next visit.
    NextVisit { date: Option<String> },
}

pub fn question(
    dir: &std::path::Path,
    clock: companion_core::clock::SharedClock,
    action: QuestionAction,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    match action {
        QuestionAction::Add { text } => add(dir, clock, &NewEntry::Question(NewQuestion { text }), false, out)?,
        QuestionAction::List { json } => {
            let store = open(dir, clock)?;
            let questions = store.questions()?;
            print_entries(&questions, json, out)?;
            if !json {
                if let Some(date) = store.next_visit()? {
                    writeln!(out, "next visit: {date}")?;
                }
                for a in store.appointments()? {
                    writeln!(out, "visit booked by the clinic: {}", a.start.format("%Y-%m-%d %H:%M UTC"))?;
                }
                for a in store.clinic_answers()? {
                    writeln!(out, "answer from the clinic to {}: {}", a.question, a.text)?;
                }
            }
        }
        QuestionAction::Edit { id, text } => {
            let id = entry_id(&id)?;
            let entry = open(dir, clock)?.edit_question(id, &text)?;
            writeln!(out, "{} version {}", entry.id, entry.version)?;
        }
        QuestionAction::Mark { id, state, answer } => {
            let id = entry_id(&id)?;
            let state = QuestionState::parse(&state).map_err(Error::from)?;
            let entry = open(dir, clock)?.set_question_state(id, state, answer.as_deref())?;
            writeln!(out, "{} version {}", entry.id, entry.version)?;
        }
        QuestionAction::Reorder { ids } => {
            let ids = ids.iter().map(|s| entry_id(s)).collect::<anyhow::Result<Vec<_>>>()?;
            let questions = open(dir, clock)?.reorder_questions(&ids)?;
            print_entries(&questions, false, out)?;
        }
        QuestionAction::NextVisit { date } => {
            let set = open(dir, clock)?.set_next_visit(date.as_deref())?;
            match set {
                Some(d) => writeln!(out, "next visit: {d}")?,
                None => writeln!(out, "next visit cleared")?,
            }
        }
    }
    Ok(())
}
