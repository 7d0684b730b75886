//! The command line as clap reads it: every subcommand and flag, and the environment
//! variables that can carry a secret instead of a prompt. `main.rs` dispatches on it; each
//! command group's own flags live beside its code (`carers.rs`, `forms.rs`, `questions.rs`).

use crate::carers::CarerAction;
use crate::forms::{InstrumentsAction, ScheduleAction};
use crate::questions::QuestionAction;
use crate::{backup, care, going_home};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

pub(crate) const PASSPHRASE_ENV: &str = "COMPANION_PASSPHRASE";
pub(crate) const NEW_PASSPHRASE_ENV: &str = "COMPANION_NEW_PASSPHRASE";
pub(crate) const RECOVERY_CODE_ENV: &str = "COMPANION_RECOVERY_CODE";
pub(crate) const CARER_PASSPHRASE_ENV: &str = "COMPANION_CARER_PASSPHRASE";

#[derive(Parser)]
#[command(name = "companion", version, about = "Companion's diary from the command line")]
pub(crate) struct Cli {
    /// The diary's folder. Defaults to the folder the app uses (or COMPANION_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
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
        #[arg(long, conflicts_with = "pdf")]
        json: bool,
        /// Write it as a PDF to print or share, instead of text (a new file; never over one).
        #[arg(long, value_name = "FILE")]
        pdf: Option<PathBuf>,
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
    /// An encrypted backup of the whole diary, and restoring one into an empty folder.
    Backup {
        #[command(subcommand)]
        action: backup::BackupAction,
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
    /// Who at the clinic opened your record, and when (as the clinic's server reports it at
    /// each sync). The patient's own: not shown to carers.
    AccessLog {
        #[arg(long)]
        json: bool,
    },
    /// The clinic's contacts, whether each is staffed now, and the one to call now.
    CareTeam {
        #[arg(long)]
        json: bool,
    },
    /// The safety ruleset in force.
    Ruleset {
        #[command(subcommand)]
        action: going_home::RulesetAction,
    },
    /// The clinic's going-home plan.
    Plan {
        #[command(subcommand)]
        action: going_home::PlanAction,
    },
    /// Show, set or clear (--clear) the cancer ward's phone number used on "call now" advice.
    WardPhone {
        number: Option<String>,
        #[arg(long, conflicts_with = "number")]
        clear: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum SymptomAction {
    Add(SymptomArgs),
}

#[derive(Args)]
pub(crate) struct SymptomArgs {
    /// One of: pain, tiredness, nausea, vomiting, diarrhoea, constipation, poor-appetite,
    /// sore-mouth, shortness-of-breath, cough, shivering, sleep-problems, numbness-tingling,
    /// skin-changes, chest-pain, collapse, bleeding, other.
    #[arg(long)]
    pub(crate) symptom: String,
    /// 0 (none) to 10 (worst imaginable).
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) severity: String,
    /// The name of the symptom when --symptom is other.
    #[arg(long)]
    pub(crate) other_name: Option<String>,
    #[command(flatten)]
    pub(crate) common: EntryFlags,
    /// A detail the safety rules look at, e.g. `blood` for diarrhoea or cough, `at-rest` or
    /// `severe` for shortness of breath, `cannot-keep-fluids` for vomiting. May be given more
    /// than once.
    #[arg(long = "flag", value_name = "FLAG")]
    pub(crate) flags: Vec<String>,
}

// What every new entry can carry besides its own value (a plain comment: a doc comment here
// would become the help text of every command that flattens it).
#[derive(Args)]
pub(crate) struct EntryFlags {
    /// A note (at most 2,000 characters).
    #[arg(long)]
    pub(crate) note: Option<String>,
    /// When it happened, RFC 3339; default now.
    #[arg(long, value_name = "RFC3339")]
    pub(crate) at: Option<String>,
    /// Print the saved entry and any advice raised as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Subcommand)]
pub(crate) enum TemperatureAction {
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
pub(crate) enum CheckinAction {
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
pub(crate) enum PassphraseAction {
    /// Change the passphrase: current from COMPANION_PASSPHRASE, new from COMPANION_NEW_PASSPHRASE
    /// (else both asked).
    Change,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ExportFormat {
    Fhir,
}
