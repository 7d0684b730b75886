//! Finding a patient, and registering one: the one-time pairing code shown large and as a QR
//! code, to print or show on screen (the code and the server's address, as text a phone's camera
//! reads); a new code for another device. The code is shown once, in the answer to the form.

use super::*;
use axum::extract::{Path, Query};
use axum::Extension;
use serde::Deserialize;

#[derive(Deserialize)]
pub(super) struct Find {
    q: Option<String>,
}

pub(super) async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Query(f): Query<Find>,
) -> Response {
    let ctx = match signed_in(&state, &headers, peer.as_deref(), true).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = ctx.lang;
    let q = f.q.unwrap_or_default().chars().take(100).collect::<String>();
    let found = if q.trim().is_empty() {
        Vec::new()
    } else {
        let (db, query) = (state.db.clone(), q.clone());
        let who = ctx.session.actor();
        match blocking(move || {
            let found = db.find_patients(&query, 50)?;
            db.audit_shown(&who, "find", found.iter().map(|p| p.id.as_str()))?;
            Ok(found)
        })
        .await
        {
            Ok(f) => f,
            Err(e) => return api_error_page(lang, e),
        }
    };
    let body = html! {
        h1 { (t(lang, "patients")) }
        form.stack role="search" method="get" action="/care/patients" {
            label for="q" { (t(lang, "find_patient")) }
            input id="q" name="q" type="search" value=(q) maxlength="100" autocomplete="off";
            button type="submit" { (t(lang, "find")) }
        }
        @if !q.trim().is_empty() {
            @if found.is_empty() { p { (t(lang, "no_patients")) } }
            @else {
                ul.patients {
                    @for p in &found {
                        li {
                            a href={ "/care/patients/" (p.id) } { (p.name) }
                            @if p.open_alerts > 0 { " – " (tf(lang, "open_alerts", &[("n", &p.open_alerts.to_string())])) }
                        }
                    }
                }
            }
        }
        h2 { (t(lang, "register")) }
        form.stack method="post" action="/care/patients" {
            input type="hidden" name="csrf" value=(ctx.session.csrf);
            label for="name" { (t(lang, "patient_name")) }
            input id="name" name="name" type="text" required maxlength="100" autocomplete="off";
            button type="submit" { (t(lang, "register_button")) }
        }
    };
    html_response(StatusCode::OK, layout(lang, Some(&ctx), t(lang, "patients"), body))
}

#[derive(Deserialize)]
pub(super) struct Register {
    csrf: String,
    name: String,
}

pub(super) async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    axum::Form(f): axum::Form<Register>,
) -> Response {
    let peer = peer.as_deref();
    let ctx = match form_session(&state, &headers, peer, &f.csrf).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let name = f.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > companion_protocol::limits::MAX_NAME {
        return error_page(ctx.lang, StatusCode::UNPROCESSABLE_ENTITY, "patient_name_bad");
    }
    let (db, who) = (state.db.clone(), ctx.session.actor());
    match blocking(move || {
        let (id, code) = db.add_patient(&name)?;
        db.audit_event(&who.label(), "register", None, None, Some(&id), "ok")?;
        Ok((id, name, code))
    })
    .await
    {
        Ok((id, name, code)) => code_page(&state, &ctx, &headers, peer, &id, &name, &code),
        Err(e) => api_error_page(ctx.lang, e),
    }
}

#[derive(Deserialize)]
pub(super) struct Csrf {
    csrf: String,
}

/// A new code for a patient already registered (another device, a new phone).
pub(super) async fn new_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<Csrf>,
) -> Response {
    let peer = peer.as_deref();
    let ctx = match form_session(&state, &headers, peer, &f.csrf).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (db, who, pid) = (state.db.clone(), ctx.session.actor(), id.clone());
    match blocking(move || {
        let name = db.patient_overview(&pid)?.ok_or_else(StoreError::not_found)?.0.name;
        // A code pairs a device that then reads the whole record: the same work-related need
        // as opening it, and the patient sees it in their access log.
        if !db.has_relation(&who, &pid)? {
            return Err(StoreError::forbidden("a reason is needed to open this patient"));
        }
        let code = db.new_code(&pid)?;
        db.audit_event(&who.label(), "new-code", None, None, Some(&pid), "ok")?;
        Ok((name, code))
    })
    .await
    {
        Ok((name, code)) => code_page(&state, &ctx, &headers, peer, &id, &name, &code),
        Err(e) => api_error_page(ctx.lang, e),
    }
}

/// The code, large, and as a QR code of the server's address and the code.
fn code_page(state: &AppState, ctx: &Ctx, headers: &HeaderMap, peer: Option<&Peer>, id: &str, name: &str, code: &str) -> Response {
    let lang = ctx.lang;
    let server = base_url(state, headers, peer);
    let qr = qrcode::QrCode::new(format!("Companion\n{server}\n{code}").as_bytes())
        .map(|q| q.render::<qrcode::render::svg::Color>().min_dimensions(240, 240).quiet_zone(true).build())
        .unwrap_or_default();
    // The SVG alone, without its XML declaration, inside the page.
    let qr = qr.find("<svg").map(|i| qr[i..].to_owned()).unwrap_or_default();
    let hours = crate::db::PAIRING_HOURS.to_string();
    let body = html! {
        h1 { (tf(lang, "code_for", &[("name", name)])) }
        p { (tf(lang, "code_intro", &[("hours", &hours)])) }
        p.pairing-code aria-label=(t(lang, "pairing_code")) { (code) }
        p { (t(lang, "server_address")) ": " code { (server) } }
        figure.qr {
            div role="img" aria-label=(tf(lang, "qr_label", &[("code", code)])) { (maud::PreEscaped(qr)) }
            figcaption { (t(lang, "qr_caption")) }
        }
        p { a href={ "/care/patients/" (id) } { (t(lang, "to_patient")) } }
    };
    html_response(StatusCode::OK, layout(lang, Some(ctx), &tf(lang, "code_for", &[("name", name)]), body))
}
