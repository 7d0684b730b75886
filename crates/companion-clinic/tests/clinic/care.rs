//! The care team's side end to end: an alert from a device becomes a triage Task with the
//! clinic's target, the web app signs a nurse in, lists it, and handles it; the receipts and the
//! message reach the patient's device with its next sync. And what goes wrong: a forged form, a
//! form from another origin, a nurse at an admin page, a stale page, an idle session, guessing.

use crate::harness::Server;
use companion_clinic::error::StoreError;
use companion_core::domain::NewTemperature;
use companion_core::NewEntry;
use reqwest::header::{HeaderMap, COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use serde_json::{json, Value};

const NURSE_PASSWORD: &str = "a long nurse passphrase";

/// A browser, as far as the tests need one: its cookies, no automatic redirects.
pub struct Browser {
    base: String,
    client: reqwest::Client,
    cookies: std::sync::Mutex<Vec<(String, String)>>,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browser { base: base.to_owned(), client, cookies: Default::default() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.lock().unwrap().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn keep(&self, headers: &HeaderMap) {
        let mut jar = self.cookies.lock().unwrap();
        for v in headers.get_all(SET_COOKIE) {
            let text = v.to_str().unwrap();
            let (pair, attrs) = text.split_once(';').unwrap_or((text, ""));
            let (k, val) = pair.split_once('=').unwrap();
            jar.retain(|(name, _)| name != k);
            if !attrs.contains("Max-Age=0") {
                jar.push((k.to_owned(), val.to_owned()));
            }
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    pub fn get(&self, path: &str) -> Page {
        let req = self.client.get(format!("{}{path}", self.base)).header(COOKIE, self.cookie_header());
        self.send(req)
    }

    pub fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.post_from(path, form, Some(&self.base.clone()))
    }

    pub fn post_from(&self, path: &str, form: &[(&str, &str)], origin: Option<&str>) -> Page {
        let mut req = self.client.post(format!("{}{path}", self.base)).header(COOKIE, self.cookie_header()).form(form);
        if let Some(o) = origin {
            req = req.header(ORIGIN, o);
        }
        self.send(req)
    }

    fn send(&self, req: reqwest::RequestBuilder) -> Page {
        companion_core::sync::block_on(async {
            let res = req.send().await.unwrap();
            self.keep(res.headers());
            let status = res.status().as_u16();
            let location = res.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_owned());
            Page { status, location, body: res.text().await.unwrap() }
        })
        .unwrap()
    }

    pub fn sign_in(&self, name: &str, password: &str) -> Page {
        let form = self.get("/care/sign-in");
        let token = hidden(&form.body, "form");
        self.post("/care/sign-in", &[("form", &token), ("name", name), ("password", password)])
    }
}

/// The value of a hidden input on a page.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} on the page")) + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

fn fever(diary: &crate::harness::Diary) {
    let mut store = diary.open();
    let saved = store.save(&NewEntry::Temperature(NewTemperature { celsius: 38.4, feels_unwell: true, ..Default::default() })).unwrap();
    assert_eq!(saved.advice[0].level.as_str(), "call_now");
}

fn staff_get(server: &Server, token: &str, path: &str) -> Value {
    let url = format!("{}{path}", server.url);
    companion_core::sync::block_on(async {
        reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap().json::<Value>().await.unwrap()
    })
    .unwrap()
}

#[test]
fn an_alert_is_received_worked_and_closed_and_the_patient_sees_each_step() {
    let server = Server::start();
    let (patient, diary) = server.paired_diary(&server.url);
    server.db.add_account("Kari Nurse", companion_clinic::db::Role::Nurse, NURSE_PASSWORD).unwrap();
    server.db.add_account("Per Nurse", companion_clinic::db::Role::Nurse, NURSE_PASSWORD).unwrap();
    fever(&diary);
    // Before the sync: nothing from the clinic, and nothing claimed.
    let before = &diary.open().advice_shown(1).unwrap()[0];
    assert_eq!((before.receipt.sent_at, before.receipt.received_at), (None, None));
    let report = diary.sync();
    assert_eq!(report.outcome, companion_core::sync::Outcome::Done);

    // The server opened a triage Task in the same transaction as the Flag.
    let staff = server.staff();
    let list = staff_get(&server, &staff, "/fhir/Task?code=triage&status=requested,accepted&_sort=priority,period");
    assert_eq!(list["total"], 1, "{list}");
    let task = &list["entry"][0]["resource"];
    assert_eq!((task["priority"].as_str(), task["status"].as_str()), (Some("stat"), Some("requested")));
    assert!(task["focus"]["reference"].as_str().unwrap().starts_with("Flag/"));
    assert_eq!(task["for"]["reference"], format!("Patient/{patient}"));
    assert!(companion_core::fhir::written_by_clinic(task));
    let received = chrono::DateTime::parse_from_rfc3339(task["authoredOn"].as_str().unwrap()).unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(task["restriction"]["period"]["end"].as_str().unwrap()).unwrap();
    assert_eq!((due - received).num_minutes(), 60, "call now: one hour by default");

    // The pull after the push brought the receipt: sent and received, not yet taken.
    diary.sync();
    let a = diary.open().advice_shown(1).unwrap().remove(0);
    assert!(a.receipt.sent_at.is_some() && a.receipt.received_at.is_some(), "{:?}", a.receipt);
    assert_eq!((a.receipt.taken_at, a.receipt.closed_at, a.receipt.message.as_deref()), (None, None, None));

    // The nurse signs in and sees it on the worklist, in words, with who reported it.
    let kari = Browser::new(&server.url);
    let signed = kari.sign_in("kari nurse", NURSE_PASSWORD);
    assert_eq!((signed.status, signed.location.as_deref()), (303, Some("/care")));
    let worklist = kari.get("/care");
    assert_eq!(worklist.status, 200);
    assert!(worklist.body.contains("Kari Nordmann") && worklist.body.contains("Temperature 38.4 °C, feels unwell"), "{}", worklist.body);
    assert!(worklist.body.contains("the patient") && worklist.body.contains("New"));
    let task_id = task["id"].as_str().unwrap();
    let page = kari.get(&format!("/care/alerts/{task_id}"));
    assert_eq!(page.status, 200);
    let (csrf, version) = (hidden(&page.body, "csrf"), hidden(&page.body, "version"));

    // A forged form (no token, a wrong token) and a form from another origin change nothing.
    let take = format!("/care/alerts/{task_id}/take");
    assert_eq!(kari.post(&take, &[("csrf", "forged"), ("version", &version)]).status, 403);
    assert_eq!(kari.post_from(&take, &[("csrf", &csrf), ("version", &version)], Some("http://evil.example")).status, 403);
    let versions = server.db.version_count().unwrap();
    // Taken: assigned to her, accepted.
    assert_eq!(kari.post(&take, &[("csrf", &csrf), ("version", &version)]).status, 303);
    assert_eq!(server.db.version_count().unwrap(), versions + 1);
    // Per, on a page that still shows the old version, is told and nothing is overwritten.
    let per = Browser::new(&server.url);
    assert_eq!(per.sign_in("Per Nurse", NURSE_PASSWORD).status, 303);
    let per_page = per.get(&format!("/care/alerts/{task_id}"));
    assert!(per_page.body.contains("Kari Nurse has taken this alert"), "a second nurse sees it as taken");
    let per_csrf = hidden(&per_page.body, "csrf");
    let stale = per.post(&format!("/care/alerts/{task_id}/note"), &[("csrf", &per_csrf), ("version", &version), ("note", "late")]);
    assert_eq!(stale.status, 409);
    assert!(!server
        .db
        .read(&companion_clinic::db::Actor::Staff { id: "t".into() }, "Task", task_id)
        .unwrap()
        .unwrap()
        .body
        .to_string()
        .contains("late"));

    diary.sync();
    let a = diary.open().advice_shown(1).unwrap().remove(0);
    assert_eq!(a.receipt.taken_by.as_deref(), Some("Kari Nurse"));
    assert!(a.receipt.taken_at.is_some() && a.receipt.closed_at.is_none());

    // Closed with an outcome and a message.
    let page = kari.get(&format!("/care/alerts/{task_id}"));
    let version = hidden(&page.body, "version");
    let close = format!("/care/alerts/{task_id}/close");
    let no_choice = kari.post(&close, &[("csrf", &csrf), ("version", &version)]);
    assert_eq!(no_choice.status, 422, "an outcome must be chosen");
    let closed = kari.post(
        &close,
        &[("csrf", &csrf), ("version", &version), ("outcome", "called"), ("message", "We spoke: come in to the ward tonight.")],
    );
    assert_eq!(closed.status, 303);
    let closed_today = kari.get("/care?show=closed");
    assert!(closed_today.body.contains("Kari Nordmann") && closed_today.body.contains("Closed"));
    assert!(kari.get("/care").body.contains("No alerts here."));

    diary.sync();
    let a = diary.open().advice_shown(1).unwrap().remove(0);
    assert_eq!(a.receipt.outcome.as_deref(), Some("called"));
    assert!(a.receipt.closed_at.is_some());
    assert_eq!(a.receipt.message.as_deref(), Some("We spoke: come in to the ward tonight."));

    // Any FHIR client sees the same steps.
    let t = staff_get(&server, &staff, &format!("/fhir/Task/{task_id}"));
    assert_eq!((t["status"].as_str(), t["statusReason"]["coding"][0]["code"].as_str()), (Some("completed"), Some("called")));
    assert_eq!(t["meta"]["versionId"], "3");
    let messages = staff_get(&server, &staff, &format!("/fhir/Communication?patient={patient}"));
    assert_eq!(messages["total"], 1);
    assert_eq!(messages["entry"][0]["resource"]["about"][0]["reference"], format!("Task/{task_id}"));

    // Every page that showed the patient was audited as this nurse's.
    let rows = server.db.audit_rows().unwrap();
    let account = server.db.accounts().unwrap().into_iter().find(|a| a.name == "Kari Nurse").unwrap();
    let me = format!("staff/{}", account.id);
    assert!(rows.iter().any(|r| r.0 == me && r.1 == "worklist" && r.4.as_deref() == Some(patient.as_str())));
    assert!(rows.iter().any(|r| r.0 == me && r.1 == "read" && r.3.as_deref() == Some(task_id)));
}

#[test]
fn an_integration_moves_the_task_over_fhir_and_the_device_sees_it_the_same() {
    let server = Server::start();
    let (_, diary) = server.paired_diary(&server.url);
    fever(&diary);
    diary.sync();
    let staff = server.staff();
    let list = staff_get(&server, &staff, "/fhir/Task?code=triage&status=requested");
    let mut task = list["entry"][0]["resource"].clone();
    let id = task["id"].as_str().unwrap().to_owned();
    task["status"] = json!("accepted");
    task["owner"] = json!({ "reference": "Practitioner/dr-1", "display": "Dr Hansen" });
    task["executionPeriod"] = json!({ "start": "2026-12-01T10:00:00.000Z" });
    let put = |body: &Value, if_match: &str| {
        let url = format!("{}/fhir/Task/{id}", server.url);
        companion_core::sync::block_on(async {
            reqwest::Client::new()
                .put(url)
                .bearer_auth(&staff)
                .header("If-Match", if_match)
                .json(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
        .unwrap()
    };
    assert_eq!(put(&task, "W/\"7\""), 412, "an old version is refused");
    assert_eq!(put(&task, "W/\"1\""), 200);
    // The worklist's index follows the FHIR write.
    let open = server.db.worklist(&companion_clinic::db::triage::Filter::Open, 10, 0).unwrap().1;
    assert_eq!((open[0].status.as_str(), open[0].owner_name.as_deref()), ("accepted", Some("Dr Hansen")));
    diary.sync();
    let a = diary.open().advice_shown(1).unwrap().remove(0);
    assert_eq!(a.receipt.taken_by.as_deref(), Some("Dr Hansen"));
    // A device can never write the receipt itself.
    let (_, other) = server.paired_diary(&server.url);
    drop(other);
    let token = diary.open().sync_link().unwrap().unwrap().token;
    assert_eq!(put(&task, "W/\"2\""), 200);
    let forged = companion_core::sync::block_on(async {
        reqwest::Client::new()
            .put(format!("{}/fhir/Task/{id}", server.url))
            .bearer_auth(&token)
            .json(&task)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
    .unwrap();
    assert_eq!(forged, 403);
}

#[test]
fn targets_come_from_the_clinics_settings_and_levels_set_the_priority() {
    let server = Server::start();
    server.db.set_targets("admin", &[("call_now".into(), "30m".into())]).unwrap();
    assert!(server.db.set_targets("admin", &[("call_now".into(), "soon".into())]).unwrap_err().to_string().contains("call_now"));
    assert!(server
        .db
        .set_targets("admin", &[("lunch".into(), "1h".into())])
        .unwrap_err()
        .to_string()
        .contains("call_now, contact_24h, tell_team"));
    let (_, diary) = server.paired_diary(&server.url);
    fever(&diary);
    diary.sync();
    let open = server.db.worklist(&companion_clinic::db::triage::Filter::Open, 10, 0).unwrap().1;
    let received = chrono::DateTime::parse_from_rfc3339(&open[0].received_at).unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(&open[0].due_at).unwrap();
    assert_eq!((due - received).num_minutes(), 30);
    assert_eq!((open[0].priority.as_str(), open[0].reporter.role.as_str()), ("stat", "patient"));
}

#[test]
fn roles_sessions_and_guessing() {
    let server = Server::start();
    use companion_clinic::db::Role::{Admin, Coordinator, Nurse};
    server.db.add_account("Kari Nurse", Nurse, NURSE_PASSWORD).unwrap();
    server.db.add_account("Cora Coordinator", Coordinator, NURSE_PASSWORD).unwrap();
    server.db.add_account("Ada Admin", Admin, NURSE_PASSWORD).unwrap();
    assert!(matches!(server.db.add_account("kari nurse", Admin, NURSE_PASSWORD), Err(StoreError::StateConflict(_))));
    // Names with Norwegian letters sign in and are found whatever their case, on both backends.
    server.db.add_account("Øyvind Ås", Nurse, NURSE_PASSWORD).unwrap();
    assert!(matches!(server.db.add_account("øyvind ås", Nurse, NURSE_PASSWORD), Err(StoreError::StateConflict(_))));
    assert!(server.db.sign_in("ØYVIND ÅS", NURSE_PASSWORD).unwrap().is_some());
    server.db.add_patient("Åse Ørnes").unwrap();
    assert_eq!(server.db.find_patients("åse ør", 10).unwrap().len(), 1);
    assert!(matches!(server.db.add_account("Short", Nurse, "short"), Err(StoreError::Invalid(_))));
    // Not signed in: to the sign-in page.
    let anon = Browser::new(&server.url);
    assert_eq!(anon.get("/care").location.as_deref(), Some("/care/sign-in"));
    // A sign-in form posted from elsewhere (no form cookie) is refused.
    let cross = anon.post("/care/sign-in", &[("form", "x"), ("name", "Kari Nurse"), ("password", NURSE_PASSWORD)]);
    assert_eq!(cross.status, 403);

    let nurse = Browser::new(&server.url);
    assert_eq!(nurse.sign_in("Kari Nurse", NURSE_PASSWORD).status, 303);
    let cookie = nurse.cookie("companion-session").expect("a session cookie");
    assert_eq!(nurse.get("/care").status, 200);
    assert_eq!(nurse.get("/care/admin").status, 403, "a nurse cannot reach admin pages");
    assert_eq!(nurse.get("/care/workload").status, 403);
    let page = nurse.get("/care");
    assert!(!page.body.contains("/care/admin"), "a nurse is not offered the admin page");
    assert!(!page.body.contains("<script>") && !page.body.contains(" style="), "no inline script or style (the CSP allows none)");

    let coordinator = Browser::new(&server.url);
    coordinator.sign_in("Cora Coordinator", NURSE_PASSWORD);
    assert_eq!(coordinator.get("/care/workload").status, 200);
    assert_eq!(coordinator.get("/care/admin").status, 403);

    let admin = Browser::new(&server.url);
    admin.sign_in("Ada Admin", NURSE_PASSWORD);
    let settings = admin.get("/care/admin");
    assert_eq!(settings.status, 200);
    let csrf = hidden(&settings.body, "csrf");
    let saved = admin.post("/care/admin", &[("csrf", &csrf), ("call_now", "45m"), ("contact_24h", "24h"), ("tell_team", "3wd")]);
    assert_eq!(saved.status, 200);
    assert_eq!(server.db.targets().unwrap()[0].1.text(), "45m");
    let bad = admin.post("/care/admin", &[("csrf", &csrf), ("call_now", "whenever")]);
    assert_eq!(bad.status, 422);

    // The cookie is HttpOnly and SameSite=Strict.
    let raw = companion_core::sync::block_on(async {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let form = client.get(format!("{}/care/sign-in", server.url)).send().await.unwrap();
        let jar: Vec<String> = form.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect();
        let pair = jar[0].split(';').next().unwrap().to_owned();
        let token = pair.split_once('=').unwrap().1.to_owned();
        let body = form.text().await.unwrap();
        let res = client
            .post(format!("{}/care/sign-in", server.url))
            .header(COOKIE, pair)
            .form(&[("form", hidden(&body, "form")), ("name", "Kari Nurse".into()), ("password", NURSE_PASSWORD.into())])
            .send()
            .await
            .unwrap();
        let _ = token;
        res.headers().get(SET_COOKIE).unwrap().to_str().unwrap().to_owned()
    })
    .unwrap();
    assert!(raw.contains("HttpOnly") && raw.contains("SameSite=Strict") && raw.contains("Path=/"), "{raw}");

    // Idle for longer than 30 minutes, or signed in 12 hours ago: signed out.
    server.db.age_session(&cookie, false).unwrap();
    assert_eq!(nurse.get("/care").location.as_deref(), Some("/care/sign-in?ended=1"));
    nurse.sign_in("Kari Nurse", NURSE_PASSWORD);
    let again = nurse.cookie("companion-session").unwrap();
    server.db.age_session(&again, true).unwrap();
    assert_eq!(nurse.get("/care").status, 303);
    // Signing out ends the session on the server, not only in the browser.
    nurse.sign_in("Kari Nurse", NURSE_PASSWORD);
    let third = nurse.cookie("companion-session").unwrap();
    let csrf = hidden(&nurse.get("/care").body, "csrf");
    assert_eq!(nurse.post("/care/sign-out", &[("csrf", &csrf)]).status, 303);
    let stolen = Browser::new(&server.url);
    stolen.cookies.lock().unwrap().push(("companion-session".into(), third));
    assert_eq!(stolen.get("/care").status, 303, "a copied cookie of an ended session opens nothing");

    // Guessing a password is throttled per name.
    let guesser = Browser::new(&server.url);
    let mut statuses = Vec::new();
    for i in 0..7 {
        statuses.push(guesser.sign_in("Ada Admin", &format!("wrong password {i}")).status);
    }
    assert_eq!(&statuses[..5], &[401; 5]);
    assert_eq!(statuses[5], 429, "{statuses:?}");
    // The right password is still refused while the name is throttled.
    assert_eq!(guesser.sign_in("Ada Admin", NURSE_PASSWORD).status, 429);
}

#[test]
fn the_patient_page_asks_a_reason_without_an_alert_and_its_forms_reach_the_device() {
    use companion_core::domain::NewQuestion;
    let server = Server::start();
    let (patient, diary) = server.paired_diary(&server.url);
    let q = diary.open().add(&NewEntry::Question(NewQuestion { text: "Can I travel?".into() })).unwrap();
    diary.sync();
    server.db.add_account("Kari Nurse", companion_clinic::db::Role::Nurse, NURSE_PASSWORD).unwrap();
    server.db.add_account("Cora Coordinator", companion_clinic::db::Role::Coordinator, NURSE_PASSWORD).unwrap();
    let kari = Browser::new(&server.url);
    kari.sign_in("Kari Nurse", NURSE_PASSWORD);
    // Found by name; no alert, no visit: a reason first, and nothing of the record before it.
    let found = kari.get("/care/patients?q=nordm");
    assert!(found.body.contains(&format!("/care/patients/{patient}")), "{}", found.body);
    let gate = kari.get(&format!("/care/patients/{patient}"));
    assert!(gate.body.contains("Why do you need to open this record?"));
    assert!(!gate.body.contains("Can I travel?"));
    let csrf = hidden(&gate.body, "csrf");
    let short = kari.post(&format!("/care/patients/{patient}/reason"), &[("csrf", &csrf), ("reason", "x")]);
    assert_eq!(short.status, 422);
    let given = kari.post(&format!("/care/patients/{patient}/reason"), &[("csrf", &csrf), ("reason", "Called by the GP about her pain")]);
    assert_eq!(given.status, 303);
    let page = kari.get(&format!("/care/patients/{patient}"));
    assert!(page.body.contains("Can I travel?") && page.body.contains("Recorded by the patient"), "{}", page.body);
    assert!(page.body.contains("Summary for the visit, last 14 days"));

    // An answer to the question, and a visit booked, moved and cancelled, all reach the device.
    let answered = kari
        .post(&format!("/care/patients/{patient}/questions/{}/answer", q.id), &[("csrf", &csrf), ("text", "Yes, after the next cycle.")]);
    assert_eq!(answered.status, 303);
    let soon = (chrono::Utc::now() + chrono::Duration::days(10)).format("%Y-%m-%dT10:00").to_string();
    let bad = kari.post(&format!("/care/patients/{patient}/appointments"), &[("csrf", &csrf), ("start", "tomorrow"), ("minutes", "30")]);
    assert_eq!(bad.status, 422);
    let booked = kari.post(
        &format!("/care/patients/{patient}/appointments"),
        &[("csrf", &csrf), ("start", &soon), ("minutes", "45"), ("description", "Check-up with blood tests")],
    );
    assert_eq!(booked.status, 303);
    diary.sync();
    let store = diary.open();
    assert_eq!(store.clinic_answers().unwrap()[0].text, "Yes, after the next cycle.");
    let visits = store.appointments().unwrap();
    assert_eq!((visits.len(), visits[0].description.as_deref()), (1, Some("Check-up with blood tests")));
    assert_eq!(visits[0].end.unwrap() - visits[0].start, chrono::Duration::minutes(45));
    let first_start = visits[0].start;
    drop(store);
    let page = kari.get(&format!("/care/patients/{patient}"));
    let version = hidden(&page.body, "version");
    let visit = visits[0].id.clone();
    let later = (chrono::Utc::now() + chrono::Duration::days(11)).format("%Y-%m-%dT14:30").to_string();
    let moved = kari
        .post(&format!("/care/patients/{patient}/appointments/{visit}/move"), &[("csrf", &csrf), ("version", &version), ("start", &later)]);
    assert_eq!(moved.status, 303);
    let stale = kari.post(&format!("/care/patients/{patient}/appointments/{visit}/cancel"), &[("csrf", &csrf), ("version", &version)]);
    assert_eq!(stale.status, 409, "a page showing the old time cannot cancel the moved visit");
    diary.sync();
    let moved_visit = diary.open().appointments().unwrap().remove(0);
    assert!(moved_visit.start > first_start);
    assert_eq!(moved_visit.end.unwrap() - moved_visit.start, chrono::Duration::minutes(45), "its length is kept");
    let page = kari.get(&format!("/care/patients/{patient}"));
    let version = hidden(&page.body, "version");
    assert_eq!(
        kari.post(&format!("/care/patients/{patient}/appointments/{visit}/cancel"), &[("csrf", &csrf), ("version", &version)]).status,
        303
    );
    diary.sync();
    assert!(diary.open().appointments().unwrap().is_empty());

    // A nurse does not see who has looked; the coordinator does, with the reason given.
    assert!(!page.body.contains("Who has opened this record"));
    let cora = Browser::new(&server.url);
    cora.sign_in("Cora Coordinator", NURSE_PASSWORD);
    // The visit was cancelled, so she too gives a reason first.
    let gate = cora.get(&format!("/care/patients/{patient}"));
    assert!(gate.body.contains("Why do you need to open this record?"));
    let cora_csrf = hidden(&gate.body, "csrf");
    cora.post(&format!("/care/patients/{patient}/reason"), &[("csrf", &cora_csrf), ("reason", "Checking the access log, as Normen asks")]);
    let seen = cora.get(&format!("/care/patients/{patient}"));
    assert!(seen.body.contains("Who has opened this record") && seen.body.contains("Called by the GP about her pain"), "{}", seen.body);
    assert!(seen.body.contains("Kari Nurse (Nurse)"));
    diary.sync();
    let log = diary.open().access_log().unwrap();
    assert!(log.iter().any(|a| a.who == "Kari Nurse" && a.role == "nurse" && a.what == "read"), "{log:?}");

    // Registering shows the code large and as a QR code; the code pairs a device.
    let list = kari.get("/care/patients");
    let registered = kari.post("/care/patients", &[("csrf", &hidden(&list.body, "csrf")), ("name", "Ola Hansen")]);
    assert_eq!(registered.status, 200);
    assert!(registered.body.contains("<svg") && registered.body.contains("Pairing code for Ola Hansen"));
    let start = registered.body.find("class=\"pairing-code\"").unwrap();
    let code: String = registered.body[start..].split('>').nth(1).unwrap().split('<').next().unwrap().to_owned();
    let other = crate::harness::Diary::new();
    companion_core::sync::block_on(companion_core::sync::pair(&mut other.open(), &server.url, &code)).unwrap().unwrap();
}

#[test]
fn a_carer_sees_receipts_only_for_what_they_reported_or_may_see() {
    use companion_clinic::fhir::carer_may_see;
    use companion_core::domain::Scope;
    let triage = |reason: &str, requester: &str| {
        json!({ "resourceType": "Task", "code": { "coding": [{ "system": companion_clinic::db::triage::task_system(), "code": "triage" }] },
                "reasonReference": { "reference": reason }, "requester": { "reference": requester } })
    };
    let mine = triage("Observation/o1", "RelatedPerson/c1");
    assert!(carer_may_see("Task", &mine, "c1", &[]), "what they reported");
    let patients_fever = triage("Observation/o2", "Patient/p1");
    assert!(!carer_may_see("Task", &patients_fever, "c1", &[Scope::Questions]));
    assert!(carer_may_see("Task", &patients_fever, "c1", &[Scope::Symptoms]));
    let phq = triage("QuestionnaireResponse/q1", "Patient/p1");
    assert!(!carer_may_see("Task", &phq, "c1", &[Scope::Symptoms]), "a check-in's alert needs check-ins");
    let message = json!({ "resourceType": "Communication", "about": [{ "reference": "Task/triage-x" }, { "reference": "QuestionnaireResponse/q1" }],
                          "recipient": [{ "reference": "Patient/p1" }] });
    assert!(!carer_may_see("Communication", &message, "c1", &[Scope::Questions]), "not a question: the alert's scope decides");
    assert!(carer_may_see("Communication", &message, "c1", &[Scope::Checkins]));
}

#[test]
fn a_device_cannot_pass_words_off_as_the_nurses_nor_a_client_unmake_a_triage_task() {
    let server = Server::start();
    let (patient, diary) = server.paired_diary(&server.url);
    fever(&diary);
    diary.sync();
    let staff = server.staff();
    let list = staff_get(&server, &staff, "/fhir/Task?code=triage&status=requested");
    let task = list["entry"][0]["resource"].clone();
    let id = task["id"].as_str().unwrap().to_owned();
    let device = diary.open().sync_link().unwrap().unwrap().token;
    let put = |token: &str, path: &str, body: &Value| {
        let url = format!("{}{path}", server.url);
        companion_core::sync::block_on(async {
            reqwest::Client::new().put(url).bearer_auth(token).json(body).send().await.unwrap().status().as_u16()
        })
        .unwrap()
    };
    // The patient's device writes a "message" about the triage task: stored as the patient's,
    // never shown as the clinic's, on the alert page or on the device.
    let fake = json!({ "resourceType": "Communication", "id": "fake-1", "status": "completed",
        "subject": { "reference": format!("Patient/{patient}") }, "about": [{ "reference": format!("Task/{id}") }],
        "payload": [{ "contentString": "The nurse says: no need to call." }] });
    assert_eq!(put(&device, "/fhir/Communication/fake-1", &fake), 201);
    server.db.add_account("Kari Nurse", companion_clinic::db::Role::Nurse, NURSE_PASSWORD).unwrap();
    let kari = Browser::new(&server.url);
    kari.sign_in("Kari Nurse", NURSE_PASSWORD);
    let page = kari.get(&format!("/care/alerts/{id}"));
    assert!(!page.body.contains("no need to call"), "{}", page.body);
    // What cannot be read is refused, naming nothing: an id that is not one, a note too long.
    assert_eq!(kari.get("/care/alerts/not%20an%20id").status, 404);
    let long = "x".repeat(companion_clinic::care::MAX_TEXT + 1);
    let (c0, v0) = (hidden(&page.body, "csrf"), hidden(&page.body, "version"));
    assert_eq!(kari.post(&format!("/care/alerts/{id}/note"), &[("csrf", &c0), ("version", &v0), ("note", &long)]).status, 422);
    assert_eq!(server.db.read(&companion_clinic::db::Actor::Staff { id: "t".into() }, "Task", &id).unwrap().unwrap().version, 1);
    diary.sync();
    assert_eq!(diary.open().advice_shown(1).unwrap()[0].receipt.message, None);
    // Taken twice: the second is refused, and so is closing twice.
    let (csrf, version) = (hidden(&page.body, "csrf"), hidden(&page.body, "version"));
    assert_eq!(kari.post(&format!("/care/alerts/{id}/take"), &[("csrf", &csrf), ("version", &version)]).status, 303);
    let v2 = hidden(&kari.get(&format!("/care/alerts/{id}")).body, "version");
    assert_eq!(kari.post(&format!("/care/alerts/{id}/take"), &[("csrf", &csrf), ("version", &v2)]).status, 409);
    let close = [("csrf", csrf.as_str()), ("version", v2.as_str()), ("outcome", "self_care")];
    assert_eq!(kari.post(&format!("/care/alerts/{id}/close"), &close).status, 303);
    let v3 = hidden(&kari.get(&format!("/care/alerts/{id}")).body, "version");
    let again = [("csrf", csrf.as_str()), ("version", v3.as_str()), ("outcome", "no_answer")];
    assert_eq!(kari.post(&format!("/care/alerts/{id}/close"), &again).status, 409, "a closed alert is not closed again");
    // A FHIR client may move a triage task, not turn it into something else.
    let mut current = staff_get(&server, &staff, &format!("/fhir/Task/{id}"));
    current.as_object_mut().unwrap().remove("meta");
    let mut other = current.clone();
    other["code"] = json!({ "text": "something else" });
    assert_eq!(put(&staff, &format!("/fhir/Task/{id}"), &other), 422);
    let mut moved = current.clone();
    moved["focus"] = json!({ "reference": "Flag/another" });
    assert_eq!(put(&staff, &format!("/fhir/Task/{id}"), &moved), 422);
}

#[test]
fn a_nurse_asks_for_a_form_and_the_device_shows_it_due() {
    let server = Server::start();
    let (patient, diary) = server.paired_diary(&server.url);
    fever(&diary);
    diary.sync();
    server.db.add_account("Kari Nurse", companion_clinic::db::Role::Nurse, NURSE_PASSWORD).unwrap();
    let kari = Browser::new(&server.url);
    kari.sign_in("Kari Nurse", NURSE_PASSWORD);
    // The fever is a reason to open her record; the shipped PHQ-9 is one of the forms offered.
    let page = kari.get(&format!("/care/patients/{patient}"));
    assert!(page.body.contains("value=\"shipped:phq9\""), "{}", page.body);
    let csrf = hidden(&page.body, "csrf");
    let day = (chrono::Utc::now() + chrono::Duration::days(3)).format("%Y-%m-%d").to_string();
    assert_eq!(kari.post(&format!("/care/patients/{patient}/forms"), &[("csrf", &csrf), ("form", "shipped:nothing")]).status, 422);
    assert_eq!(
        kari.post(&format!("/care/patients/{patient}/forms"), &[("csrf", &csrf), ("form", "shipped:phq9"), ("due", "soon")]).status,
        422
    );
    let asked = kari.post(&format!("/care/patients/{patient}/forms"), &[("csrf", &csrf), ("form", "shipped:phq9"), ("due", &day)]);
    assert_eq!(asked.status, 303);
    // Asking again publishes the form once.
    assert_eq!(kari.post(&format!("/care/patients/{patient}/forms"), &[("csrf", &csrf), ("form", "shipped:gad7")]).status, 303);
    diary.sync();
    let store = diary.open();
    let due = store.assigned().unwrap();
    let mut asked_for: Vec<(&str, bool)> = due.iter().map(|a| (a.instrument.as_str(), a.due.is_some())).collect();
    asked_for.sort();
    assert_eq!(asked_for, vec![("gad7", false), ("phq9", true)], "{due:?}");
    assert!(kari.get(&format!("/care/patients/{patient}")).body.contains("asked for"));
}
