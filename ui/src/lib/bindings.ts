// Generated from `companion_core::api` by ts-rs: do not edit by hand.
// `make bindings` writes it again after a command or a type it reaches changes.

export type Access = { at: string, who: string, role: string, what: string, };

export type Acknowledgement = { at: string, by: Author, };

export type AddCarerReply = { carers: CarersReply, 
/**
 * Only when adding the first carer replaced an older diary's recovery code: shown once.
 */
new_recovery_code: string | null, };

export type Advice = { id: string, 
/**
 * The record it is about.
 */
entry_id: string, record_kind: EntryKind, 
/**
 * Whether that record has since been withdrawn ("entered in error"). The advice was shown
 * all the same and stays listed.
 */
withdrawn: boolean, rule: string, ruleset: string, ruleset_version: string, level: Level, raised_at: string, 
/**
 * What it is about (a symptom, ESAS-r items at 7 or more); empty for advice raised before
 * the diary kept them.
 */
problems: Array<string>, 
/**
 * Who to call, in order, as the UI's buttons; numbers from the ruleset (the ward's from
 * the settings).
 */
contacts: Array<Contact>, 
/**
 * For advice about a temperature: the ruleset's fever threshold and low threshold, which
 * the card names.
 */
fever_from?: number, low_below?: number, 
/**
 * Whether the clinic's ward is staffed now (the card says "open until 15:30" or "closed
 * now: call 116 117"); none when the clinic gave no ward, or for advice that calls no one.
 */
ward_staffed?: Staffed, 
/**
 * For "measure again": when the reminder falls due.
 */
follow_up_at?: string, 
/**
 * When "I understand" was first pressed, and by whom.
 */
acknowledged_at: string | null, acknowledged_by: Author | null, 
/**
 * Every "I understand", oldest first: the patient's and each carer's of their own.
 */
acknowledgements: Array<Acknowledgement>, 
/**
 * When the clinic's server took the advice from this device.
 */
sent_at: string | null, 
/**
 * When the clinic received it: its triage task was opened.
 */
received_at: string | null, 
/**
 * When a nurse took it, and who (their name as the clinic gives it).
 */
taken_at: string | null, taken_by: string | null, 
/**
 * When it was closed, and how (`self_care`, `called`, `referred`, `emergency`,
 * `no_action`); `no_answer` while open: the nurse tried to call and could not reach you.
 */
closed_at: string | null, outcome: 'self_care' | 'called' | 'referred' | 'emergency' | 'no_action' | 'no_answer' | null, 
/**
 * The nurse's message, and when it was sent.
 */
message: string | null, message_at: string | null, };

export type AnswerOption = { system: string | null, code: string, display: string | null, ordinal: number | null, };

export type AnswerValue = { "type": "coding", system?: string | null, code: string, display?: string | null, } | { "type": "integer", value: number, } | { "type": "boolean", value: boolean, } | { "type": "string", value: string, };

export type Appointment = { id: string, start: string, end: string | null, 
/**
 * FHIR Appointment.status: booked, pending, proposed, arrived, ...
 */
status: string, description: string | null, };

export type Assignment = { task: string, 
/**
 * The instrument it is a form of (`esas-r`, ...).
 */
instrument: string, 
/**
 * The clinic's form, `url|version`.
 */
questionnaire: string, title: string, due: string | null, };

export type Author = { id: string, name: string, role: Role, relationship?: string, };

export type BackupInfo = { file: string, created_at: string, bytes: number, 
/**
 * Records in the diary when it was made (every record, whoever wrote it).
 */
records: number, };

export type Backups = { folder: string, backups: Array<BackupInfo>, damaged: Array<string>, };

export type Band = { code: string, min: number, max: number, };

export type CallNow = { role: string, name: string | null, phone: string, 
/**
 * `clinic` (the care team), `patient` (a number the patient typed) or `ruleset`.
 */
source: 'clinic' | 'patient' | 'ruleset', 
/**
 * The ward, and whether it is staffed now (the card says "open until 15:30" or "closed
 * now"); none when the clinic gave no ward.
 */
ward: Staffed | null, };

