//! `companion`: the command line on the same core and the same store as the app.
//!
//! Every command is a thin adapter: parse flags, call one core function, print. Errors are one
//! line on standard error naming the flag, and the exit status is non-zero. The passphrase comes
//! from `COMPANION_PASSPHRASE`, else it is asked on the terminal without echo.

mod args;
mod backup;
mod care;
mod carers;
mod clinic;
mod forms;
mod going_home;
mod input;
mod print;
mod questions;

use carers::{person_label, scope_list};
use forms::InstrumentsAction;
use input::{decimal, new_secret, secret};
pub(crate) use input::{entry_id, open, whole_number};
use print::{print_entries, print_summary};

use anyhow::Context as _;
use clap::Parser;
use companion_core::domain::{NewCheckin, NewQuestion, NewSymptom, NewTemperature, Scope};
use companion_core::store::TimelineFilter;
use companion_core::{clock, fhir, paths, EntryKind, Error, NewEntry, Problem, QuestionState, Store};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use args::*;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap's own errors span several lines with usage; one line is the contract.
            let text = e.to_string();
            let line = text
                .lines()
                .take_while(|l| !l.starts_with("Usage:"))
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            eprintln!("companion: {} (see --help)", line.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    let dir = cli.data_dir.clone().unwrap_or_else(paths::default_data_dir);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stopped early (`| head`) is not an error.
        Err(e) if closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // A failure to store is said for what it is: no room, no right to write, a limit.
            let e = match e.downcast::<Error>() {
                Ok(core) => anyhow::Error::from(companion_core::fault::explain(core, &dir)),
                Err(other) => other,
            };
            eprintln!("companion: {}", describe(&e));
            ExitCode::FAILURE
        }
    }
}

fn closed_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>().and_then(|j| j.io_error_kind()) == Some(std::io::ErrorKind::BrokenPipe)
    })
}

/// One line for any failure, naming the flag rather than the core's field.
fn describe(err: &anyhow::Error) -> String {
    match err.downcast_ref::<Error>() {
        Some(Error::Invalid(inv)) if inv.field == "code" && inv.problem == companion_core::Problem::NotAllowed => {
            "the pairing code is not valid, was already used, or has expired".into()
        }
        Some(Error::Invalid(inv)) if inv.field == "server" && inv.problem == companion_core::Problem::NotAllowed => {
            "--server must be an https:// address (plain http only to this machine: 127.0.0.1 or localhost)".into()
        }
        Some(Error::Invalid(inv)) => {
            let flag = flag_for(inv.field);
            inv.to_string().replacen(inv.field, &flag, 1)
        }
        Some(Error::WrongPassphrase { retry_after_secs: 0 }) => "wrong passphrase".into(),
        Some(Error::WrongPassphrase { retry_after_secs }) => {
            format!("wrong passphrase; the next try is possible in {retry_after_secs} seconds")
        }
        Some(e) => companion_core::ErrorPayload::from(e).message,
        None => format!("{err:#}").replace('\n', " "),
    }
}

