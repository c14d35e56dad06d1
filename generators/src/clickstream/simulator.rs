//! The clickstream simulation: session `s` is generated from its own RNG stream
//! `(seed, s)`, so runs are reproducible and any session can be regenerated alone.

use crate::core::GeneratorErrors;
use rand::Rng;
use rand_distr::{Distribution, Exp, Poisson};

use super::model::{ClickstreamResult, ClickstreamStats, FunnelStep, PageView, Session};
use super::ClickstreamConfig;
use crate::core::{event_rng, EventRng, Generator};

/// Mean time a human spends on a page (ms); bots stay 0.5-2 s.
const HUMAN_DWELL_MEAN_MS: f64 = 30_000.0;

/// Generates sessions, page views and funnels.
#[derive(Debug, Clone)]
pub struct ClickstreamSimulator {
    config: ClickstreamConfig,
}

/// One generated session with its page views and funnel steps.
struct Generated {
    session: Session,
    views: Vec<PageView>,
    funnel: Vec<FunnelStep>,
    /// Funnel transitions attempted and abandoned (non-bounced human sessions).
    attempts: u64,
    drops: u64,
}

impl ClickstreamSimulator {
    /// A simulator for a validated configuration.
    pub fn new(config: ClickstreamConfig) -> Result<Self, GeneratorErrors> {
        config.validate()?;
        Ok(ClickstreamSimulator { config })
    }

    /// The number of sessions a run generates: `users * avg_sessions_per_user`, rounded.
    pub fn total_sessions(&self) -> u64 {
        (self.config.users as f64 * self.config.avg_sessions_per_user).round() as u64
    }

    fn pick<'a>(rng: &mut EventRng, items: &'a [String]) -> &'a str {
        &items[rng.random_range(0..items.len())]
    }

    fn url(rng: &mut EventRng, template: &str) -> String {
        template
            .replace("{id}", &rng.random_range(1..=1_000u32).to_string())
            .replace("{slug}", &format!("post-{}", rng.random_range(1..=200u32)))
    }

    fn session(&self, s: u64, start_override: Option<i64>) -> Generated {
        let c = &self.config;
        let mut rng = event_rng(c.seed, s);
        let user_id = c.key_skew.pick(&mut rng, c.users);
        let duration_ms = (c.duration_hours * 3_600_000.0) as i64;
        let drawn = crate::core::RateCurve::warp_opt(
            c.rate_curve.as_ref(),
            c.start_time_ms,
            c.start_time_ms + rng.random_range(0..duration_ms.max(1)),
        );
        let started_at = start_override.unwrap_or(drawn);
        let is_bot = c.bot_traffic_enabled && rng.random::<f64>() < c.bot_fraction;
        let bounced = !is_bot && rng.random::<f64>() < c.bounce_rate;
        let pages = if is_bot {
            c.bot_pages_per_session
        } else if bounced {
            1
        } else {
            let extra = c.avg_pages_per_session - 2.0;
            2 + if extra > 0.0 {
                Poisson::new(extra)
                    .map(|p| p.sample(&mut rng) as u64)
                    .unwrap_or(0)
            } else {
                0
            }
        };
        let referrer = if is_bot {
            "direct".to_string()
        } else {
            Self::pick(&mut rng, &c.referrer_sources).to_string()
        };
        let device = if is_bot {
            "bot".to_string()
        } else {
            Self::pick(&mut rng, &c.device_types).to_string()
        };
        let dwell = Exp::new(1.0 / HUMAN_DWELL_MEAN_MS).ok();
        let mut views = Vec::with_capacity(pages as usize);
        let mut ts = started_at;
        for seq in 0..pages {
            let dwell_ms = if is_bot {
                rng.random_range(500..=2_000)
            } else {
                dwell
                    .map_or(HUMAN_DWELL_MEAN_MS as i64, |d| d.sample(&mut rng) as i64)
                    .max(1_000)
            };
            let template = Self::pick(&mut rng, &c.page_pool).to_string();
            views.push(PageView {
                session_id: s,
                user_id,
                seq,
                url: Self::url(&mut rng, &template),
                ts,
                dwell_ms,
                is_bot,
            });
            ts += dwell_ms;
        }
        let (mut funnel, mut attempts, mut drops) = (Vec::new(), 0, 0);
        if c.funnel_enabled && !is_bot {
            funnel.push(FunnelStep {
                session_id: s,
                stage: c.funnel_stages[0].clone(),
                stage_index: 0,
                reached_at: started_at,
            });
            if !bounced {
                for (i, stage) in c.funnel_stages.iter().enumerate().skip(1) {
                    attempts += 1;
                    if rng.random::<f64>() < c.funnel_drop_rate {
                        drops += 1;
                        break;
                    }
                    let at = views[i.min(views.len() - 1)].ts;
                    funnel.push(FunnelStep {
                        session_id: s,
                        stage: stage.clone(),
                        stage_index: i as u64,
                        reached_at: at,
                    });
                }
            }
        }
        let session = Session {
            session_id: s,
            user_id,
            started_at,
            ended_at: ts,
            page_count: pages,
            bounced,
            is_bot,
            referrer,
            device,
            funnel_stage: funnel.last().map(|f| f.stage.clone()),
        };
        Generated {
            session,
            views,
            funnel,
            attempts,
            drops,
        }
    }

    /// The simulator as an unbounded [`Generator`] of sessions: session `s` starts at
    /// `start_time + s * (mean gap between sessions)`, so event time only grows; the
    /// configured rate (users x sessions per user over the duration) continues forever.
    pub fn generator(&self) -> ClickstreamGenerator {
        let total = self.total_sessions().max(1);
        let gap_ms = self.config.duration_hours * 3_600_000.0 / total as f64;
        ClickstreamGenerator {
            simulator: self.clone(),
            gap_ms,
        }
    }

    /// Runs the simulation.
    pub fn run(&self) -> ClickstreamResult {
        let total = self.total_sessions();
        let (mut sessions, mut page_views, mut funnels) = (Vec::new(), Vec::new(), Vec::new());
        let (mut attempts, mut drops) = (0u64, 0u64);
        for s in 0..total {
            let g = self.session(s, None);
            sessions.push(g.session);
            page_views.extend(g.views);
            funnels.extend(g.funnel);
            attempts += g.attempts;
            drops += g.drops;
        }
        page_views.sort_by_key(|v| (v.ts, v.session_id, v.seq));
        let stats = self.stats(
            &sessions,
            page_views.len() as u64,
            &funnels,
            attempts,
            drops,
        );
        ClickstreamResult {
            sessions,
            page_views,
            funnels,
            stats,
        }
    }

    fn stats(
        &self,
        sessions: &[Session],
        page_views: u64,
        funnels: &[FunnelStep],
        attempts: u64,
        drops: u64,
    ) -> ClickstreamStats {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let humans: Vec<&Session> = sessions.iter().filter(|s| !s.is_bot).collect();
        let bounced = humans.iter().filter(|s| s.bounced).count() as u64;
        let engaged: Vec<&&Session> = humans.iter().filter(|s| !s.bounced).collect();
        let engaged_pages: u64 = engaged.iter().map(|s| s.page_count).sum();
        let mut stage_counts = vec![0u64; self.config.funnel_stages.len()];
        for f in funnels {
            stage_counts[f.stage_index as usize] += 1;
        }
        let entered = stage_counts.first().copied().unwrap_or(0);
        let converted = stage_counts.last().copied().unwrap_or(0);
        ClickstreamStats {
            total_sessions: sessions.len() as u64,
            human_sessions: humans.len() as u64,
            bot_sessions: (sessions.len() - humans.len()) as u64,
            total_page_views: page_views,
            bounce_rate: ratio(bounced, humans.len() as u64),
            bot_fraction: ratio(
                (sessions.len() - humans.len()) as u64,
                sessions.len() as u64,
            ),
            avg_pages_per_session: ratio(engaged_pages, engaged.len() as u64),
            funnel_stage_counts: stage_counts,
            funnel_drop_rate: ratio(drops, attempts),
            conversion_rate: ratio(converted, entered),
        }
    }
}

