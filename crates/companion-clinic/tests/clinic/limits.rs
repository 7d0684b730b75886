//! Limits and abuse: stalled bodies against the server's memory, throttled pairing and
//! credentials, revocation that voids codes, staff tokens that end, private files.

use crate::attacks::raw;
use crate::carers::{call, invite, CarerDevice};
use crate::harness::{Server, TestDb};
use crate::restart::{admin, command, Process};
use companion_core::domain::Scope;
use companion_core::sync::block_on;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The resident memory of a process, in kB, from `/proc`.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Sends headers and as much of an 8 MB body as the socket takes in `for_how_long`, then stops.
fn stall(address: &str, head: &str, for_how_long: Duration) -> TcpStream {
    let mut s = TcpStream::connect(address).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    s.set_write_timeout(Some(Duration::from_millis(100))).unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    let start = Instant::now();
    let mut sent = 0;
    // Headers that stop half-way get nothing more.
    let body_follows = head.ends_with("\r\n\r\n") || head.ends_with("800000\r\n");
    while body_follows && sent < 8 * 1024 * 1024 && start.elapsed() < for_how_long {
        match s.write(&chunk) {
            Ok(n) => sent += n,
            Err(_) => break,
        }
    }
    s
}

/// Whether the server closes the connection within `limit`.
fn closed_within(mut s: TcpStream, limit: Duration) -> bool {
    s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    while start.elapsed() < limit {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => continue,
            Err(_) => return true,
        }
    }
    false
}

#[test]
fn sixteen_stalled_anonymous_8_mb_bodies_do_not_grow_memory_and_are_closed_within_seconds() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new();
    let server = Process::start_with(dir.path(), &db, "127.0.0.1:0", &["--idle-timeout", "3"]);
    let pid = server.child.id();
    // Warm up: one ordinary request, so what is measured is the stalled ones.
    let _ = TcpStream::connect(&server.address).unwrap().write_all(b"GET /fhir/metadata HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    std::thread::sleep(Duration::from_millis(300));
    let before = rss_kb(pid);
    let heads = [
        // A declared length over the anonymous limit: refused before a byte of it is read.
        "PUT /fhir/Observation/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\nContent-Length: 8388608\r\n\r\n",
        // No declared length, no credential: refused before the body is read.
        "PUT /fhir/Observation/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n\r\n800000\r\n",
        // Anonymous pairing with an endless body: read up to 16 KB, then refused.
        "POST /pair HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n800000\r\n",
        // Headers that never end.
        "PUT /fhir/Observation/x HTTP/1.1\r\nHost: x\r\nX-Slow: ",
        // Headers sent, then the request line of the next request never comes (an idle
        // keep-alive after a refused request).
        "GET /fhir/Observation HTTP/1.1\r\nHost: x\r\n\r\n",
    ];
    let started = Instant::now();
    let mut streams = Vec::new();
    for i in 0..16 {
        streams.push((i % heads.len(), stall(&server.address, heads[i % heads.len()], Duration::from_millis(150))));
    }
    let after = rss_kb(pid);
    let grown = after.saturating_sub(before);
    println!("memory with 16 stalled 8 MB bodies: {before} kB before, {after} kB after, {grown} kB more");
    assert!(grown < 4 * 1024, "memory grew by {grown} kB");
    for (kind, s) in streams {
        assert!(closed_within(s, Duration::from_secs(8)), "a stalled connection ({kind}) stayed open");
    }
    let took = started.elapsed();
    println!("all 16 closed {:.1} s after they started (idle timeout 3 s)", took.as_secs_f64());
    assert!(took >= Duration::from_secs(2), "the silent ones were closed by the idle timeout");
    // And the server still serves.
    let url = server.url();
    let status =
        block_on(async move { reqwest::Client::new().get(format!("{url}/fhir/metadata")).send().await.unwrap().status().as_u16() })
            .unwrap();
    assert_eq!(status, 200);
    server.kill();
}

