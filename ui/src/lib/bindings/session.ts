// Generated from `companion_core::api` by ts-rs: do not edit by hand.
// `make bindings` writes it again after a command or a type it reaches changes.
import type { Author } from './domain';
import type { Preferences } from './prefs';

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
