//! `companion`: the command line on the same core and the same store as the app.
//!
//! Every command is a thin adapter: parse flags, call one core function, print. Errors are one
//! line on standard error naming the flag, and the exit status is non-zero. The passphrase comes
//! from `COMPANION_PASSPHRASE`, else it is asked on the terminal without echo.

mod care;
mod print;

use print::{print_entries, print_summary};

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use companion_core::domain::{NewCheckin, NewQuestion, NewSymptom, NewTemperature, Scope};
use companion_core::store::TimelineFilter;
use companion_core::{clock, fhir, paths, EntryKind, Error, NewEntry, Problem, QuestionState, Store};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

const PASSPHRASE_ENV: &str = "COMPANION_PASSPHRASE";
const NEW_PASSPHRASE_ENV: &str = "COMPANION_NEW_PASSPHRASE";
const RECOVERY_CODE_ENV: &str = "COMPANION_RECOVERY_CODE";
const CARER_PASSPHRASE_ENV: &str = "COMPANION_CARER_PASSPHRASE";

#[derive(Parser)]
#[command(name = "companion", version, about = "Companion's diary from the command line")]
struct Cli {
    /// The diary's folder. Defaults to the folder the app uses (or COMPANION_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Set up a new diary; prints the recovery code once.
    Init {
        /// The patient's name as it should appear in records.
        #[arg(long)]
        name: String,
    },
    /// Whether a diary exists here and whether it is waiting after wrong passphrases.
    Status,
    /// Log a symptom.
    Symptom {
        #[command(subcommand)]
        action: SymptomAction,
    },
    /// Log a temperature.
    Temperature {
        #[command(subcommand)]
        action: TemperatureAction,
    },
    /// A quick check-in on how you feel today.
    Checkin {
        #[command(subcommand)]
        action: CheckinAction,
    },
    /// Questions for the next visit.
    Question {
        #[command(subcommand)]
        action: QuestionAction,
    },
    /// All entries, newest first.
    List {
        /// One JSON array instead of lines of text.
        #[arg(long)]
        json: bool,
        /// Only entries of this kind.
        #[arg(long)]
        kind: Option<String>,
    },
    /// The summary for the visit: what each person reported over the last days, the advice
    /// shown, where patient and carer see things differently, and the questions still to ask.
    Summary {
        /// How many days back (1-365).
        #[arg(long, default_value = "14")]
        days: String,
        #[arg(long)]
        json: bool,
    },
    /// Every version of one entry, oldest first, as JSON.
    History { id: String },
    /// Mark an entry as entered in error. It is kept, never erased.
    Withdraw { id: String },
    /// Export all records.
    Export {
        #[arg(long, value_enum)]
        format: ExportFormat,
    },
    /// Set a new passphrase with the recovery code (from COMPANION_RECOVERY_CODE, else asked).
    Recover,
    /// Passphrase management.
    Passphrase {
        #[command(subcommand)]
        action: PassphraseAction,
    },
    /// Replace the recovery code with a new one and print it once.
    RecoveryCode,
    /// The validated instruments (PHQ-9, GAD-7, ESAS-r, ...).
    Instruments {
        #[command(subcommand)]
        action: InstrumentsAction,
    },
    /// How often each check-in is due.
    Schedule {
        #[command(subcommand)]
        action: ScheduleAction,
    },
    /// Next of kin who help: on this device with their own passphrase, or invited to their own.
    Carer {
        #[command(subcommand)]
        action: CarerAction,
    },
    /// Connect this diary to a clinic server with the one-time code the clinic gave you. In a
    /// folder with no diary yet, a carer's invitation code sets up the carer's own diary
    /// (passphrase from COMPANION_PASSPHRASE, else asked) joined to the patient's.
    Pair {
        #[arg(long)]
        server: String,
        #[arg(long)]
        code: String,
        /// The clinic's own certificate authority (PEM), when its server's certificate is not
        /// from one this computer already trusts. Kept with the connection.
        #[arg(long)]
        ca_file: Option<PathBuf>,
    },
    /// Send what waits and fetch what the clinic wrote; prints what was sent, received and refused.
    Sync {
        /// Only show the state: connected to, last sync, waiting, refused.
        #[arg(long)]
        status: bool,
        #[arg(long)]
        json: bool,
    },
    /// The cancer treatment you are on: safety advice depends on it (on immunotherapy, any new
    /// diarrhoea, cough or breathlessness is a reason to call now).
    Treatment {
        #[command(subcommand)]
        action: care::TreatmentAction,
    },
    /// The safety advice shown, and "I understand" on it.
    Advice {
        #[command(subcommand)]
        action: care::AdviceAction,
    },
    /// Show, set or clear (--clear) the cancer ward's phone number used on "call now" advice.
    WardPhone {
        number: Option<String>,
        #[arg(long, conflicts_with = "number")]
        clear: bool,
    },
}

