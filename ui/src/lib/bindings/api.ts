// Generated from `companion_core::api` by ts-rs: do not edit by hand.
// `make bindings` writes it again after a command or a type it reaches changes.
import type { Author, Entry, Scope } from './domain';
import type { Contacts, TemperatureRules } from './rules';
import type { Appointment, Assignment, BackupInfo, CareTeamNow, Carer, ClinicAnswer, Disagreement, Invited, PlanInForce, Quarantined, Recheck, RulesetStatus, Schedule } from './store';
import type { Report } from './sync';
import type { Treatment } from './treatment';

export type AddCarerReply = { carers: CarersReply, 
/**
 * Only when adding the first carer replaced an older diary's recovery code: shown once.
 */
new_recovery_code: string | null, };

export type Backups = { folder: string, backups: Array<BackupInfo>, damaged: Array<string>, };

export type CareSettings = { ward_phone: string | null, ruleset: string, ruleset_version: string, contacts: Contacts, temperature: TemperatureRules, schedules: Array<Schedule>, assigned: Array<Assignment>, treatments: Array<Treatment>, may_set_treatments: boolean, rechecks: Array<Recheck>, treatments_from_clinic: boolean, ruleset_status: RulesetStatus, care_team: CareTeamNow, plan: PlanInForce | null, };

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

export type SetupReply = { 
/**
 * Shown once, to write down. Not kept anywhere but its own key slot.
 */
recovery_code: string, person: Author, };

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