export type CareSettings = { ward_phone: string | null, ruleset: string, ruleset_version: string, contacts: Contacts, temperature: TemperatureRules, schedules: Array<Schedule>, assigned: Array<Assignment>, treatments: Array<Treatment>, may_set_treatments: boolean, rechecks: Array<Recheck>, treatments_from_clinic: boolean, ruleset_status: RulesetStatus, care_team: CareTeamNow, plan: PlanInForce | null, };

export type CareTeamNow = { contacts: Array<ContactNow>, call_now: CallNow, own_ward_phone: string | null, };

export type Carer = { allow: Array<Scope>, added_at: string, 
/**
 * When their access ends by itself, if it does.
 */
until: string | null, id: string, name: string, role: Role, relationship?: string, };

export type CarersReply = { me: Author, 
/**
 * The patient whose diary this is.
 */
patient: Author, 
/**
 * Whether whoever is signed in owns the diary (and so manages carers).
 */
owner: boolean, 
/**
 * What they may do: everything for the owner, what was granted for a carer.
 */
allowed: Array<Scope>, carers: Array<Carer>, 
/**
 * Carers invited to their own device.
 */
invited: Array<Invited>, disagreements: Array<Disagreement>, 
/**
 * Whether a carer can be invited to their own device (the diary is paired).
 */
can_invite: boolean, };

export type CheckinSummary = { instrument: string, completed: number, 
/**
 * The latest result as scored when it was saved (the published rules).
 */
latest: Score, latest_at: string, };

export type ClinicAnswer = { id: string, question: string, text: string, sent: string | null, };

export type Contact = { 
/**
 * `emergency`, `out_of_hours`, `helpline`, `ward` or `contact_nurse`.
 */
role: 'emergency' | 'out_of_hours' | 'helpline' | 'ward' | 'contact_nurse', 
/**
 * None when the ward's number has not been set yet.
 */
number: string | null, 
/**
 * The clinic's name for the line (`Cancer ward 3`), when the clinic gave it.
 */
name: string | null, 
/**
 * `clinic` (the care team the clinic sent), `patient` (a number the patient typed, never
 * shown as the clinic's) or `ruleset` (the national numbers).
 */
source: 'clinic' | 'patient' | 'ruleset', };

export type ContactNow = { staffed: Staffed, role: 'ward' | 'contact_nurse' | 'coordinator' | 'gp' | 'out_of_hours' | 'emergency', name: string, phone: string, 
/**
 * When it is staffed; none means always.
 */
hours?: Array<Hours>, };

export type Contacts = { emergency: string, out_of_hours: string, helpline: string, };

export type Disagreement = { patient: Entry, carer: Entry, 
/**
 * The carer's rating minus the patient's.
 */
difference: number, };

export type EnableWhen = { question: string, operator: string, answer: AnswerValue, };

export type Entry = { id: string, 
/**
 * 1 for the original, +1 for every correction, state change or withdrawal.
 */
version: number, status: RecordStatus, 
/**
 * When it happened (for a question: when it was written down).
 */
occurred_at: string, 
/**
 * When it was first recorded.
 */
recorded_at: string, 
/**
 * When the latest version was recorded (equal to `recorded_at` for version 1).
 */
updated_at: string, 
/**
 * Who first entered it.
 */
author: Author, 
/**
 * Who made the latest version.
 */
updated_by: Author, 
/**
 * The device it was first entered on.
 */
device: string, 
/**
 * A carer's own check-in that they have not shared: seen by them alone, never sent.
 */
private?: boolean, } & ({ "kind": "symptom", symptom: SymptomCode, 
/**
 * The person's own name for it, when `symptom` is `other`.
 */
other_name?: string | null, severity: number, note: string | null, 
/**
 * Details from [`SymptomCode::flags`], e.g. `blood` for diarrhoea.
 */
flags?: Array<string>, } | { "kind": "temperature", celsius: number, note: string | null, 
/**
 * "I feel unwell", which makes a low temperature a reason to call.
 */
feels_unwell: boolean, } | { "kind": "checkin", wellbeing: number, note: string | null, } | { "kind": "question", text: string, state: QuestionState, answer: string | null, } | { "kind": "assessment", 
/**
 * The instrument's id (`phq9`, `esas-r`, ...).
 */
instrument: string, scoring: Scoring, 
/**
 * The Questionnaire answered, pinned: `url|version`.
 */
questionnaire: string, answers: Array<ItemAnswer>, 
/**
 * The score as computed when it was saved.
 */
score: Score, });