#[derive(Subcommand)]
enum SymptomAction {
    Add(SymptomArgs),
}

#[derive(Args)]
struct SymptomArgs {
    /// One of: pain, tiredness, nausea, vomiting, diarrhoea, constipation, poor-appetite,
    /// sore-mouth, shortness-of-breath, cough, shivering, sleep-problems, numbness-tingling,
    /// skin-changes, chest-pain, collapse, bleeding, other.
    #[arg(long)]
    symptom: String,
    /// 0 (none) to 10 (worst imaginable).
    #[arg(long, allow_negative_numbers = true)]
    severity: String,
    /// The name of the symptom when --symptom is other.
    #[arg(long)]
    other_name: Option<String>,
    #[command(flatten)]
    common: EntryFlags,
    /// A detail the safety rules look at, e.g. `blood` for diarrhoea or cough, `at-rest` or
    /// `severe` for shortness of breath, `cannot-keep-fluids` for vomiting. May be given more
    /// than once.
    #[arg(long = "flag", value_name = "FLAG")]
    flags: Vec<String>,
}

// What every new entry can carry besides its own value (a plain comment: a doc comment here
// would become the help text of every command that flattens it).
#[derive(Args)]
struct EntryFlags {
    /// A note (at most 2,000 characters).
    #[arg(long)]
    note: Option<String>,
    /// When it happened, RFC 3339; default now.
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    /// Print the saved entry and any advice raised as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum TemperatureAction {
    Add {
        /// Degrees Celsius, 30 to 45.
        #[arg(long, allow_negative_numbers = true)]
        celsius: String,
        /// "I feel unwell": after cancer treatment, a reason to call at any temperature.
        #[arg(long)]
        unwell: bool,
        #[command(flatten)]
        common: EntryFlags,
    },
}

#[derive(Subcommand)]
enum CheckinAction {
    /// A quick check-in (--wellbeing) or a validated instrument (--instrument with --answers).
    Add {
        /// How you feel today, 0 (very bad) to 10 (very good).
        #[arg(long, allow_negative_numbers = true, conflicts_with_all = ["instrument", "answers"])]
        wellbeing: Option<String>,
        /// phq9, phq2, gad7, gad2 or esas-r (see `instruments list`).
        #[arg(long, requires = "answers")]
        instrument: Option<String>,
        /// The scored items' values in order, comma-separated: 0-3 for PHQ and GAD, 0-10 for
        /// ESAS-r. PHQ-9 and GAD-7 take one more, last: the unscored difficulty question (0-3).
        #[arg(long, allow_hyphen_values = true)]
        answers: Option<String>,
        /// ESAS-r's "Completed by": patient (the default for the patient), caregiver-assisted
        /// (a carer helped), family-caregiver (always, for a carer).
        #[arg(long, requires = "instrument")]
        completed_by: Option<String>,
        #[command(flatten)]
        common: EntryFlags,
    },
}

