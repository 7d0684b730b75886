//! Who a person is to the diary: the patient or a carer. Its own module because the record
//! kinds (`domain`) and the instruments (ESAS-r's "completed by") both need it, and neither
//! should need the other for it.

use serde::{Deserialize, Serialize};

/// Who a person is to the diary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS, strum::IntoStaticStr)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Role {
    Patient,
    Carer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}