export type EntryKind = "symptom" | "temperature" | "checkin" | "question" | "assessment";

export type ErrorCode = "invalid" | "wrong_passphrase" | "throttled" | "not_initialised" | "already_initialised" | "damaged" | "too_new" | "not_encrypted" | "locked" | "not_found" | "not_permitted" | "access_ended" | "withdrawn" | "unsupported" | "offline" | "not_paired" | "corrupt" | "keys_damaged" | "backup_damaged" | "no_space" | "cannot_write" | "too_large" | "clinic_busy" | "clinic_failed" | "patient_code" | "carer_code" | "internal";

export type ErrorPayload = { code: ErrorCode, message: string, field?: string, problem?: Problem, retry_after_secs?: number, };

export type Hours = { days: Array<string>, from: string, to: string, };

export type Instrument = { 
/**
 * Stable id used by the CLI, the UI and schedules: `phq9`, `phq2`, `gad7`, `gad2`, `esas-r`.
 */
id: string, scoring: Scoring, 
/**
 * The scored items, in order (the CLI's positional `--answers` follow this order).
 */
scored_items: Array<string>, max_total: number, 
/**
 * Bands of the total (empty for ESAS-r, whose items are banded instead).
 */
bands: Array<Band>, 
/**
 * For a short screen: the full form to go on to when it is positive.
 */
full_form: string | null, questionnaire: Questionnaire, };

export type Invitation = { code: string, carer: string, expires_at: string | null, };

export type Invited = { id: string, name: string, relationship: string | null, allow: Array<Scope>, expires_at: string | null, };

export type Item = { link_id: string, text: string | null, 
/**
 * The form's own short label of the item (SDC `shortText`), when it has one.
 */
short_text: string | null, item_type: ItemType, required: boolean, options: Array<AnswerOption>, min: number | null, max: number | null, enable_when: Array<EnableWhen>, 
/**
 * True: all conditions must hold; false: any one.
 */
enable_all: boolean, items: Array<Item>, };

export type Item9Mark = { entry_id: string, at: string, withdrawn: boolean, 
/**
 * 0 to 3; None when it was left unanswered (so the risk was not asked about).
 */
value: number | null, 
/**
 * The answer as the form answered put it ("Several days").
 */
answer: string | null, };

export type ItemAnswer = { link_id: string, value: AnswerValue, };

export type ItemScore = { link_id: string, value: number | null, band?: string, };

export type ItemType = "group" | "display" | "choice" | "integer" | "boolean" | "string" | "text";

export type Language = "en" | "nb" | "nn";

export type Level = "recheck" | "contact_team" | "contact_24h" | "call_now" | "crisis" | "emergency";

export type NewCheckin = { wellbeing: number, note: string | null, occurred_at: string | null, };

export type NewEntry = { "kind": "symptom" } & NewSymptom | { "kind": "temperature" } & NewTemperature | { "kind": "checkin" } & NewCheckin | { "kind": "question" } & NewQuestion;

export type NewQuestion = { text: string, };

export type NewSymptom = { symptom: string, other_name: string | null, severity: number, note: string | null, 
/**
 * RFC 3339; none means now.
 */
occurred_at: string | null, 
/**
 * Details from [`SymptomCode::flags`].
 */
flags: Array<string>, };

export type NewTemperature = { celsius: number, note: string | null, occurred_at: string | null, feels_unwell: boolean, };

export type Outcome = "done" | { "later": { retry_after_secs: number, because: Wait, } } | "pair_again" | "revoked";

export type PlanInForce = { since: string, 
/**
 * The server's version of the `CarePlan`.
 */
version: string, 
/**
 * Whether the going-home screen has been walked through for this version.
 */
seen: boolean, treatment: Array<Treatment>, schedules: Array<PlanSchedule>, watch_for: Array<string>, advice: Array<string>, };

