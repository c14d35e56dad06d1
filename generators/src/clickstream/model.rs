//! Clickstream rows and statistics.

use serde::{Deserialize, Serialize};

/// One session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Session id (`0..total_sessions`).
    pub session_id: u64,
    /// The user.
    pub user_id: u64,
    /// First page view (epoch ms).
    pub started_at: i64,
    /// Last page view plus its dwell time (epoch ms).
    pub ended_at: i64,
    /// Page views in the session.
    pub page_count: u64,
    /// A single-page human session.
    pub bounced: bool,
    /// A bot or crawler.
    pub is_bot: bool,
    /// Traffic source.
    pub referrer: String,
    /// Device type (`bot` for bots).
    pub device: String,
    /// Deepest funnel stage reached (human sessions with the funnel enabled).
    pub funnel_stage: Option<String>,
}

/// One page view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageView {
    /// The session.
    pub session_id: u64,
    /// The user.
    pub user_id: u64,
    /// Position in the session, from 0.
    pub seq: u64,
    /// The page.
    pub url: String,
    /// Event time (epoch ms).
    pub ts: i64,
    /// Time spent on the page (ms).
    pub dwell_ms: i64,
    /// A bot page view.
    pub is_bot: bool,
}

/// A funnel stage a session reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunnelStep {
    /// The session.
    pub session_id: u64,
    /// Stage name.
    pub stage: String,
    /// Stage position, from 0.
    pub stage_index: u64,
    /// When it was reached (epoch ms).
    pub reached_at: i64,
}

/// Summary statistics of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClickstreamStats {
    /// All sessions.
    pub total_sessions: u64,
    /// Human sessions.
    pub human_sessions: u64,
    /// Bot sessions.
    pub bot_sessions: u64,
    /// All page views.
    pub total_page_views: u64,
    /// Bounced human sessions / human sessions.
    pub bounce_rate: f64,
    /// Bot sessions / all sessions.
    pub bot_fraction: f64,
    /// Page views of non-bounced human sessions / those sessions.
    pub avg_pages_per_session: f64,
    /// Sessions that reached each funnel stage, in stage order.
    pub funnel_stage_counts: Vec<u64>,
    /// Abandonments / attempts over all stage transitions.
    pub funnel_drop_rate: f64,
    /// Sessions that reached the last stage / sessions in the funnel.
    pub conversion_rate: f64,
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClickstreamResult {
    /// One row per session.
    pub sessions: Vec<Session>,
    /// One row per page view, in event-time order.
    pub page_views: Vec<PageView>,
    /// Funnel progression per session.
    pub funnels: Vec<FunnelStep>,
    /// Summary statistics.
    pub stats: ClickstreamStats,
}
