//! Pairing is safe to retry: a lost reply or a request delivered twice never leaves the diary
//! unpaired with its code used up, and nobody else gets in with the code meanwhile.

use crate::carers::{invite, CarerDevice};
use crate::harness::{Diary, Fault, Proxy, Server, PASS};
use companion_core::domain::Scope;
use companion_core::sync::{self, block_on, Outcome};
use companion_core::{clock, Error, Store};

fn pair(diary: &Diary, via: &str, code: &str) -> companion_core::Result<companion_core::store::SyncLink> {
    block_on(sync::pair(&mut diary.open(), via, code)).unwrap()
}

#[test]
fn a_lost_or_doubled_reply_gets_the_same_credential_and_nobody_else_gets_in() {
    let server = Server::start();
    let proxy = Proxy::start(&server.url);
    for fault in [Fault::ResetAfterForward, Fault::Duplicate, Fault::Drop] {
        let (patient, code) = server.db.add_patient("Kari Nordmann").unwrap();
        let diary = Diary::new();
        proxy.then(&[fault]);
        let link = pair(&diary, &proxy.url, &code).unwrap_or_else(|e| panic!("{fault:?}: {e:?}"));
        assert!(!diary.dir.path().join("pairing.json").exists(), "{fault:?}: the retry key is gone once paired");
        // The credential the diary kept is the one the server knows: a round goes through.
        assert_eq!(diary.sync().outcome, Outcome::Done, "{fault:?}");
        // The code is used: another device, with its own key, is refused.
        let other = Diary::new();
        assert!(matches!(pair(&other, &server.url, &code), Err(Error::Invalid(i)) if i.field == "code"), "{fault:?}");
        assert_eq!(other.open().sync_link().unwrap(), None);
        // One device was made, however many times the request arrived.
        assert_eq!(server.db.revoke_devices(&patient).unwrap(), 1, "{fault:?}: one device");
        drop(link);
    }
}

#[test]
fn a_later_try_with_the_same_code_gets_the_same_credential_within_minutes_only() {
    let server = Server::start();
    let proxy = Proxy::start(&server.url);
    let (patient, code) = server.db.add_patient("Kari Nordmann").unwrap();
    let diary = Diary::new();
    // Every attempt of the first try lands at the server, and every reply is lost.
    proxy.then(&[Fault::ResetAfterForward; 3]);
    assert!(matches!(pair(&diary, &proxy.url, &code), Err(Error::Offline)));
    assert!(diary.dir.path().join("pairing.json").exists(), "the key is kept for the next try");
    assert_eq!(diary.open().sync_link().unwrap(), None, "not paired yet");
    // The person tries again: the same code, typed otherwise.
    let link = pair(&diary, &proxy.url, &code.to_lowercase().replace('-', " ")).unwrap();
    assert_eq!(diary.sync().outcome, Outcome::Done);
    assert_eq!(server.db.revoke_devices(&patient).unwrap(), 1);
    drop(link);

    // After the retry window the key opens nothing: the code is used.
    let (patient, code) = server.db.add_patient("Ola Nordmann").unwrap();
    let late = Diary::new();
    proxy.then(&[Fault::ResetAfterForward; 3]);
    assert!(pair(&late, &proxy.url, &code).is_err());
    server.db.age_redemptions_for(&patient).unwrap();
    assert!(matches!(pair(&late, &server.url, &code), Err(Error::Invalid(i)) if i.field == "code"));
    assert!(!late.dir.path().join("pairing.json").exists(), "a refused code's key is dropped");
}

#[test]
fn joining_as_a_carer_is_safe_to_retry_too() {
    let server = Server::start();
    let proxy = Proxy::start(&server.url);
    let (_, patient) = server.paired_diary(&server.url);
    let invitation = invite(&mut patient.open(), "Ola Nordmann", &[Scope::Symptoms], None);
    proxy.then(&[Fault::ResetAfterForward]);
    let carer = CarerDevice::join(&proxy.url, &invitation.code);
    assert_eq!(carer.sync().outcome, Outcome::Done);
    // Anyone else with the code is refused.
    let dir = tempfile::tempdir().unwrap();
    let other =
        block_on(sync::join_as_carer(dir.path(), &server.url, &invitation.code, "another passphrase", None, clock::system())).unwrap();
    assert!(matches!(other, Err(Error::Invalid(i)) if i.field == "code"));
}

