//! The push half of a round: the outbox as `batch` bundles of idempotent `PUT`s, each answer
//! sorted (done, set aside, merge on 412, later), and the merge with the server's copy.

use super::*;

pub(super) async fn push_batch(db: &impl Diary, http: &reqwest::Client, link: &SyncLink, report: &mut Report) -> Result<Push> {
    // Read what to send in one step; the store is free again while it travels.
    let (queued, entries, owner, main) = db.with(|store| bundle_entries(store, link))?;
    if queued.is_empty() {
        return Ok(Push::Stop(Outcome::Done));
    }
    let bundle = json!({ "resourceType": "Bundle", "type": "batch", "entry": entries });
    let seqs: Vec<i64> = queued.iter().map(|q| q.seq).collect();
    let res = match http.post(format!("{}/fhir", link.server)).bearer_auth(&link.token).json(&bundle).send().await {
        Ok(r) => r,
        Err(_) => {
            db.with(|s| s.outbox_retry_later(&seqs, None))?;
            return Ok(Push::Stop(super::later()));
        }
    };
    let status = status_of(&res);
    if status != 200 {
        let after = retry_after(&res);
        db.with(|s| s.outbox_retry_later(&seqs, Some(status.min(599))))?;
        return Ok(Push::Stop(stop_for(status, after)));
    }
    let Ok(reply) = res.json::<Value>().await else {
        // The connection broke mid-response: the server may hold some of it; PUTs are
        // idempotent, so sending again is safe.
        db.with(|s| s.outbox_retry_later(&seqs, None))?;
        return Ok(Push::Stop(super::later()));
    };
    let results = reply.get("entry").and_then(Value::as_array).cloned().unwrap_or_default();
    if results.len() != owner.len() {
        db.with(|s| s.outbox_retry_later(&seqs, Some(status)))?;
        return Ok(Push::Stop(super::later()));
    }
    // An item is done when all its resources landed; refused when any was refused.
    let mut worst: Vec<(u16, String)> = vec![(200, String::new()); queued.len()];
    for (r, i) in results.iter().zip(&owner) {
        let code: u16 = r
            .pointer("/response/status")
            .and_then(Value::as_str)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(500);
        if code >= 300 && (worst[*i].0 < 300 || code > worst[*i].0) {
            let why = r.pointer("/response/outcome/issue/0/diagnostics").and_then(Value::as_str).unwrap_or("").to_owned();
            worst[*i] = (code, why);
        }
    }
    // The server's version of each record it took.
    let versions: Vec<(uuid::Uuid, i64)> = main
        .iter()
        .zip(&worst)
        .filter_map(|(slot, (code, _))| {
            let (at, id) = slot.as_ref().filter(|_| (200..300).contains(code))?;
            let etag = results[*at].pointer("/response/etag").and_then(Value::as_str)?;
            Some((*id, wire::etag_version(etag)?))
        })
        .collect();
    db.with(|s| s.note_server_versions(&versions))?;
    let mut done = Vec::new();
    let mut later = Vec::new();
    for ((q, (code, why)), slot) in queued.iter().zip(worst).zip(&main) {
        match code {
            200..=299 => done.push(q.seq),
            412 => match slot {
                // Changed elsewhere since this device last saw it: take in the server's copy,
                // merge, and send the merge (or nothing, if the server's copy is the merge).
                Some((at, id)) => {
                    let url = entries[*at].pointer("/request/url").and_then(Value::as_str).unwrap_or_default().to_owned();
                    match merge_from_server(db, http, link, &url, *id).await? {
                        Some(false) => done.push(q.seq),
                        Some(true) => {}
                        None => later.push(q.seq),
                    }
                    report.merged += 1;
                }
                None => later.push(q.seq),
            },
            // One record refused inside an accepted request: set aside, the rest go on. A 403
            // here is about that record (a carer outside what the patient allows now); access
            // ended is a 401 or 403 on the whole request, above.
            400 | 403 | 404 | 409 | 413 | 422 => {
                db.with(|s| s.outbox_quarantine(q.seq, code, &why))?;
                report.refused += 1;
            }
            401 => {
                db.with(|s| s.outbox_retry_later(&[q.seq], Some(code)))?;
                return Ok(Push::Stop(stop_for(code, None)));
            }
            _ => later.push(q.seq),
        }
    }
    report.sent += done.len();
    // "Sent" only for advice whose Flag went in this request and was taken (advice about a
    // record this device does not send, such as a carer's private check-in, goes nowhere).
    let delivered: std::collections::HashSet<usize> = owner.iter().copied().collect();
    let advice_sent: Vec<uuid::Uuid> = queued
        .iter()
        .enumerate()
        .filter(|(i, q)| q.item == "advice" && delivered.contains(i) && done.contains(&q.seq))
        .map(|(_, q)| q.ref_id)
        .collect();
    db.with(|s| {
        s.outbox_sent(&done)?;
        s.note_advice_sent(&advice_sent)
    })?;
    if !later.is_empty() {
        db.with(|s| s.outbox_retry_later(&later, None))?;
        return Ok(Push::Stop(super::later()));
    }
    if report.merged > MAX_MERGES {
        // Another device keeps changing the same records: try again later.
        return Ok(Push::Stop(super::later()));
    }
    Ok(Push::Continue)
}