fn flag_for(field: &str) -> String {
    match field {
        "occurred_at" => "--at".into(),
        "passphrase" => format!("passphrase ({PASSPHRASE_ENV})"),
        "new_passphrase" => format!("new passphrase ({NEW_PASSPHRASE_ENV})"),
        "recovery_code" => format!("recovery code ({RECOVERY_CODE_ENV})"),
        "next_visit" => "date".into(),
        "every_days" => "--every-days".into(),
        "ward_phone" => "number".into(),
        "flags" => "--flag".into(),
        "server" => "--server".into(),
        "code" => "--code".into(),
        "carer_passphrase" => format!("carer's passphrase ({CARER_PASSPHRASE_ENV})"),
        "order" | "id" => field.into(),
        other => format!("--{}", other.replace('_', "-")),
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let dir = cli.data_dir.unwrap_or_else(paths::default_data_dir);
    let clock = clock::system();
    let out = &mut std::io::stdout().lock();
    match cli.command {
        Command::Init { name } => {
            if companion_core::store::presence(&dir)? == companion_core::store::Presence::Present {
                return Err(Error::AlreadyInitialised.into());
            }
            // Validate the name before asking for a passphrase.
            companion_core::domain::person_name(&name).map_err(Error::from)?;
            let pass = new_secret(PASSPHRASE_ENV, "Choose a passphrase")?;
            let (store, code) = Store::create(&dir, &name, &pass, clock)?;
            writeln!(out, "Diary created in {}", dir.display())?;
            writeln!(out, "Recovery code (write it down; it is shown only this once):")?;
            writeln!(out, "{}", code.as_str())?;
            store.lock();
        }
        Command::Status => {
            let mut session = companion_core::session::Session::new(&dir, clock);
            let status = session.status()?;
            serde_json::to_writer_pretty(&mut *out, &status)?;
            writeln!(out)?;
        }
        Command::Symptom { action: SymptomAction::Add(a) } => {
            let input = NewEntry::Symptom(NewSymptom {
                symptom: a.symptom,
                other_name: a.other_name,
                severity: whole_number("severity", &a.severity)?,
                note: a.common.note,
                occurred_at: a.common.at,
                flags: a.flags,
            });
            add(&dir, clock, &input, a.common.json, out)?;
        }
        Command::Temperature { action: TemperatureAction::Add { celsius, unwell, common: EntryFlags { note, at, json } } } => {
            let input = NewEntry::Temperature(NewTemperature {
                celsius: decimal("celsius", &celsius)?,
                note,
                occurred_at: at,
                feels_unwell: unwell,
            });
            add(&dir, clock, &input, json, out)?;
        }
        Command::Checkin {
            action: CheckinAction::Add { wellbeing, instrument, answers, completed_by, common: EntryFlags { note, at, json } },
        } => {
            match (wellbeing, instrument) {
                (Some(wellbeing), None) => {
                    let input = NewEntry::Checkin(NewCheckin { wellbeing: whole_number("wellbeing", &wellbeing)?, note, occurred_at: at });
                    add(&dir, clock, &input, json, out)?;
                }
                (None, Some(instrument)) => {
                    let instrument = companion_core::instruments::get(&instrument)?;
                    let values =
                        answers.unwrap_or_default().split(',').map(|v| whole_number("answers", v)).collect::<Result<Vec<_>, _>>()?;
                    let mut answers = instrument.answers_from_values(&values)?;
                    if let Some(by) = completed_by {
                        let by = companion_core::instruments::CompletedBy::ALL
                            .into_iter()
                            .find(|c| c.code() == by.trim())
                            .ok_or(Error::invalid("completed_by", Problem::Unknown))?;
                        let value =
                            companion_core::instruments::AnswerValue::Coding { system: None, code: by.code().into(), display: None };
                        answers.push(companion_core::instruments::ItemAnswer {
                            link_id: companion_core::instruments::COMPLETED_BY.into(),
                            value,
                        });
                    }
                    // Check before asking for the passphrase, so a typo costs no unlock.
                    instrument.check(&answers)?;
                    companion_core::domain::occurred_at(at.as_deref(), clock.now()).map_err(Error::from)?;
                    let mut store = open(&dir, clock)?;
                    let saved = store.add_assessment(instrument.id, &answers, at.as_deref())?;
                    care::print_assessment(instrument, &saved, &store.ruleset().contacts, json, out)?;
                }
                _ => return Err(Error::invalid("wellbeing", companion_core::Problem::Required).into()),
            }
        }
        Command::Instruments { action: InstrumentsAction::List { json } } => forms::list_instruments(json, out)?,
        Command::Schedule { action } => forms::schedule(&dir, clock, action, out)?,
        Command::Pair { server, code, ca_file } => clinic::pair(&dir, clock, &server, &code, ca_file, out)?,
        Command::Sync { status, json } => clinic::sync(&dir, clock, status, json, out)?,
        Command::AccessLog { json } => clinic::access_log(&dir, clock, json, out)?,
        Command::WardPhone { number, clear } => {
            let mut store = open(&dir, clock)?;
            let now = match (number, clear) {
                (Some(n), _) => store.set_ward_phone(Some(&n))?,
                (None, true) => store.set_ward_phone(None)?,
                (None, false) => store.ward_phone()?,
            };
            writeln!(out, "{}", now.as_deref().unwrap_or("(not set)"))?;
        }
        Command::Question { action } => questions::question(&dir, clock, action, out)?,
        Command::Treatment { action } => care::treatment(&dir, clock, action, out)?,
        Command::CareTeam { json } => going_home::care_team(&dir, clock, json, out)?,
        Command::Ruleset { action } => going_home::ruleset(&dir, clock, action, out)?,
        Command::Plan { action } => going_home::plan(&dir, clock, action, out)?,
        Command::Advice { action } => care::advice(&dir, clock, action, out)?,
        Command::Carer { action } => carers::carer(&dir, clock, action, out)?,
        Command::Backup { action } => backup::backup(&dir, clock, action, out)?,
        Command::List { json, kind } => {
            let kind = kind.as_deref().map(EntryKind::parse).transpose().map_err(Error::from)?;
            let store = open(&dir, clock)?;
            let entries = store.timeline(TimelineFilter { kind })?;
            print_entries(&entries, json, out)?;
        }
        Command::Summary { days, json, pdf } => {
            let days = whole_number("days", &days)?;
            let store = open(&dir, clock)?;
            if let Some(file) = pdf {
                let bytes = store.summary_pdf(days, companion_core::prefs::Language::En)?;
                // Whole or not at all, and never over a file that is there.
                companion_core::files::write_new(&file, &bytes).with_context(|| format!("{}", file.display()))?;
                writeln!(out, "summary for the last {days} days written to {}", file.display())?;
                return Ok(());
            }
            let summary = store.visit_summary(days)?;
            if json {
                serde_json::to_writer_pretty(&mut *out, &summary)?;
                writeln!(out)?;
            } else {
                print_summary(&summary, days, out)?;
            }
        }
        Command::History { id } => {
            let id = entry_id(&id)?;
            let store = open(&dir, clock)?;
            serde_json::to_writer_pretty(&mut *out, &store.history(id)?)?;
            writeln!(out)?;
        }
        Command::Withdraw { id } => {
            let id = entry_id(&id)?;
            let mut store = open(&dir, clock)?;
            let entry = store.withdraw(id)?;
            writeln!(out, "{} withdrawn (entered in error)", entry.id)?;
        }
        Command::Export { format: ExportFormat::Fhir } => {
            let store = open(&dir, clock)?;
            serde_json::to_writer_pretty(&mut *out, &fhir::export_bundle(&store)?)?;
            writeln!(out)?;
        }
        Command::Recover => {
            let code = secret(RECOVERY_CODE_ENV, "Recovery code")?;
            let pass = new_secret(NEW_PASSPHRASE_ENV, "Choose a new passphrase")?;
            Store::recover(&dir, &code, &pass, clock)?.lock();
            writeln!(out, "New passphrase set. The recovery code still works.")?;
        }
        Command::Passphrase { action: PassphraseAction::Change } => {
            let current = secret(PASSPHRASE_ENV, "Current passphrase")?;
            let mut store = Store::open(&dir, &current, clock)?;
            let new = new_secret(NEW_PASSPHRASE_ENV, "New passphrase")?;
            store.change_passphrase(&current, &new)?;
            writeln!(out, "Passphrase changed.")?;
        }
        Command::RecoveryCode => {
            let mut store = open(&dir, clock)?;
            let code = store.new_recovery_code()?;
            writeln!(out, "New recovery code (the old one no longer works):")?;
            writeln!(out, "{}", code.as_str())?;
        }
    }
    Ok(())
}

fn add(
    dir: &std::path::Path,
    clock: companion_core::clock::SharedClock,
    input: &NewEntry,
    json: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    // Validate before asking for a passphrase, so a typo costs no unlock.
    input.validate(clock.now()).map_err(Error::from)?;
    let mut store = open(dir, clock)?;
    let saved = store.save(input)?;
    if json {
        // The app's `Saved` (`entry`, `advice`), and `alerts`, its name before, for scripts.
        let mut v = serde_json::to_value(&saved)?;
        v["alerts"] = v["advice"].clone();
        serde_json::to_writer_pretty(&mut *out, &v)?;
        writeln!(out)?;
    } else {
        writeln!(out, "{}", saved.entry.id)?;
        care::print_advice(&saved.advice, out)?;
    }
    Ok(())
}
