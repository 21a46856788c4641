//! Sessions and CSRF at the HTTP edge. The session cookie holds a random
//! token (the database keeps its SHA-256); it is HttpOnly and
//! SameSite=Strict. Every state-changing request of a signed-in session
//! must echo the session's CSRF token, in the `X-CSRF-Token` header (htmx
//! and API clients) or the `_csrf` form field (plain forms).

use crate::error::WebError;
use crate::AppState;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tierwise_app::access::Actor;
use tierwise_app::AppError;
use tierwise_domain::Lang;

pub const SESSION_COOKIE: &str = "tw_session";
pub const LANG_COOKIE: &str = "tw_lang";

/// A signed-in request: who, their CSRF token and their language.
#[derive(Debug, Clone)]
pub struct Authed {
    pub actor: Actor,
    pub csrf: String,
    pub lang: Lang,
}

/// The request's language: `?lang=`, else the language cookie, else
/// `Accept-Language` when it prefers English, else zh.
#[derive(Debug, Clone, Copy)]
pub struct ReqLang(pub Lang);

pub fn cookie<'a>(parts: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    parts.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

pub fn lang_of(uri: &axum::http::Uri, headers: &axum::http::HeaderMap) -> Lang {
    if let Some(q) = uri.query() {
        for kv in q.split('&') {
            if let Some(("lang", v)) = kv.split_once('=') {
                if let Ok(l) = Lang::parse(v) {
                    return l;
                }
            }
        }
    }
    if let Some(l) = cookie(headers, LANG_COOKIE).and_then(|v| Lang::parse(v).ok()) {
        return l;
    }
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.trim_start().starts_with("en") {
        Lang::En
    } else {
        Lang::Zh
    }
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

impl<S: Send + Sync> FromRequestParts<S> for ReqLang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ReqLang(lang_of(&parts.uri, &parts.headers)))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Authed {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let lang = lang_of(&parts.uri, &parts.headers);
        match parts.extensions.get::<Authed>() {
            Some(a) => Ok(Authed { lang, ..a.clone() }),
            None => Err(WebError::new(AppError::Unauthenticated, lang, is_api(parts.uri.path()))),
        }
    }
}

/// Paths that take no session (and so no CSRF token): signing in, the
/// client's questionnaire and survey links (the token is the credential),
/// and their API twins under `/api/v1/public/`.
fn exempt(path: &str) -> bool {
    path == "/login"
        || path == "/api/v1/login"
        || path.starts_with("/q/")
        || path.starts_with("/s/")
        || path.starts_with("/api/v1/public/")
}

/// Resolves the session (once per request) and refuses state-changing
/// requests whose CSRF token does not match.
pub async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    // assets, health checks and the hello route read no session: skip the lookup
    if req.method() == Method::GET && (path.starts_with("/static/") || path == "/healthz" || path == "/hello") {
        return next.run(req).await;
    }
    let api = is_api(&path);
    let lang = lang_of(req.uri(), req.headers());
    let token = cookie(req.headers(), SESSION_COOKIE).map(String::from);
    let mut req = req;
    if let Some(token) = token {
        let app = state.app.clone();
        let t = token.clone();
        match crate::blocking(move || app.session(&t)).await {
            Ok((actor, csrf)) => {
                req.extensions_mut().insert(Authed { actor, csrf, lang });
            }
            Err(AppError::Unauthenticated) => {}
            Err(e) => return WebError::new(e, lang, api).into_response(),
        }
    }
    let changing = matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH | Method::DELETE);
    if !changing || exempt(&path) {
        return next.run(req).await;
    }
    let Some(expected) = req.extensions().get::<Authed>().map(|a| a.csrf.clone()) else {
        // not signed in: the handler refuses it as unauthenticated
        return next.run(req).await;
    };
    if let Some(h) = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        if constant_eq(h, &expected) {
            return next.run(req).await;
        }
        return WebError::new(AppError::Forbidden, lang, api).csrf().into_response();
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        let (parts, body) = req.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, 2 * 1024 * 1024).await else {
            return WebError::new(AppError::Invalid { field: "body".into(), reason: "too large".into() }, lang, api)
                .into_response();
        };
        let ok = form_field(&bytes, "_csrf").is_some_and(|v| constant_eq(&v, &expected));
        if ok {
            return next.run(Request::from_parts(parts, Body::from(bytes))).await;
        }
    }
    WebError::new(AppError::Forbidden, lang, api).csrf().into_response()
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    urlencoded_pairs(body).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    let s = String::from_utf8_lossy(body);
    s.split('&')
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            Some((pct_decode(k)?, pct_decode(v)?))
        })
        .collect()
}

fn pct_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 3 <= b.len() => {
                let h = std::str::from_utf8(&b[i + 1..i + 3]).ok()?;
                out.push(u8::from_str_radix(h, 16).ok()?);
                i += 2;
            }
            x => out.push(x),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Security headers on every response.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let docs = req.uri().path().starts_with("/api/docs");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    if !docs {
        h.insert(
            "content-security-policy",
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
            ),
        );
    }
    res
}

/// The session cookie after sign-in.
pub fn session_cookie(token: &str, max_age: i64, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Clears the session cookie.
pub fn clear_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The client's address for the login limiter.
pub fn client_addr(parts_ext: &axum::http::Extensions) -> String {
    parts_ext
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_decoded() {
        assert_eq!(form_field(b"a=1&_csrf=ab%2Fc+d&x=", "_csrf").as_deref(), Some("ab/c d"));
        assert_eq!(form_field(b"a=1", "_csrf"), None);
        assert_eq!(form_field(b"_csrf=%zz", "_csrf"), None);
        assert_eq!(form_field(b"_csrf=%4", "_csrf").as_deref(), Some("%4"));
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_eq("abc", "abc"));
        assert!(!constant_eq("abc", "abd"));
        assert!(!constant_eq("abc", "ab"));
    }
}