/// `n` requests at once, each on its own thread (the throttle holds each answer back on its
/// own); their statuses in order.
fn at_once(n: usize, request: impl Fn(usize) -> u16 + Sync) -> Vec<u16> {
    let request = &request;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n).map(|i| s.spawn(move || request(i))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn wrong_pairing_codes_are_slowed_then_refused_and_audited() {
    let server = Server::start();
    let (patient, _) = server.paired_diary(&server.url);
    let good = server.db.new_code(&patient).unwrap();
    let audit_before = server.db.audit_rows().unwrap().len();
    let body = |code: &str| json!({ "code": code }).to_string();
    let started = Instant::now();
    // Five at once (the delay is per answer): each refused.
    let statuses = at_once(companion_clinic::throttle::PAIR_PER_ADDRESS, |i| {
        raw(&server, "POST", "/pair", &[("content-type", "application/json")], &body(&format!("ZZZ{i}-0000-0000"))).0
    });
    assert_eq!(statuses, vec![403; companion_clinic::throttle::PAIR_PER_ADDRESS]);
    assert!(started.elapsed() >= Duration::from_millis(250), "failures are answered late");
    // The next attempt from this address, even with the right code, waits.
    let (status, media, outcome) = raw(&server, "POST", "/pair", &[("content-type", "application/json")], &body(&good));
    assert_eq!((status, media.as_str(), outcome["issue"][0]["code"].as_str()), (429, "application/fhir+json", Some("throttled")));
    let refusals: Vec<_> = server.db.audit_rows().unwrap().into_iter().skip(audit_before).filter(|r| r.1 == "pair").collect();
    assert_eq!(refusals.len(), companion_clinic::throttle::PAIR_PER_ADDRESS, "every failure audited");
    assert!(refusals.iter().all(|r| r.0 == "address/127.0.0.1" && r.5 == "refused"));
}

#[test]
fn unknown_credentials_are_throttled_per_address() {
    let server = Server::start();
    let (_, diary) = server.paired_diary(&server.url);
    let valid = diary.open().sync_link().unwrap().unwrap().token;
    let statuses = at_once(companion_clinic::throttle::AUTH_PER_ADDRESS, |i| {
        raw(&server, "GET", "/fhir/Observation", &[("authorization", &format!("Bearer guess-{i}"))], "").0
    });
    assert!(statuses.iter().all(|s| *s == 401));
    let (status, _, _) = raw(&server, "GET", "/fhir/Observation", &[("authorization", "Bearer another")], "");
    assert_eq!(status, 429);
    // A valid credential from the same address (a hospital's network shares one) still works.
    let (status, _, _) = raw(&server, "GET", "/fhir/Observation", &[("authorization", &format!("Bearer {valid}"))], "");
    assert_eq!(status, 200);
    let refused = server.db.audit_rows().unwrap().into_iter().filter(|r| r.1 == "authenticate" && r.5 == "refused").count();
    assert_eq!(refused, companion_clinic::throttle::AUTH_PER_ADDRESS);
}

#[test]
fn revoking_a_patients_devices_voids_their_codes_and_invitations_and_a_removed_carer_stays_removed() {
    let server = Server::start();
    let (patient, diary) = server.paired_diary(&server.url);
    let unused = server.db.new_code(&patient).unwrap();
    let mut store = diary.open();
    let invitation = invite(&mut store, "Ingrid", &[Scope::Questions], None);
    let removed = invite(&mut store, "Ola", &[Scope::Questions], None);
    let ola = CarerDevice::join(&server.url, &removed.code);
    let token = store.sync_link().unwrap().unwrap().token;
    drop(store);
    // The patient removes Ola; inviting under Ola's id again is refused, and writes nothing.
    let (status, _) = call("POST", format!("{}/carers/{}/revoke", server.url, removed.carer), &token, None);
    assert_eq!(status, 204);
    let before = server.db.version_count().unwrap();
    let (status, outcome) = block_on(async {
        let res = reqwest::Client::new()
            .post(format!("{}/carers", server.url))
            .bearer_auth(&token)
            .json(&json!({ "id": removed.carer, "name": "Ola", "allow": ["questions"] }))
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.json::<Value>().await.unwrap())
    })
    .unwrap();
    assert_eq!(status, 409, "{outcome}");
    assert_eq!(server.db.version_count().unwrap(), before);
    assert_eq!(call("GET", format!("{}/fhir/Communication", server.url), &ola.token(), None).0, 401);

    server.db.revoke_devices(&patient).unwrap();
    for (code, role) in [(unused, None), (invitation.code, Some("carer"))] {
        let mut body = json!({ "code": code });
        if let Some(r) = role {
            body["as"] = json!(r);
        }
        let (status, _, outcome) = raw(&server, "POST", "/pair", &[("content-type", "application/json")], &body.to_string());
        assert_eq!(status, 403, "{outcome}");
    }
}