export type PlanSchedule = { instrument: string, every_days: number, for_days?: number, };

export type Preferences = { 
/**
 * None until the person chooses; the UI then follows the system language.
 */
language: Language | null, idle_lock_minutes: number, };

export type Problem = { "kind": "required" } | { "kind": "unknown" } | { "kind": "out_of_range", min: number, max: number, } | { "kind": "too_long", max: number, } | { "kind": "too_short", min: number, } | { "kind": "in_future" } | { "kind": "too_old" } | { "kind": "bad_format" } | { "kind": "mismatch" } | { "kind": "not_allowed" } | { "kind": "untrusted" } | { "kind": "wrong_count", expected: number, optional: number, };

export type Quarantined = { item: string, ref_id: string, status: number | null, reason: string | null, };

export type QuestionState = "open" | "asked" | "answered" | "archived";

export type Questionnaire = { url: string, version: string, title: string, 
/**
 * The language it is written in (BCP 47, e.g. `en`, `nb`), when it says.
 */
language: string | null, copyright: string | null, items: Array<Item>, };

export type QuestionsReply = { questions: Array<Entry>, 
/**
 * YYYY-MM-DD, as the person set it.
 */
next_visit: string | null, 
/**
 * Visits the clinic booked, soonest first.
 */
appointments: Array<Appointment>, 
/**
 * The clinic's answers to the questions.
 */
answers: Array<ClinicAnswer>, };

export type Recheck = { advice_id: string, entry_id: string, due_at: string, 
/**
 * `upcoming` or `due`.
 */
state: 'upcoming' | 'due', };

export type RecordStatus = "final" | "amended" | "entered-in-error";

export type Report = { outcome: Outcome, 
/**
 * Records (and advice) the server now holds.
 */
sent: number, 
/**
 * Resources the clinic wrote that arrived.
 */
received: number, 
/**
 * Records the server refused this round.
 */
refused: number, 
/**
 * Still waiting to be sent.
 */
pending: number, 
/**
 * Set aside after a refusal; the person is told.
 */
quarantined: number, 
/**
 * The server's data epoch changed, so everything was queued again.
 */
epoch_changed: boolean, 
/**
 * Records changed on another device since this one last saw them, merged.
 */
merged: number, };

export type Reported = { person: Author, 
/**
 * Most reports first.
 */
symptoms: Array<SymptomSummary>, 
/**
 * Temperatures in °C; the peak is the highest.
 */
temperature: Series<number> | null, 
/**
 * A patient's wellbeing (0–10, higher is better; the peak is the lowest); for a carer,
 * their own (a check-in they chose to share).
 */
wellbeing: Series<number> | null, 
/**
 * Each instrument's latest result, by instrument id.
 */
checkins: Array<CheckinSummary>, 
/**
 * Every PHQ-9 in the period whose item 9 was answered 1 or more, or left unanswered, oldest
 * first, withdrawn ones too (marked): never only the total and band.
 */
item9: Array<Item9Mark>, };

export type Role = "patient" | "carer";

export type RulesetRefused = { at: string, id: string | null, version: string | null, 
/**
 * `bad_signature`, `invalid` or `not_newer`.
 */
reason: 'bad_signature' | 'invalid' | 'not_newer', 
/**
 * For `invalid`: the element at fault (`temperature.call_at_or_above`).
 */
field: string | null, };

export type RulesetStatus = { id: string, version: string, 
/**
 * `clinic` (signed by the clinic, verified) or `shipped` (the app's defaults).
 */
source: 'clinic' | 'shipped', 
/**
 * When the clinic's came into force on this device.
 */
since: string | null, 
/**
 * The clinic key's fingerprint (pinned at pairing).
 */
key_fingerprint: string | null, 
/**
 * The last ruleset refused since the one in force came, and why.
 */
refused: RulesetRefused | null, };

export type Saved = { entry: Entry, advice: Array<Advice>, };

