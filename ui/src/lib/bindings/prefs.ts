// Generated from `companion_core::api` by ts-rs: do not edit by hand.
// `make bindings` writes it again after a command or a type it reaches changes.

export type Language = "en" | "nb" | "nn";

export type Preferences = { 
/**
 * None until the person chooses; the UI then follows the system language.
 */
language: Language | null, idle_lock_minutes: number, };
