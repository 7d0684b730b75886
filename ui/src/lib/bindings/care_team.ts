// Generated from `companion_core::api` by ts-rs: do not edit by hand.
// `make bindings` writes it again after a command or a type it reaches changes.

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

export type Hours = { days: Array<string>, from: string, to: string, };

export type Staffed = { open: boolean, 
/**
 * Open now: when it closes today (Norway's time, `HH:MM`); none when always staffed.
 */
until: string | null, 
/**
 * Closed now: the next opening, as a day (`mon`…) and a time.
 */
opens_day: string | null, opens_at: string | null, };
