//! The HTTP server: the JSON API under `/api/v1` (described by OpenAPI,
//! browsable at `/api/docs`), the server-rendered UI (askama + htmx,
//! zh-CN by default, en) and the public questionnaire link, all over the
//! application layer. This is the only crate that knows HTTP and HTML;
//! handlers call the application and only render. The storage layer is
//! synchronous, so every handler runs it on the blocking pool.
//!
//! Security lives at this edge only as far as HTTP goes: the session
//! cookie (HttpOnly, SameSite=Strict), the CSRF check on every
//! state-changing request, and security headers. Who may do and see what
//! is decided by the application layer.

mod api;
mod assets;
mod auth;
mod error;
mod i18n;
mod ui;
mod work_api;

pub use api::ApiDoc;
pub use i18n::{missing_keys, template_keys, LOCALES};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;
use tierwise_app::App;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub app: Arc<App>,
    /// set the Secure flag on cookies (behind TLS)
    pub secure_cookies: bool,
}

/// The whole server: UI, API, docs, assets.
pub fn router(app: Arc<App>) -> Router {
    router_with(AppState { app, secure_cookies: false })
}

pub fn router_with(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/hello", get(hello))
        .merge(assets::routes())
        .merge(api::routes())
        .merge(ui::routes())
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::csrf_guard))
        .layer(axum::middleware::from_fn(auth::security_headers))
        .layer(axum::extract::DefaultBodyLimit::max(2 * 1024 * 1024))
        .with_state(state)
}

/// Serves until the process is stopped.
pub async fn serve(app: Arc<App>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, router(app).into_make_service_with_connect_info::<std::net::SocketAddr>()).await
}

async fn healthz(State(s): State<AppState>) -> Response {
    match tokio::task::spawn_blocking(move || s.app.store.latest_run()).await {
        Ok(Ok(_)) => (StatusCode::OK, "ok").into_response(),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response(),
    }
}

/// The hello-world route of this stack, the peer of the benchmark of
/// `POST /api/v1/checks`.
async fn hello() -> &'static str {
    "hello"
}

/// Runs blocking application work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> tierwise_app::AppResult<T> + Send + 'static,
) -> tierwise_app::AppResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(tierwise_app::AppError::Aborted(format!("worker failed: {e}"))))
}