export type Schedule = { instrument: string, every_days: number, last_done: string | null, due_at: string, 
/**
 * `upcoming`, `due`, or `overdue` (more than two days past due).
 */
state: 'upcoming' | 'due' | 'overdue', 
/**
 * `clinic` (the going-home plan's, which replaces the patient's own for that check-in) or
 * `patient`.
 */
source: 'clinic' | 'patient', };

export type Scope = "observations" | "questions" | "symptoms" | "checkins";

export type Score = { 
/**
 * None when a scored item was left unanswered.
 */
total: number | null, max: number, band: string | null, 
/**
 * For PHQ-2 and GAD-2: whether the screen is positive.
 */
positive?: boolean, 
/**
 * The full form to go on to after a positive screen.
 */
next?: string, 
/**
 * Scored items left unanswered.
 */
missing: Array<string>, items: Array<ItemScore>, subscores?: Array<SubScore>, };

export type Scoring = "phq9" | "phq2" | "gad7" | "gad2" | "esas-r";

export type Series<T> = { reports: number, 
/**
 * The reading that matters most (the highest severity or temperature, the lowest
 * wellbeing), and when it was first seen.
 */
peak: T, peak_at: string, latest: T, latest_at: string, };

export type SetupReply = { 
/**
 * Shown once, to write down. Not kept anywhere but its own key slot.
 */
recovery_code: string, person: Author, };

export type Staffed = { open: boolean, 
/**
 * Open now: when it closes today (Norway's time, `HH:MM`); none when always staffed.
 */
until: string | null, 
/**
 * Closed now: the next opening, as a day (`mon`…) and a time.
 */
opens_day: string | null, opens_at: string | null, };

export type Status = { 
/**
 * `new` (no diary yet), `locked` or `unlocked`.
 */
state: 'new' | 'locked' | 'unlocked', 
/**
 * Seconds before another unlock attempt is allowed.
 */
wait_secs: number, 
/**
 * Who is signed in, when unlocked.
 */
person: Author | null, preferences: Preferences, };

export type SubScore = { code: string, total: number | null, max: number, };

export type SymptomCode = "pain" | "tiredness" | "nausea" | "vomiting" | "diarrhoea" | "constipation" | "poor-appetite" | "sore-mouth" | "shortness-of-breath" | "cough" | "shivering" | "sleep-problems" | "numbness-tingling" | "skin-changes" | "chest-pain" | "collapse" | "bleeding" | "other";

export type SymptomSummary = { symptom: SymptomCode, other_name?: string, reports: number, 
/**
 * The reading that matters most (the highest severity or temperature, the lowest
 * wellbeing), and when it was first seen.
 */
peak: number, peak_at: string, latest: number, latest_at: string, };

export type SyncStatus = { paired: boolean, server: string | null, 
/**
 * The patient's id at the clinic.
 */
patient: string | null, last_success: string | null, pending: number, quarantined: number, 
/**
 * `revoked` or `pair_again` when the clinic no longer accepts this device.
 */
problem: 'revoked' | 'pair_again' | null, refused: Array<Quarantined>, 
/**
 * The outcome of the round just run, if one was.
 */
last_round: Report | null, 
/**
 * On a carer's own device, the patient they help (so an ended access is said plainly).
 */
carer_of: string | null, };

export type TemperatureRules = { 
/**
 * Fever: call now at this temperature or more, however the person feels.
 */
call_at_or_above: number, 
/**
 * From here up to the fever threshold, feeling well: measure again.
 */
recheck_from: number, 
/**
 * Below this, feeling unwell is named as a low temperature (feeling unwell is a reason to
 * call at any temperature).
 */
low_below: number, 
/**
 * When the reminder to measure again falls due.
 */
recheck_after_minutes: number, };

export type Treatment = "chemotherapy" | "immunotherapy" | "radiotherapy" | "targeted-therapy" | "hormone-therapy";

export type VisitSummary = { since: string, until: string, 
/**
 * The patient first, then each carer who reported anything, by name. Never merged.
 */
people: Array<Reported>, 
/**
 * The advice Companion showed in the period, newest first, each with the record it is
 * about and whether "I understand" was pressed. Advice about a record since withdrawn was
 * shown all the same: it is listed, marked withdrawn. Not advice about a record this
 * session cannot read.
 */
advice: Array<Advice>, 
/**
 * Questions still to ask, in the person's order (whenever they were written).
 */
questions: Array<Entry>, 
/**
 * Where a carer rated a symptom differently from the patient, in the period.
 */
seen_differently: Array<Disagreement>, };

