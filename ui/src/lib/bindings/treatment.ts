// Generated from `companion_core::api` by ts-rs: do not edit by hand.
// `make bindings` writes it again after a command or a type it reaches changes.

export type Treatment = "chemotherapy" | "immunotherapy" | "radiotherapy" | "targeted-therapy" | "hormone-therapy";