/// The entries of one batch bundle: the queued items, each item's resources, which item each
/// entry belongs to, and each record's main resource (its index and id).
#[allow(clippy::type_complexity)]
fn bundle_entries(
    store: &mut Store,
    link: &SyncLink,
) -> Result<(Vec<crate::store::Queued>, Vec<Value>, Vec<usize>, Vec<Option<(usize, uuid::Uuid)>>)> {
    let queued = store.outbox(BATCH)?;
    if queued.is_empty() {
        return Ok((queued, Vec::new(), Vec::new(), Vec::new()));
    }
    let device = uuid::Uuid::parse_str(&link.device).unwrap_or_default();
    let patient = store.patient()?;
    // Each queued item becomes one or more bundle entries; remember which.
    let mut entries = Vec::new();
    let mut owner = Vec::new();
    // For each queued record: the index of its main resource in the bundle, and its id.
    let mut main: Vec<Option<(usize, uuid::Uuid)>> = vec![None; queued.len()];
    // The patient's device sends each carer who wrote something as a RelatedPerson, once a
    // batch, so the references resolve (a carer's own device is not allowed to).
    let mut people = std::collections::HashSet::new();
    let sends_people = store.me().role == crate::domain::Role::Patient;
    for (i, q) in queued.iter().enumerate() {
        let resources = match q.item.as_str() {
            "entry" => match store.entry(q.ref_id) {
                Ok(e) => {
                    main[i] = Some((entries.len(), e.id));
                    let copy = store.replica(&e)?;
                    let mut out = crate::fhir::outbound_entry(&e, &copy, &patient, &link.patient, device);
                    for who in [&e.author, &e.updated_by] {
                        if sends_people && who.role == crate::domain::Role::Carer && people.insert(who.id) {
                            out.push(("RelatedPerson".into(), who.id.to_string(), crate::fhir::related_person(who, &link.patient)));
                        }
                    }
                    out
                }
                Err(Error::NotFound) => Vec::new(),
                Err(e) => return Err(e),
            },
            _ => match store.advice_by_id(q.ref_id) {
                // Advice about a carer's private check-in stays on their device, as the
                // check-in does.
                Ok(a) if store.entry(a.entry_id).is_ok_and(|e| e.private) => Vec::new(),
                Ok(a) => vec![crate::fhir::outbound_advice(&a, &link.patient, device)],
                Err(Error::NotFound) => Vec::new(),
                Err(e) => return Err(e),
            },
        };
        for (n, (rtype, id, resource)) in resources.into_iter().enumerate() {
            let mut request = json!({ "method": "PUT", "url": format!("{rtype}/{id}") });
            // An edit names the version it was made on; the server answers 412 if another
            // device changed the record since.
            if n == 0 && q.item == "entry" {
                if let Some(v) = store.server_version(q.ref_id)? {
                    request["ifMatch"] = json!(wire::etag(v));
                }
            }
            entries.push(json!({ "resource": resource, "request": request }));
            owner.push(i);
        }
    }
    Ok((queued, entries, owner, main))
}

/// Merges per round before waiting: bounds a tug of war between two devices.
const MAX_MERGES: usize = 100;

/// Reads the server's copy of a record and takes it in. Some(true): the merge differs from the
/// server's copy and must be sent; Some(false): the server's copy is the merge; None: could not
/// read it now.
async fn merge_from_server(db: &impl Diary, http: &reqwest::Client, link: &SyncLink, url: &str, id: uuid::Uuid) -> Result<Option<bool>> {
    let Ok(res) = http.get(format!("{}/fhir/{url}", link.server)).bearer_auth(&link.token).send().await else {
        return Ok(None);
    };
    if res.status().as_u16() == 404 {
        // The server does not have it (any more): send it as new.
        db.with(|s| s.forget_server_version(id))?;
        return Ok(Some(true));
    }
    if res.status().as_u16() != 200 {
        return Ok(None);
    }
    let version = res.headers().get("etag").and_then(|v| v.to_str().ok()).and_then(wire::etag_version);
    let Ok(body) = res.json::<Value>().await else { return Ok(None) };
    let Some(copy) = crate::replica::from_resource(&body).filter(|c| c.id == id) else {
        // Not a record a Companion device wrote: leave ours as it is, and try later.
        return Ok(None);
    };
    let absorbed = db.with(|s| s.absorb(&copy, version))?;
    tracing::info!(changed = absorbed.changed, resend = absorbed.resend, "merged an edit made elsewhere");
    Ok(Some(absorbed.resend))
}
