//! One error type for every handler: the application's error with its
//! stable code, rendered as JSON (`{"code","message","field"}`) for the API
//! or as a page for the UI, in the request's language.

use crate::i18n::{t, t_args};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use tierwise_app::AppError;
use tierwise_domain::Lang;

#[derive(Debug)]
pub struct WebError {
    pub err: AppError,
    pub lang: Lang,
    pub api: bool,
    csrf: bool,
}

impl WebError {
    pub fn new(err: AppError, lang: Lang, api: bool) -> WebError {
        WebError { err, lang, api, csrf: false }
    }
    /// A CSRF refusal (its own code).
    pub fn csrf(mut self) -> WebError {
        self.csrf = true;
        self
    }

    pub fn code(&self) -> &'static str {
        if self.csrf {
            "csrf"
        } else {
            self.err.code()
        }
    }

    pub fn status(&self) -> StatusCode {
        if self.csrf {
            return StatusCode::FORBIDDEN;
        }
        match &self.err {
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound(_) | AppError::UnknownClient(_) | AppError::UnknownProduct(_) => StatusCode::NOT_FOUND,
            AppError::Invalid { .. } | AppError::Questionnaire { .. } | AppError::Pack(_) | AppError::TimeZone(_) => {
                StatusCode::BAD_REQUEST
            }
            AppError::LinkInvalid => StatusCode::GONE,
            AppError::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            AppError::NoRun => StatusCode::CONFLICT,
            AppError::Store(tierwise_store::StoreError::Conflict(_)) => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message in the request's language: the code's text, with the
    /// detail where it helps the user (which field, which id).
    pub fn message(&self) -> String {
        let key = format!("error-{}", self.code());
        match &self.err {
            AppError::Invalid { field, reason } => {
                t_args(self.lang, "error-invalid", &[("field", field.clone()), ("reason", reason.clone())])
            }
            AppError::NotFound(what) => t_args(self.lang, "error-not_found", &[("what", what.clone())]),
            AppError::Pack(e) => format!("{}: {e}", t(self.lang, &key)),
            AppError::Store(tierwise_store::StoreError::Conflict(m)) => format!("{}: {m}", t(self.lang, &key)),
            _ => t(self.lang, &key),
        }
    }
}

impl From<(AppError, Lang, bool)> for WebError {
    fn from((err, lang, api): (AppError, Lang, bool)) -> WebError {
        WebError::new(err, lang, api)
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            // the cause stays in the server's log, not in the response
            eprintln!("error: {}", self.err);
        }
        if self.api {
            let mut body = serde_json::json!({"code": self.code(), "message": self.message()});
            if let AppError::Invalid { field, .. } = &self.err {
                body["field"] = serde_json::Value::String(field.clone());
            }
            return (status, axum::Json(body)).into_response();
        }
        if status == StatusCode::UNAUTHORIZED {
            return (
                StatusCode::SEE_OTHER,
                [(header::LOCATION, "/login"), (axum::http::HeaderName::from_static("hx-redirect"), "/login")],
            )
                .into_response();
        }
        let lang = if self.lang == Lang::Zh { "zh-CN" } else { "en" };
        let html = format!(
            "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title}</title>\
             <link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main class=\"narrow\">\
             <h1>{title}</h1><p class=\"error\" data-code=\"{code}\">{msg}</p><p><a href=\"/\">{home}</a></p></main></body></html>",
            title = esc(&t(self.lang, "error-title")),
            code = self.code(),
            msg = esc(&self.message()),
            home = esc(&t(self.lang, "nav-dashboard")),
        );
        (status, Html(html)).into_response()
    }
}

/// The API's result type.
pub type ApiResult<T> = Result<T, WebError>;
