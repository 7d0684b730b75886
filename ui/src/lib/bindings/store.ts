// Generated from `companion_core::api` by ts-rs: do not edit by hand.
// `make bindings` writes it again after a command or a type it reaches changes.
import type { CallNow, Hours, Staffed } from './care_team';
import type { Author, Entry, EntryKind, Scope } from './domain';
import type { Score } from './instruments';
import type { PlanSchedule } from './plan';
import type { Role } from './role';
import type { Level } from './rules';
import type { SymptomCode } from './symptom';
import type { Treatment } from './treatment';

export type Access = { at: string, who: string, role: string, what: string, };

export type Acknowledgement = { at: string, by: Author, };

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

export type BackupInfo = { file: string, created_at: string, bytes: number, 
/**
 * Records in the diary when it was made (every record, whoever wrote it).
 */
records: number, };

export type CareTeamNow = { contacts: Array<ContactNow>, call_now: CallNow, own_ward_phone: string | null, };

export type Carer = { allow: Array<Scope>, added_at: string, 
/**
 * When their access ends by itself, if it does.
 */
until: string | null, id: string, name: string, role: Role, relationship?: string, };

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

export type Disagreement = { patient: Entry, carer: Entry, 
/**
 * The carer's rating minus the patient's.
 */
difference: number, };

export type Invited = { id: string, name: string, relationship: string | null, allow: Array<Scope>, expires_at: string | null, };

export type Item9Mark = { entry_id: string, at: string, withdrawn: boolean, 
/**
 * 0 to 3; None when it was left unanswered (so the risk was not asked about).
 */
value: number | null, 
/**
 * The answer as the form answered put it ("Several days").
 */
answer: string | null, };

export type PlanInForce = { since: string, 
/**
 * The server's version of the `CarePlan`.
 */
version: string, 
/**
 * Whether the going-home screen has been walked through for this version.
 */
seen: boolean, treatment: Array<Treatment>, schedules: Array<PlanSchedule>, watch_for: Array<string>, advice: Array<string>, };

export type Quarantined = { item: string, ref_id: string, status: number | null, reason: string | null, };

export type Recheck = { advice_id: string, entry_id: string, due_at: string, 
/**
 * `upcoming` or `due`.
 */
state: 'upcoming' | 'due', };

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

export type Series<T> = { reports: number, 
/**
 * The reading that matters most (the highest severity or temperature, the lowest
 * wellbeing), and when it was first seen.
 */
peak: T, peak_at: string, latest: T, latest_at: string, };

export type SymptomSummary = { symptom: SymptomCode, other_name?: string, reports: number, 
/**
 * The reading that matters most (the highest severity or temperature, the lowest
 * wellbeing), and when it was first seen.
 */
peak: number, peak_at: string, latest: number, latest_at: string, };

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