#[test]
fn staff_tokens_expire_can_be_listed_without_the_token_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new();
    let server = Process::start(dir.path(), &db, "127.0.0.1:0");
    let token = admin(dir.path(), &db, &["staff", "add", "--name", "Nurse Nora", "--json"])["token"].as_str().unwrap().to_owned();
    let other =
        admin(dir.path(), &db, &["staff", "add", "--name", "Integration", "--hours", "48", "--json"])["token"].as_str().unwrap().to_owned();
    let get = |t: &str| {
        block_on(async {
            reqwest::Client::new()
                .get(format!("{}/fhir/Questionnaire", server.url()))
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
        .unwrap()
    };
    assert_eq!(get(&token), 200);
    let list = admin(dir.path(), &db, &["staff", "list", "--json"]);
    let text = list.to_string();
    assert!(!text.contains(&token) && !text.contains(token.rsplit('.').next().unwrap()), "the list never shows a token");
    let nora = list.as_array().unwrap().iter().find(|t| t["name"] == "Nurse Nora").unwrap();
    assert!(nora["last_used_at"].is_string(), "{nora}");
    let hours = |t: &Value| {
        let at = |k: &str| chrono::DateTime::parse_from_rfc3339(t[k].as_str().unwrap()).unwrap();
        (at("expires_at") - at("created_at")).num_hours()
    };
    assert_eq!(hours(nora), 12, "12 hours unless asked");
    assert_eq!(hours(list.as_array().unwrap().iter().find(|t| t["name"] == "Integration").unwrap()), 48);
    // Only a keyed hash is stored.
    let stored = std::fs::read(dir.path().join("clinic.db")).unwrap_or_default();
    assert!(db.url.is_some() || !String::from_utf8_lossy(&stored).contains(token.rsplit('.').next().unwrap()));

    let out = command(dir.path(), &db).args(["staff", "revoke", "--name", "Nurse Nora"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(get(&token), 401, "revoked");
    assert_eq!(get(&other), 200, "the other token goes on");
    let out = command(dir.path(), &db).args(["staff", "add", "--name", "X", "--hours", "0"]).output().unwrap();
    assert!(!out.status.success(), "--hours 0 is refused");
    companion_clinic::db::Db::open_with(dir.path(), db.url.as_deref()).unwrap().expire_staff_tokens().unwrap();
    assert_eq!(get(&other), 401, "expired");
    server.kill();
}

#[cfg(unix)]
#[test]
fn the_servers_folder_and_files_are_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("clinic-data");
    let db = TestDb::new();
    // A permissive umask, as a careless service unit might leave.
    let mut cmd = command(&dir, &db);
    cmd.args(["patient", "add", "--name", "Kari", "--json"]);
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("umask 000 && exec \"$0\" \"$@\"")
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
}

#[test]
fn one_address_cannot_take_every_connection() {
    let server = Server::start();
    let address = server.url.trim_start_matches("http://").to_owned();
    let limit = companion_clinic::serve::Limits::default().per_address;
    let held: Vec<TcpStream> = (0..limit).map(|_| TcpStream::connect(&address).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(200));
    // The next one from the same address is closed at once, unanswered.
    let extra = TcpStream::connect(&address).unwrap();
    assert!(closed_within(extra, Duration::from_secs(1)), "the connection over the limit is closed");
    assert!(!closed_within(held[0].try_clone().unwrap(), Duration::from_millis(500)), "the ones within the limit stay open");
    drop(held);
    std::thread::sleep(Duration::from_millis(200));
    // With them gone, the address is served again.
    let (status, _, _) = raw(&server, "GET", "/fhir/metadata", &[], "");
    assert_eq!(status, 200);
}
