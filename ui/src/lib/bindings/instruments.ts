// Generated from `companion_core::api` by ts-rs: do not edit by hand.
// `make bindings` writes it again after a command or a type it reaches changes.

export type AnswerOption = { system: string | null, code: string, display: string | null, ordinal: number | null, };

export type AnswerValue = { "type": "coding", system?: string | null, code: string, display?: string | null, } | { "type": "integer", value: number, } | { "type": "boolean", value: boolean, } | { "type": "string", value: string, };

export type Band = { code: string, min: number, max: number, };

export type EnableWhen = { question: string, operator: string, answer: AnswerValue, };

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

export type Item = { link_id: string, text: string | null, 
/**
 * The form's own short label of the item (SDC `shortText`), when it has one.
 */
short_text: string | null, item_type: ItemType, required: boolean, options: Array<AnswerOption>, min: number | null, max: number | null, enable_when: Array<EnableWhen>, 
/**
 * True: all conditions must hold; false: any one.
 */
enable_all: boolean, items: Array<Item>, };

export type ItemAnswer = { link_id: string, value: AnswerValue, };

export type ItemScore = { link_id: string, value: number | null, band?: string, };

export type ItemType = "group" | "display" | "choice" | "integer" | "boolean" | "string" | "text";

export type Questionnaire = { url: string, version: string, title: string, 
/**
 * The language it is written in (BCP 47, e.g. `en`, `nb`), when it says.
 */
language: string | null, copyright: string | null, items: Array<Item>, };

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

export type SubScore = { code: string, total: number | null, max: number, };
