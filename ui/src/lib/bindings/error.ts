// Generated from `companion_core::api` by ts-rs: do not edit by hand.
// `make bindings` writes it again after a command or a type it reaches changes.

export type ErrorCode = "invalid" | "wrong_passphrase" | "throttled" | "not_initialised" | "already_initialised" | "damaged" | "too_new" | "not_encrypted" | "locked" | "not_found" | "not_permitted" | "access_ended" | "withdrawn" | "unsupported" | "offline" | "not_paired" | "corrupt" | "keys_damaged" | "backup_damaged" | "no_space" | "cannot_write" | "too_large" | "clinic_busy" | "clinic_failed" | "patient_code" | "carer_code" | "internal";

export type ErrorPayload = { code: ErrorCode, message: string, field?: string, problem?: Problem, retry_after_secs?: number, };

export type Problem = { "kind": "required" } | { "kind": "unknown" } | { "kind": "out_of_range", min: number, max: number, } | { "kind": "too_long", max: number, } | { "kind": "too_short", min: number, } | { "kind": "in_future" } | { "kind": "too_old" } | { "kind": "bad_format" } | { "kind": "mismatch" } | { "kind": "not_allowed" } | { "kind": "untrusted" } | { "kind": "wrong_count", expected: number, optional: number, };
