//! The server's routes: the dashboard's pages and assets (embedded in the binary),
//! its JSON API and event stream, and `/metrics`.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::job::{Jobs, Observable};
use super::sampler::{Sample, Sampler};

/// What every handler reads.
#[derive(Clone)]
pub(crate) struct AppState {
    pub jobs: Arc<dyn Jobs>,
    pub sampler: Arc<Sampler>,
    pub registry: Arc<prometheus_client::registry::Registry>,
    /// Ends the event streams when the server stops.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

const INDEX: &str = include_str!("assets/index.html");
const JOBS: &str = include_str!("assets/jobs.html");
const DASHBOARD_JS: &str = include_str!("assets/dashboard.js");
const JOBS_JS: &str = include_str!("assets/jobs.js");
const STYLE: &str = include_str!("assets/style.css");
const UPLOT_JS: &str = include_str!("assets/vendor/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("assets/vendor/uPlot.min.css");

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(|| async { html(INDEX) }))
        .route("/jobs", get(|| async { html(JOBS) }))
        .route(
            "/assets/dashboard.js",
            get(|| async { asset(DASHBOARD_JS, "text/javascript") }),
        )
        .route(
            "/assets/jobs.js",
            get(|| async { asset(JOBS_JS, "text/javascript") }),
        )
        .route(
            "/assets/style.css",
            get(|| async { asset(STYLE, "text/css") }),
        )
        .route(
            "/assets/uPlot.iife.min.js",
            get(|| async { asset(UPLOT_JS, "text/javascript") }),
        )
        .route(
            "/assets/uPlot.min.css",
            get(|| async { asset(UPLOT_CSS, "text/css") }),
        )
        .route("/metrics", get(metrics))
        .route("/api/jobs", get(jobs))
        .route("/api/plan", get(plan))
        .route("/api/metrics", get(job_metrics))
        .route("/api/history", get(history))
        .route("/api/events", get(events))
        .route("/api/firings", get(firings))
        .route("/api/explain", get(explain))
        .with_state(state)
}

