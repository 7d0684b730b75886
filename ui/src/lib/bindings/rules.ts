// Generated from `companion_core::api` by ts-rs: do not edit by hand.
// `make bindings` writes it again after a command or a type it reaches changes.

export type Contacts = { emergency: string, out_of_hours: string, helpline: string, };

export type Level = "recheck" | "contact_team" | "contact_24h" | "call_now" | "crisis" | "emergency";

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
