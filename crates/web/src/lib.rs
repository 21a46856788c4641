//! The HTTP server: for now an overview page of the book and `/healthz`,
//! over the application layer. This is the only crate that knows HTTP and
//! HTML; handlers call the application and only render. The storage layer is
//! synchronous, so every handler runs it on the blocking pool.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;
use tierwise_app::App;
use tierwise_domain::Lang;

/// The router over a shared application.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(overview))
        .route("/healthz", get(healthz))
        .route("/api/v1/overview", get(overview_json))
        .with_state(app)
}

/// Serves until the process is stopped.
pub async fn serve(app: Arc<App>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, router(app)).await
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
    match tokio::task::spawn_blocking(move || app.store.counts()).await {
        Ok(Ok(_)) => (StatusCode::OK, "ok").into_response(),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response(),
    }
}

/// What the overview shows.
struct Overview {
    counts: tierwise_store::BookCounts,
    run: Option<tierwise_store::RunInfo>,
    dist: Option<tierwise_app::Distribution>,
}

fn load(app: &App) -> Result<Overview, tierwise_app::AppError> {
    let counts = app.store.counts()?;
    let run = app.store.latest_run()?;
    let dist = match &run {
        Some(r) => {
            let mut d = app.run_distribution(r)?;
            tierwise_app::in_pack_order(&app.pack, &mut d);
            Some(d)
        }
        None => None,
    };
    Ok(Overview { counts, run, dist })
}

async fn overview_json(State(app): State<Arc<App>>) -> Response {
    let res = tokio::task::spawn_blocking(move || load(&app)).await;
    match res {
        Ok(Ok(o)) => Json(serde_json::json!({
            "clients": o.counts.clients,
            "products": o.counts.products,
            "last_run": o.run.as_ref().map(|r| serde_json::json!({
                "run_id": r.run_id, "as_of": r.as_of.to_string(), "rule_pack": r.rule_pack,
                "rule_version": r.rule_version, "finished_at": r.finished_at, "clients": r.clients,
            })),
            "asset_tiers": o.dist.as_ref().map(|d| d.tiers.iter().map(|(k, n)| (k.clone(), *n)).collect::<HashMap<_, _>>()),
            "segments": o.dist.as_ref().map(|d| d.segments.iter().map(|(k, n)| (k.clone(), *n)).collect::<HashMap<_, _>>()),
        }))
        .into_response(),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, Json(serde_json::json!({"code": e.code(), "message": e.to_string()}))).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

async fn overview(State(app): State<Arc<App>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let lang = q.get("lang").and_then(|l| Lang::parse(l).ok()).unwrap_or_default();
    let app2 = app.clone();
    match tokio::task::spawn_blocking(move || load(&app2)).await {
        Ok(Ok(o)) => Html(render(&app, &o, lang)).into_response(),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, esc(&e.to_string())).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn render(app: &App, o: &Overview, lang: Lang) -> String {
    let t = |zh: &'static str, en: &'static str| if lang == Lang::Zh { zh } else { en };
    let pack = &app.pack;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Tierwise</title><style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}}\
         table{{border-collapse:collapse;margin:1rem 0}}td,th{{border:1px solid #ccc;padding:.3rem .7rem;text-align:right}}\
         th:first-child,td:first-child{{text-align:left}}.bar{{background:#3b6ea5;height:.8rem;display:inline-block}}</style></head><body>",
        if lang == Lang::Zh { "zh-CN" } else { "en" }
    );
    let _ = write!(
        h,
        "<h1>Tierwise · {}</h1><p><a href=\"?lang=zh\">中文</a> · <a href=\"?lang=en\">English</a></p>",
        t("客户分类分层总览", "Book overview")
    );
    let _ = write!(
        h,
        "<p>{}: {} · {}: {} · {}: {} · {}: {}</p>",
        t("客户", "Clients"),
        o.counts.clients,
        t("产品", "Products"),
        o.counts.products,
        t("持仓", "Holdings"),
        o.counts.holdings,
        t("交易", "Transactions"),
        o.counts.transactions
    );
    match (&o.run, &o.dist) {
        (Some(r), Some(d)) => {
            let _ = write!(
                h,
                "<p>{}: #{} · {} {} · {} {} {} · {} {}</p>",
                t("最近一次分类", "Last run"),
                r.run_id,
                t("评估日", "as of"),
                r.as_of,
                t("规则包", "rule pack"),
                esc(&r.rule_pack),
                esc(&r.rule_version),
                t("完成于", "finished"),
                esc(&r.finished_at)
            );
            for (key, rows) in [("asset_tier", &d.tiers), ("segment", &d.segments)] {
                let total: u64 = rows.iter().map(|(_, n)| n).sum::<u64>().max(1);
                let _ = write!(
                    h,
                    "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>%</th><th></th></tr>",
                    esc(&pack.dimension_name(key, lang)),
                    esc(&pack.dimension_name(key, lang)),
                    t("客户数", "Clients")
                );
                for (k, n) in rows.iter() {
                    let name = if key == "segment" {
                        pack.segment(k).map(|s| s.name.get(lang).to_string()).unwrap_or_else(|| k.clone())
                    } else {
                        pack.value_name(key, k, lang)
                    };
                    let pct = *n as f64 * 100.0 / total as f64;
                    let _ = write!(
                        h,
                        "<tr><td>{} <small>{}</small></td><td>{}</td><td>{:.1}</td><td><span class=\"bar\" style=\"width:{:.0}px\"></span></td></tr>",
                        esc(&name),
                        esc(k),
                        n,
                        pct,
                        pct * 3.0
                    );
                }
                h.push_str("</table>");
            }
        }
        _ => {
            let _ = write!(
                h,
                "<p>{}</p>",
                t("尚未运行分类：请执行 tierwise classify。", "No classification run yet: run tierwise classify.")
            );
        }
    }
    h.push_str("</body></html>");
    h
}
