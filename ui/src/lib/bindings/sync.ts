// Generated from `companion_core::api` by ts-rs: do not edit by hand.
// `make bindings` writes it again after a command or a type it reaches changes.

export type Invitation = { code: string, carer: string, expires_at: string | null, };

export type Outcome = "done" | { "later": { retry_after_secs: number, because: Wait, } } | "pair_again" | "revoked";

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

export type Wait = "unreachable" | "busy" | "server_error";