fn html(body: &'static str) -> Response {
    asset(body, "text/html; charset=utf-8")
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

#[derive(Deserialize)]
struct JobParam {
    job: Option<String>,
}

/// The job asked for, or the first when none is named.
fn find(state: &AppState, job: Option<&str>) -> Result<Arc<dyn Observable>, Response> {
    let jobs = state.jobs.jobs();
    let found = match job {
        Some(name) => jobs.iter().find(|j| j.name() == name).cloned(),
        None => jobs.first().cloned(),
    };
    found.ok_or_else(|| {
        let names: Vec<String> = jobs.iter().map(|j| j.name()).collect();
        let message = match job {
            Some(name) => format!("no pipeline named `{name}`; running: {names:?}"),
            None => "no pipeline is running".to_string(),
        };
        error(StatusCode::NOT_FOUND, message)
    })
}

async fn metrics(State(state): State<AppState>) -> Response {
    let mut text = String::new();
    match prometheus_client::encoding::prometheus_text::encode(&mut text, &state.registry) {
        Ok(()) => {
            let extra = state.jobs.extra_metrics();
            if !extra.is_empty() {
                // Before the closing `# EOF` of the OpenMetrics text.
                let end = text.strip_suffix("# EOF\n").map(str::len);
                text.truncate(end.unwrap_or(text.len()));
                text.push_str(&extra);
                if end.is_some() {
                    text.push_str("# EOF\n");
                }
            }
            (
                [(
                    header::CONTENT_TYPE,
                    prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
                )],
                text,
            )
                .into_response()
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn jobs(State(state): State<AppState>) -> Response {
    let list: Vec<serde_json::Value> = state
        .jobs
        .jobs()
        .iter()
        .map(|job| {
            let name = job.name();
            let latest = state.sampler.latest(&name);
            let m = job.metrics();
            serde_json::json!({
                "name": name,
                "status": format!("{:?}", job.status()),
                "error": job.error(),
                "elapsed_s": m.elapsed.as_secs_f64(),
                "source_records": m.source_records,
                "events_per_sec": latest.as_ref().map_or(0.0, |s| s.events_per_sec),
                "average_events_per_sec": m.events_per_sec,
                "late_dropped": m.late_dropped,
                "watermark": m.watermark,
                "progress": job.progress(),
            })
        })
        .collect();
    Json(list).into_response()
}

async fn plan(State(state): State<AppState>, Query(q): Query<JobParam>) -> Response {
    match find(&state, q.job.as_deref()) {
        Ok(job) => Json(job.plan()).into_response(),
        Err(r) => r,
    }
}

async fn job_metrics(State(state): State<AppState>, Query(q): Query<JobParam>) -> Response {
    match find(&state, q.job.as_deref()) {
        Ok(job) => Json(job.metrics()).into_response(),
        Err(r) => r,
    }
}

async fn history(State(state): State<AppState>, Query(q): Query<JobParam>) -> Response {
    match find(&state, q.job.as_deref()) {
        Ok(job) => Json(state.sampler.history(&job.name())).into_response(),
        Err(r) => r,
    }
}

/// Server-sent events: one `sample` event per sampler tick for the job asked for.
async fn events(State(state): State<AppState>, Query(q): Query<JobParam>) -> Response {
    let job = match find(&state, q.job.as_deref()) {
        Ok(job) => job.name(),
        Err(r) => return r,
    };
    let receiver = state.sampler.subscribe();
    let shutdown = state.shutdown.clone();
    let stream = futures::stream::unfold(
        (receiver, shutdown, job),
        |(mut receiver, mut shutdown, job)| async move {
            loop {
                let next = next_sample(&mut receiver, &mut shutdown).await?;
                if next.job != job {
                    continue;
                }
                let data = serde_json::to_string(&*next).unwrap_or_default();
                let event = Event::default().event("sample").data(data);
                return Some((Ok::<Event, Infallible>(event), (receiver, shutdown, job)));
            }
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// Waits for the next sample; `None` once the server stops or the sampler is gone.
async fn next_sample(
    receiver: &mut tokio::sync::broadcast::Receiver<Arc<Sample>>,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> Option<Arc<Sample>> {
    use futures::future::{select, Either};
    use tokio::sync::broadcast::error::RecvError;
    loop {
        if *shutdown.borrow() {
            return None;
        }
        let recv = Box::pin(receiver.recv());
        let stop = Box::pin(shutdown.changed());
        match select(recv, stop).await {
            Either::Left((Ok(sample), _)) => return Some(sample),
            // A slow page skips samples rather than holding the others back.
            Either::Left((Err(RecvError::Lagged(_)), _)) => continue,
            Either::Left((Err(RecvError::Closed), _)) | Either::Right(_) => return None,
        }
    }
}

#[derive(Deserialize)]
struct FiringsParam {
    job: Option<String>,
    limit: Option<usize>,
}

async fn firings(State(state): State<AppState>, Query(q): Query<FiringsParam>) -> Response {
    match find(&state, q.job.as_deref()) {
        Ok(job) => Json(serde_json::json!({
            "explains": job.explains(),
            "firings": job.recent_firings(q.limit.unwrap_or(20).min(1_000)),
        }))
        .into_response(),
        Err(r) => r,
    }
}

#[derive(Deserialize)]
struct ExplainParam {
    job: Option<String>,
    key: String,
    /// Unix ms, or an RFC 3339 time.
    window_start: String,
}

/// A window start as Unix ms or an RFC 3339 time.
pub(crate) fn parse_window_start(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|_| {
            format!("window_start: expected Unix milliseconds or an RFC 3339 time, found `{text}`")
        })
}

/// The key as typed: JSON when it parses as JSON (a number, an array), else text.
fn parse_key(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.to_string()))
}

async fn explain(State(state): State<AppState>, Query(q): Query<ExplainParam>) -> Response {
    let job = match find(&state, q.job.as_deref()) {
        Ok(job) => job,
        Err(r) => return r,
    };
    let start = match parse_window_start(&q.window_start) {
        Ok(s) => s,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    // A key typed as text also matches a number or a group key by its values.
    let mut found = job.explain(&parse_key(&q.key), start);
    if found.is_empty() {
        found = job.explain(&serde_json::Value::String(q.key.clone()), start);
    }
    let explanations: Vec<serde_json::Value> = found
        .iter()
        .map(|e| serde_json::json!({ "text": e.to_string(), "detail": e }))
        .collect();
    Json(serde_json::json!({
        "explains": job.explains(),
        "key": q.key,
        "window_start": start,
        "explanations": explanations,
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_starts_read_as_millis_or_rfc3339() {
        let cases: [(&str, Result<i64, ()>); 4] = [
            ("60000", Ok(60_000)),
            (" -5 ", Ok(-5)),
            ("2024-01-01T00:01:00Z", Ok(1_704_067_260_000)),
            ("yesterday", Err(())),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_window_start(text).map_err(|_| ()), expected, "{text}");
        }
    }

    #[test]
    fn keys_read_as_json_or_text() {
        assert_eq!(parse_key("7"), serde_json::json!(7));
        assert_eq!(parse_key("[\"a\",1]"), serde_json::json!(["a", 1]));
        assert_eq!(parse_key("alice"), serde_json::json!("alice"));
    }
}