#[derive(Subcommand)]
enum InstrumentsAction {
    /// The validated instruments this build ships.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ScheduleAction {
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

#[derive(Subcommand)]
enum QuestionAction {
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

#[derive(Subcommand)]
enum CarerAction {
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

#[derive(Subcommand)]
enum PassphraseAction {
    /// Change the passphrase: current from COMPANION_PASSPHRASE, new from COMPANION_NEW_PASSPHRASE
    /// (else both asked).
    Change,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    Fhir,
}

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
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stopped early (`| head`) is not an error.
        Err(e) if closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
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
        Command::Instruments { action: InstrumentsAction::List { json } } => {
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
                    writeln!(
                        out,
                        "{:<7} {} ({} scored items, total 0-{})",
                        i.id,
                        i.questionnaire.title,
                        i.scored_items.len(),
                        i.max_total
                    )?;
                }
            }
        }
        Command::Schedule { action } => {
            let mut store = open(&dir, clock)?;
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
                    writeln!(
                        out,
                        "{:<7} every {} days, {} (due {})",
                        s.instrument,
                        s.every_days,
                        s.state,
                        s.due_at.format("%Y-%m-%d %H:%M")
                    )?;
                }
            }
        }
        Command::Pair { server, code, ca_file } => {
            companion_core::sync::check_server(&server)?;
            let ca = match ca_file {
                Some(path) => {
                    let pem = std::fs::read_to_string(&path).map_err(|_| Error::invalid("ca_file", Problem::BadFormat))?;
                    companion_core::sync::check_ca(&pem)?;
                    Some(pem)
                }
                None => None,
            };
            if companion_core::store::presence(&dir)? == companion_core::store::Presence::Missing {
                // A carer's own device: the invitation sets up a new diary, owned by the carer.
                let pass = new_secret(PASSPHRASE_ENV, "Choose a passphrase")?;
                let (store, recovery) = companion_core::sync::block_on(companion_core::sync::join_as_carer(
                    &dir,
                    &server,
                    &code,
                    &pass,
                    ca.as_deref(),
                    clock,
                ))??;
                let patient = store.patient()?;
                let me = store.me().clone();
                writeln!(out, "Joined as {}, helping {}.", person_label(&me.name, me.relationship.as_deref()), patient.name)?;
                writeln!(out, "You may: {}", scope_list(&store.allowed()))?;
                writeln!(out, "Recovery code (write it down; it is shown only this once):")?;
                writeln!(out, "{}", recovery.as_str())?;
                store.lock();
                return Ok(());
            }
            let mut store = open(&dir, clock)?;
            let link = companion_core::sync::block_on(companion_core::sync::pair_with(&mut store, &server, &code, ca.as_deref()))??;
            writeln!(out, "Connected to {} (patient {}).", link.server, link.patient)?;
        }
        Command::Sync { status, json } => {
            let mut store = open(&dir, clock)?;
            let link = store.sync_link()?.ok_or(Error::NotPaired)?;
            if status {
                let (pending, quarantined) = store.outbox_counts()?;
                let v = serde_json::json!({
                    "server": link.server, "patient": link.patient,
                    "last_success": link.last_success, "pending": pending, "quarantined": quarantined,
                    "problem": link.problem, "refused": store.quarantined()?,
                });
                if json {
                    serde_json::to_writer_pretty(&mut *out, &v)?;
                    writeln!(out)?;
                } else {
                    writeln!(out, "connected to {}", link.server)?;
                    let last = link.last_success.map(|t| t.to_rfc3339()).unwrap_or_else(|| "never".into());
                    writeln!(out, "last successful sync: {last}\nwaiting to be sent: {pending}\nrefused by the server: {quarantined}")?;
                    if let Some(p) = link.problem {
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
                writeln!(
                    out,
                    "sent {}, received {}, refused {}, waiting {}",
                    report.sent, report.received, report.refused, report.pending
                )?;
                if report.merged > 0 {
                    writeln!(out, "merged {} record(s) changed on another device", report.merged)?;
                }
            }
            match report.outcome {
                companion_core::sync::Outcome::Done => {}
                companion_core::sync::Outcome::Later { retry_after_secs } => {
                    return Err(anyhow::anyhow!("the clinic server could not be reached; try again in {retry_after_secs} seconds"));
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
        }
        Command::WardPhone { number, clear } => {
            let mut store = open(&dir, clock)?;
            let now = match (number, clear) {
                (Some(n), _) => store.set_ward_phone(Some(&n))?,
                (None, true) => store.set_ward_phone(None)?,
                (None, false) => store.ward_phone()?,
            };
            writeln!(out, "{}", now.as_deref().unwrap_or("(not set)"))?;
        }
        Command::Question { action } => question(&dir, clock, action, out)?,
        Command::Treatment { action } => care::treatment(&dir, clock, action, out)?,
        Command::Advice { action } => care::advice(&dir, clock, action, out)?,
        Command::Carer { action } => carer(&dir, clock, action, out)?,
        Command::List { json, kind } => {
            let kind = kind.as_deref().map(EntryKind::parse).transpose().map_err(Error::from)?;
            let store = open(&dir, clock)?;
            let entries = store.timeline(TimelineFilter { kind })?;
            print_entries(&entries, json, out)?;
        }
        Command::Summary { days, json } => {
            let days = whole_number("days", &days)?;
            let store = open(&dir, clock)?;
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

fn question(
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

fn scope_list(scopes: &[Scope]) -> String {
    scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
}

/// "Ingrid (daughter)", or just "Ingrid" when no relationship was given.
pub(crate) fn person_label(name: &str, relationship: Option<&str>) -> String {
    match relationship {
        Some(r) => format!("{name} ({r})"),
        None => name.to_owned(),
    }
}

fn carer(
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
            if days.is_some_and(|d| !(1..=companion_core::store::MAX_CARER_DAYS).contains(&d)) {
                let max = companion_core::store::MAX_CARER_DAYS as f64;
                return Err(Error::invalid("days", companion_core::Problem::OutOfRange { min: 1.0, max }).into());
            }
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
            let carers = store.carers()?;
            let invited = store.invited_carers()?;
            if json {
                serde_json::to_writer_pretty(&mut *out, &serde_json::json!({ "on_this_device": carers, "invited": invited }))?;
                writeln!(out)?;
            } else if carers.is_empty() && invited.is_empty() {
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
        serde_json::to_writer_pretty(&mut *out, &serde_json::json!({ "entry": saved.entry, "alerts": saved.advice }))?;
        writeln!(out)?;
    } else {
        writeln!(out, "{}", saved.entry.id)?;
        care::print_advice(&saved.advice, out)?;
    }
    Ok(())
}

pub(crate) fn open(dir: &std::path::Path, clock: companion_core::clock::SharedClock) -> anyhow::Result<Store> {
    if companion_core::store::presence(dir)? == companion_core::store::Presence::Missing {
        return Err(Error::NotInitialised.into());
    }
    let pass = secret(PASSPHRASE_ENV, "Passphrase")?;
    Ok(Store::open(dir, &pass, clock)?)
}

pub(crate) fn whole_number(field: &'static str, raw: &str) -> Result<i64, Error> {
    raw.trim().parse().map_err(|_| Error::invalid(field, companion_core::Problem::BadFormat))
}

fn decimal(field: &'static str, raw: &str) -> Result<f64, Error> {
    // Accept a decimal comma too, as Norwegians write it.
    let value: f64 = raw.trim().replace(',', ".").parse().map_err(|_| Error::invalid(field, companion_core::Problem::BadFormat))?;
    if !value.is_finite() {
        return Err(Error::invalid(field, companion_core::Problem::BadFormat));
    }
    Ok(value)
}

pub(crate) fn entry_id(raw: &str) -> anyhow::Result<uuid::Uuid> {
    raw.trim().parse().map_err(|_| Error::invalid("id", companion_core::Problem::BadFormat).into())
}

/// A secret from the environment, else from the terminal without echo.
fn secret(env: &str, prompt: &str) -> anyhow::Result<String> {
    if let Ok(value) = std::env::var(env) {
        return Ok(value);
    }
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("{prompt} needed: set {env} or run in a terminal");
    }
    rpassword::prompt_password(format!("{prompt}: ")).context("could not read from the terminal")
}

/// A new secret: from the environment, else asked twice on the terminal.
fn new_secret(env: &str, prompt: &str) -> anyhow::Result<String> {
    if let Ok(value) = std::env::var(env) {
        return Ok(value);
    }
    let first = secret(env, prompt)?;
    let field = if env == PASSPHRASE_ENV { "passphrase" } else { "new_passphrase" };
    companion_core::crypto::check_passphrase(field, &first).map_err(Error::from)?;
    let again = secret(env, "Type it again")?;
    if first != again {
        return Err(Error::invalid("passphrase", companion_core::Problem::Mismatch).into());
    }
    Ok(first)
}
