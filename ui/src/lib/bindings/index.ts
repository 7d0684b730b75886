// Generated from `companion_core::api` by ts-rs: do not edit by hand.
// `make bindings` writes it again after a command or a type it reaches changes.

export type * from './api';
export type * from './care_team';
export type * from './commands';
export type * from './domain';
export type * from './error';
export type * from './instruments';
export type * from './plan';
export type * from './prefs';
export type * from './role';
export type * from './rules';
export type * from './session';
export type * from './store';
export type * from './symptom';
export type * from './sync';
export type * from './treatment';
