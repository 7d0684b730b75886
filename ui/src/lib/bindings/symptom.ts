// Generated from `companion_core::api` by ts-rs: do not edit by hand.
// `make bindings` writes it again after a command or a type it reaches changes.

export type SymptomCode = "pain" | "tiredness" | "nausea" | "vomiting" | "diarrhoea" | "constipation" | "poor-appetite" | "sore-mouth" | "shortness-of-breath" | "cough" | "shivering" | "sleep-problems" | "numbness-tingling" | "skin-changes" | "chest-pain" | "collapse" | "bleeding" | "other";
