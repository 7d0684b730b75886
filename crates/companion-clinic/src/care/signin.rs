//! Sign-in and sign-out, and the language switch. Sign-in is throttled per source address and
//! per name like pairing (the attempt takes its slot before the password is checked); the form
//! carries a token matched by a cookie of its own, so no other site can sign a browser in.

use super::*;
use crate::throttle::{self, Verdict};
use axum::extract::Query;
use axum::Extension;
use serde::Deserialize;

const FORM_COOKIE: &str = "companion-sign-in";

#[derive(Deserialize)]
pub(super) struct Ended {
    ended: Option<String>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Query(q): Query<Ended>,
) -> Response {
    let lang = lang_of(&headers);
    form_page(&state, lang, peer.as_deref(), StatusCode::OK, q.ended.is_some().then_some("session_ended"), None)
}

fn form_page(state: &AppState, lang: Lang, peer: Option<&Peer>, status: StatusCode, message: Option<&str>, wait: Option<u64>) -> Response {
    let token = crate::db::random_token("");
    let body = html! {
        h1 { (t(lang, "sign_in")) }
        @if let Some(key) = message {
            p.notice role="alert" {
                @if let Some(secs) = wait { (tf(lang, key, &[("secs", &secs.to_string())])) } @else { (t(lang, key)) }
            }
        }
        form.stack method="post" action="/care/sign-in" {
            input type="hidden" name="form" value=(token);
            label for="name" { (t(lang, "name")) }
            input id="name" name="name" type="text" autocomplete="username" required maxlength="100" autofocus;
            label for="password" { (t(lang, "password")) }
            input id="password" name="password" type="password" autocomplete="current-password" required maxlength="256";
            button type="submit" { (t(lang, "sign_in")) }
        }
    };
    let mut res = html_response(status, layout(lang, None, t(lang, "sign_in"), body));
    let flag = if secure(state, peer) { "; Secure" } else { "" };
    if let Ok(v) = HeaderValue::from_str(&format!("{FORM_COOKIE}={token}; Path=/care/sign-in; HttpOnly; SameSite=Strict{flag}")) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

#[derive(Deserialize)]
pub(super) struct SignIn {
    form: String,
    name: String,
    password: String,
}

pub(super) async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    axum::Form(f): axum::Form<SignIn>,
) -> Response {
    let lang = lang_of(&headers);
    let peer = peer.as_deref();
    let form_ok = cookie(&headers, FORM_COOKIE).is_some_and(|c| same_secret(&c, &f.form));
    if !form_ok || !same_origin(&state, &headers, peer) {
        return error_page(lang, StatusCode::FORBIDDEN, "refused");
    }
    if f.name.chars().count() > companion_protocol::limits::MAX_NAME || f.password.chars().count() > crate::db::MAX_PASSWORD {
        return form_page(&state, lang, peer, StatusCode::UNAUTHORIZED, Some("sign_in_failed"), None);
    }
    // Per address; per name from one address; and per name from anywhere, with a higher limit,
    // so strangers cannot lock a nurse out by guessing her name while guessing stays slow.
    let address = throttle::address_key(peer.map(|p| p.addr.ip()));
    let name = f.name.trim().to_lowercase();
    let keys = vec![address.clone(), format!("name:{address}:{name}"), format!("anyname:{name}")];
    if let Verdict::Wait(secs) = state.throttle.attempt(throttle::Kind::SignIn, &keys) {
        return form_page(&state, lang, peer, StatusCode::TOO_MANY_REQUESTS, Some("sign_in_throttled"), Some(secs));
    }
    let db = state.db.clone();
    let (name, password) = (f.name, f.password);
    match blocking(move || db.sign_in(&name, &password)).await {
        Ok(Some((token, _))) => {
            state.throttle.succeeded(throttle::Kind::SignIn, &keys);
            let mut res = Redirect::to("/care").into_response();
            res.headers_mut().append(header::SET_COOKIE, session_cookie(&state, peer, &token));
            res
        }
        Ok(None) => {
            tokio::time::sleep(state.throttle.delay(throttle::Kind::SignIn, &keys)).await;
            form_page(&state, lang, peer, StatusCode::UNAUTHORIZED, Some("sign_in_failed"), None)
        }
        Err(e) => api_error_page(lang, e),
    }
}

#[derive(Deserialize)]
pub(super) struct Csrf {
    csrf: String,
}

pub(super) async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    axum::Form(f): axum::Form<Csrf>,
) -> Response {
    let peer = peer.as_deref();
    let ctx = match signed_in(&state, &headers, peer, false).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Some(r) = check_form(&state, &ctx, &headers, peer, &f.csrf) {
        return r;
    }
    if let Some(token) = cookie(&headers, session_cookie_name(&state, peer)) {
        let db = state.db.clone();
        let _ = blocking(move || db.sign_out(&token)).await;
    }
    let mut res = Redirect::to("/care/sign-in").into_response();
    res.headers_mut().append(header::SET_COOKIE, session_cookie(&state, peer, ""));
    res
}

#[derive(Deserialize)]
pub(super) struct To {
    to: String,
}

/// Remembers the language chosen, and goes back to the worklist.
pub(super) async fn language(headers: HeaderMap, Query(q): Query<To>) -> Response {
    let lang = Lang::parse(&q.to).unwrap_or_else(|| lang_of(&headers));
    let mut res = Redirect::to("/care").into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{LANG_COOKIE}={}; Path=/; SameSite=Strict; Max-Age=31536000", lang.code())) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}
