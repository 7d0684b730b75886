//! The app's commands as a contract: each declared once here, with its arguments and its
//! reply. The shell's commands take [`Args`](self::args) of the declared type and return its
//! reply; `ui/src/lib/bindings/` is generated from the same declarations (see
//! [`bindings`]), so the window, the shell and the core cannot drift apart unnoticed.
//!
//! The names are `companion_protocol::commands::COMMANDS` (which the shell's build script
//! grants to the window); a test checks the two lists are the same.
//!
//! Nothing here does I/O: the replies the app and the CLI both show are built by the functions
//! in [`replies`] from a [`Store`](crate::Store).

pub mod bindings;
pub mod replies;

pub use replies::{AddCarerReply, Backups, CareSettings, CarersReply, JoinReply, QuestionsReply, SetupReply, SyncStatus};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A command: its name on the bridge, and what it answers. Implemented by each arguments type.
pub trait Command: DeserializeOwned + ts_rs::TS + 'static {
    const NAME: &'static str;
    type Reply: Serialize + ts_rs::TS + 'static;
}

/// Declares every command: `name Args { field: Type, ... } -> Reply;`. Field names are the
/// Rust ones; on the bridge they are camelCase, as Tauri has always named them.
macro_rules! commands {
    ($( $(#[$doc:meta])* $name:ident $Args:ident { $($(#[$fattr:meta])* $field:ident : $ty:ty),* $(,)? } -> $reply:ty; )*) => {
        /// The arguments of each command, named after it.
        pub mod args {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[$doc])*
                #[derive(Debug, Clone, serde::Deserialize, ts_rs::TS)]
                #[serde(rename_all = "camelCase")]
                pub struct $Args { $($(#[$fattr])* pub $field: $ty),* }

                impl super::Command for $Args {
                    const NAME: &'static str = stringify!($name);
                    type Reply = $reply;
                }
            )*
        }

        /// The commands in the order declared.
        pub const DECLARED: &[&str] = &[$(stringify!($name)),*];

        /// Calls `visit` once per command, for the bindings.
        pub(crate) fn each_command(visit: &mut impl bindings::Visit) {
            $( visit.command::<args::$Args>(); )*
        }
    };
}

use crate::domain::{NewEntry, Scope};
use crate::instruments::{Instrument, ItemAnswer};
use crate::prefs::{Language, Preferences};
use crate::rules::Contacts;
use crate::session::Status;
use crate::store::{access::Access, Advice, BackupInfo, Saved, VisitSummary};
use crate::sync::Invitation;
use crate::treatment::Treatment;
use crate::{Author, Entry};

commands! {
    /// Whether there is a diary, whether it is locked, who is signed in, and the preferences.
    status StatusArgs {} -> Status;
    /// Counts as activity for the idle lock; whether the diary is still unlocked.
    touch Touch {} -> bool;
    /// Sets up a new diary for the patient.
    setup Setup { name: String, passphrase: String } -> SetupReply;
    unlock Unlock { passphrase: String } -> Author;
    /// Opens the diary with the recovery code and sets a new passphrase.
    recover Recover { code: String, new_passphrase: String } -> Author;
    lock Lock {} -> ();
    change_passphrase ChangePassphrase { current: String, new_passphrase: String } -> ();
    new_recovery_code NewRecoveryCode {} -> String;
    set_preferences SetPreferences { preferences: Preferences } -> Preferences;
    add_entry AddEntry { entry: NewEntry } -> Saved;
    /// Several records from one form, in one transaction: all saved, or none.
    add_entries AddEntries { entries: Vec<NewEntry> } -> Vec<Saved>;
    /// Every record, or those of one kind (read leniently, so refused with the field named).
    timeline Timeline { #[ts(type = "EntryKind | null")] kind: Option<String> } -> Vec<Entry>;
    history History { id: String } -> Vec<Entry>;
    visit_summary VisitSummaryArgs { days: i64 } -> VisitSummary;
    correct_entry CorrectEntry { id: String, entry: NewEntry } -> Saved;
    withdraw_entry WithdrawEntry { id: String } -> Entry;
    questions Questions {} -> QuestionsReply;
    edit_question EditQuestion { id: String, text: String } -> Entry;
    set_question_state SetQuestionState { id: String, #[ts(type = "QuestionState")] question_state: String, answer: Option<String> } -> Entry;
    reorder_questions ReorderQuestions { ids: Vec<String> } -> Vec<Entry>;
    /// YYYY-MM-DD, or none to clear it.
    set_next_visit SetNextVisit { date: Option<String> } -> Option<String>;
    /// The shipped forms, and while unlocked the ones the clinic sent.
    instruments Instruments {} -> Vec<Instrument>;
    /// `questionnaire` is `url|version` of the form answered.
    add_assessment AddAssessment { instrument: String, answers: Vec<ItemAnswer>, occurred_at: Option<String>, questionnaire: Option<String> } -> Saved;
    care_settings CareSettingsArgs {} -> CareSettings;
    set_ward_phone SetWardPhone { number: Option<String> } -> CareSettings;
    set_schedule SetSchedule { instrument: String, every_days: Option<i64> } -> CareSettings;
    set_treatments SetTreatments { treatments: Vec<Treatment> } -> CareSettings;
    advice_for AdviceFor { id: String } -> Vec<Advice>;
    /// The advice shown in the last `days` days, newest first.
    advice_list AdviceList { days: i64 } -> Vec<Advice>;
    access_log AccessLog {} -> Vec<Access>;
    /// "I understand" on these cards, recorded with when and by whom.
    acknowledge_advice AcknowledgeAdvice { ids: Vec<String> } -> Vec<Advice>;
    /// The numbers that answer at once, from the shipped ruleset; works while locked.
    emergency_numbers EmergencyNumbers {} -> Contacts;
    mark_plan_seen MarkPlanSeen { version: String } -> CareSettings;
    /// Saves the summary as a new PDF in the backups folder; its file name.
    save_summary_pdf SaveSummaryPdf { days: i64, language: Language } -> String;
    sync_status SyncStatusArgs {} -> SyncStatus;
    pair_clinic PairClinic { server: String, code: String } -> SyncStatus;
    sync_now SyncNow {} -> SyncStatus;
    carers Carers {} -> CarersReply;
    add_carer AddCarer { name: String, relationship: String, carer_passphrase: String, allow: Vec<Scope>, my_passphrase: String, days: Option<i64> } -> AddCarerReply;
    remove_carer RemoveCarer { name: String } -> CarersReply;
    invite_carer InviteCarer { name: String, relationship: Option<String>, allow: Vec<Scope>, days: Option<i64> } -> Invitation;
    share_checkin ShareCheckin { id: String } -> Entry;
    /// A carer's own device: a new diary joined to the patient's through their invitation.
    join_as_carer JoinAsCarer { server: String, code: String, passphrase: String } -> JoinReply;
    create_backup CreateBackup {} -> BackupInfo;
    backups BackupsArgs {} -> Backups;
    /// `file` is a name in the backups folder, never a path.
    restore_backup RestoreBackup { file: String, passphrase: String } -> Author;
    /// Moves a diary that will not open aside; the folder it went to.
    set_aside_diary SetAsideDiary {} -> String;
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_command_the_window_is_granted_is_declared_here_in_the_same_order() {
        assert_eq!(super::DECLARED, companion_protocol::commands::COMMANDS);
    }
}
