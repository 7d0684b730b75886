// Generated from `companion_core::api` by ts-rs: do not edit by hand.
// `make bindings` writes it again after a command or a type it reaches changes.
import type { ItemAnswer, Score, Scoring } from './instruments';
import type { Role } from './role';
import type { SymptomCode } from './symptom';

export type Author = { id: string, name: string, role: Role, relationship?: string, };

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

export type QuestionState = "open" | "asked" | "answered" | "archived";

export type RecordStatus = "final" | "amended" | "entered-in-error";

export type Scope = "observations" | "questions" | "symptoms" | "checkins";