#[test]
fn the_wrong_kind_of_code_says_what_to_do_and_is_not_used_up() {
    let server = Server::start();
    let (_, code) = server.db.add_patient("Kari Nordmann").unwrap();
    // The patient's second device, in an empty folder: the way in for a carer.
    let empty = tempfile::tempdir().unwrap();
    let joined = block_on(sync::join_as_carer(empty.path(), &server.url, &code, PASS, None, clock::system())).unwrap();
    assert!(matches!(joined, Err(Error::PatientCode)), "{joined:?}");
    assert!(companion_core::ErrorPayload::from(Error::PatientCode).message.contains("companion init"));
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0, "nothing left in the folder");
    // Set up first, then pair: the code still works.
    Store::create(empty.path(), "Kari", PASS, clock::system()).unwrap().0.lock();
    block_on(sync::pair(&mut Store::open(empty.path(), PASS, clock::system()).unwrap(), &server.url, &code)).unwrap().unwrap();
    // Once used, it is "used" whoever asks, never "the other kind" (which would send them to
    // set up a diary for nothing).
    let late = tempfile::tempdir().unwrap();
    let joined = block_on(sync::join_as_carer(late.path(), &server.url, &code, PASS, None, clock::system())).unwrap();
    assert!(matches!(joined, Err(Error::Invalid(ref i)) if i.field == "code"), "{joined:?}");

    // A carer's invitation given to a diary that exists.
    let (_, patient) = server.paired_diary(&server.url);
    let invitation = invite(&mut patient.open(), "Ola Nordmann", &[Scope::Symptoms], None);
    let diary = Diary::new();
    assert!(matches!(pair(&diary, &server.url, &invitation.code), Err(Error::CarerCode)));
    CarerDevice::join(&server.url, &invitation.code);
}

#[test]
fn a_busy_or_failing_clinic_is_not_called_unreachable() {
    let server = Server::start();
    let proxy = Proxy::start(&server.url);
    let (_, code) = server.db.add_patient("Kari Nordmann").unwrap();
    let diary = Diary::new();
    proxy.then(&[Fault::TooMany; 3]);
    assert!(matches!(pair(&diary, &proxy.url, &code), Err(Error::ClinicBusy { retry_after_secs: 1 })));
    proxy.then(&[Fault::ServerError; 3]);
    assert!(matches!(pair(&diary, &proxy.url, &code), Err(Error::ClinicFailed { .. })));
    pair(&diary, &proxy.url, &code).unwrap();
    diary.open().add(&companion_core::NewEntry::Question(companion_core::domain::NewQuestion { text: "Can I travel?".into() })).unwrap();
    proxy.then(&[Fault::TooMany]);
    let r = diary.sync();
    assert!(matches!(r.outcome, Outcome::Later { retry_after_secs: 1, because: sync::Wait::Busy }), "{r:?}");
    proxy.then(&[Fault::Pass, Fault::ServerError]);
    let r = diary.sync();
    assert!(matches!(r.outcome, Outcome::Later { because: sync::Wait::ServerError, .. }), "{r:?}");
    assert_eq!(r.pending, 1, "nothing lost");
}

#[test]
fn a_retry_key_that_is_not_one_is_refused_and_uses_nothing() {
    let server = Server::start();
    let (_, code) = server.db.add_patient("Kari Nordmann").unwrap();
    for key in ["short", &"k".repeat(129), "not base64url: spaces and !"] {
        let status = block_on(async {
            reqwest::Client::new()
                .post(format!("{}/pair", server.url))
                .json(&serde_json::json!({ "code": code, "key": key }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
        .unwrap();
        assert_eq!(status, 400, "{key}");
    }
    pair(&Diary::new(), &server.url, &code).expect("the code was not used");
}