/// One session and everything it produced: the event of [`ClickstreamGenerator`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SessionActivity {
    /// The session.
    pub session: Session,
    /// Its page views, in order.
    pub page_views: Vec<PageView>,
    /// The funnel stages it reached.
    pub funnel: Vec<FunnelStep>,
}

/// Clickstream as an unbounded, deterministic stream of sessions (see
/// [`ClickstreamSimulator::generator`]).
///
/// ```
/// use tidewater_engine::prelude::*;
/// use tidewater_generators::clickstream::{ClickstreamConfig, ClickstreamSimulator, PageView};
/// use tidewater_generators::core::GeneratorSource;
///
/// let sessions = ClickstreamSimulator::new(ClickstreamConfig::default()).unwrap().generator();
/// let out = MemorySink::new();
/// let mut p = Pipeline::new(Config::default());
/// p.source(GeneratorSource::new(sessions).with_max_events(1_000))
///     .flat_map(|a: tidewater_generators::clickstream::SessionActivity| a.page_views)
///     .with_watermark(Watermark::bounded("10 minutes", |v: &PageView| v.ts))
///     .key_by(|v: &PageView| v.user_id)
///     .window(TumblingWindow::of("1 hour"))
///     .aggregate(Count)
///     .sink(out.clone());
/// p.run().unwrap();
/// assert!(out.len() > 500);
/// ```
#[derive(Debug, Clone)]
pub struct ClickstreamGenerator {
    simulator: ClickstreamSimulator,
    gap_ms: f64,
}

impl Generator for ClickstreamGenerator {
    type Event = SessionActivity;

    fn name(&self) -> String {
        "clickstream".to_string()
    }

    fn seed(&self) -> u64 {
        self.simulator.config.seed
    }

    fn event(&self, index: u64) -> SessionActivity {
        let g = self.simulator.session(index, Some(self.event_time(index)));
        SessionActivity {
            session: g.session,
            page_views: g.views,
            funnel: g.funnel,
        }
    }

    fn event_time(&self, index: u64) -> i64 {
        let c = &self.simulator.config;
        let uniform = c.start_time_ms + (index as f64 * self.gap_ms) as i64;
        crate::core::RateCurve::warp_opt(c.rate_curve.as_ref(), c.start_time_ms, uniform)
    }

    fn len(&self) -> Option<u64> {
        None
    }
}