export type Wait = "unreachable" | "busy" | "server_error";

/** Every command the window may call: its arguments and its reply. */
export type Commands = {
  status: { args: Record<string, never>; reply: Status };
  touch: { args: Record<string, never>; reply: boolean };
  setup: { args: { name: string, passphrase: string, }; reply: SetupReply };
  unlock: { args: { passphrase: string, }; reply: Author };
  recover: { args: { code: string, newPassphrase: string, }; reply: Author };
  lock: { args: Record<string, never>; reply: null };
  change_passphrase: { args: { current: string, newPassphrase: string, }; reply: null };
  new_recovery_code: { args: Record<string, never>; reply: string };
  set_preferences: { args: { preferences: Preferences, }; reply: Preferences };
  add_entry: { args: { entry: NewEntry, }; reply: Saved };
  add_entries: { args: { entries: Array<NewEntry>, }; reply: Array<Saved> };
  timeline: { args: { kind: EntryKind | null, }; reply: Array<Entry> };
  history: { args: { id: string, }; reply: Array<Entry> };
  visit_summary: { args: { days: number, }; reply: VisitSummary };
  correct_entry: { args: { id: string, entry: NewEntry, }; reply: Saved };
  withdraw_entry: { args: { id: string, }; reply: Entry };
  questions: { args: Record<string, never>; reply: QuestionsReply };
  edit_question: { args: { id: string, text: string, }; reply: Entry };
  set_question_state: { args: { id: string, questionState: QuestionState, answer: string | null, }; reply: Entry };
  reorder_questions: { args: { ids: Array<string>, }; reply: Array<Entry> };
  set_next_visit: { args: { date: string | null, }; reply: string | null };
  instruments: { args: Record<string, never>; reply: Array<Instrument> };
  add_assessment: { args: { instrument: string, answers: Array<ItemAnswer>, occurredAt: string | null, questionnaire: string | null, }; reply: Saved };
  care_settings: { args: Record<string, never>; reply: CareSettings };
  set_ward_phone: { args: { number: string | null, }; reply: CareSettings };
  set_schedule: { args: { instrument: string, everyDays: number | null, }; reply: CareSettings };
  set_treatments: { args: { treatments: Array<Treatment>, }; reply: CareSettings };
  advice_for: { args: { id: string, }; reply: Array<Advice> };
  advice_list: { args: { days: number, }; reply: Array<Advice> };
  access_log: { args: Record<string, never>; reply: Array<Access> };
  acknowledge_advice: { args: { ids: Array<string>, }; reply: Array<Advice> };
  emergency_numbers: { args: Record<string, never>; reply: Contacts };
  mark_plan_seen: { args: { version: string, }; reply: CareSettings };
  save_summary_pdf: { args: { days: number, language: Language, }; reply: string };
  sync_status: { args: Record<string, never>; reply: SyncStatus };
  pair_clinic: { args: { server: string, code: string, }; reply: SyncStatus };
  sync_now: { args: Record<string, never>; reply: SyncStatus };
  carers: { args: Record<string, never>; reply: CarersReply };
  add_carer: { args: { name: string, relationship: string, carerPassphrase: string, allow: Array<Scope>, myPassphrase: string, days: number | null, }; reply: AddCarerReply };
  remove_carer: { args: { name: string, }; reply: CarersReply };
  invite_carer: { args: { name: string, relationship: string | null, allow: Array<Scope>, days: number | null, }; reply: Invitation };
  share_checkin: { args: { id: string, }; reply: Entry };
  join_as_carer: { args: { server: string, code: string, passphrase: string, }; reply: SetupReply };
  create_backup: { args: Record<string, never>; reply: BackupInfo };
  backups: { args: Record<string, never>; reply: Backups };
  restore_backup: { args: { file: string, passphrase: string, }; reply: Author };
  set_aside_diary: { args: Record<string, never>; reply: string };
};
