//! Progress: bars on a terminal, periodic log lines elsewhere. Reads
//! counters only; never slows the pipeline.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Default)]
pub struct Counts {
    pub repositories: AtomicI64,
    pub repositories_done: AtomicI64,
    pub tags: AtomicI64,
    pub tags_done: AtomicI64,
    /// Manifests fetched and stored this run.
    pub manifests: AtomicI64,
    /// Digests skipped because they were indexed before.
    pub manifests_known: AtomicI64,
    pub configs: AtomicI64,
    pub failures: AtomicI64,
}

impl Counts {
    pub fn add(c: &AtomicI64, n: i64) {
        c.fetch_add(n, Ordering::Relaxed);
    }
    pub fn get(c: &AtomicI64) -> i64 {
        c.load(Ordering::Relaxed)
    }
}

pub struct Progress {
    pub counts: Arc<Counts>,
    ticker: Option<tokio::task::JoinHandle<()>>,
    bars: Option<Vec<ProgressBar>>,
}

impl Progress {
    /// Bars when `terminal`, otherwise an info line every `log_every`.
    pub fn start(terminal: bool, log_every: Duration) -> Progress {
        let counts = Arc::new(Counts::default());
        let c = counts.clone();
        if terminal {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            crate::logging::show_progress(multi.clone());
            let style = ProgressStyle::with_template("{prefix:>12} {bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            let spin = ProgressStyle::with_template("{prefix:>12} {pos} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            let mk = |prefix: &'static str, s: &ProgressStyle| {
                let b = multi.add(ProgressBar::new(0).with_style(s.clone()));
                b.set_prefix(prefix);
                b
            };
            let bars = vec![
                mk("repositories", &style),
                mk("tags", &style),
                mk("manifests", &spin),
                mk("configs", &spin),
            ];
            let b = bars.clone();
            let ticker = tokio::spawn(async move {
                loop {
                    b[0].set_length(Counts::get(&c.repositories) as u64);
                    b[0].set_position(Counts::get(&c.repositories_done) as u64);
                    b[1].set_length(Counts::get(&c.tags) as u64);
                    b[1].set_position(Counts::get(&c.tags_done) as u64);
                    b[2].set_position(Counts::get(&c.manifests) as u64);
                    b[3].set_position(Counts::get(&c.configs) as u64);
                    let f = Counts::get(&c.failures);
                    if f > 0 {
                        b[1].set_message(format!("{f} failed"));
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            });
            Progress {
                counts,
                ticker: Some(ticker),
                bars: Some(bars),
            }
        } else {
            let ticker = tokio::spawn(async move {
                let mut interval = tokio::time::interval(log_every);
                interval.tick().await;
                loop {
                    interval.tick().await;
                    tracing::info!(
                        repositories = Counts::get(&c.repositories_done),
                        tags = Counts::get(&c.tags_done),
                        manifests = Counts::get(&c.manifests),
                        failures = Counts::get(&c.failures),
                        "progress"
                    );
                }
            });
            Progress {
                counts,
                ticker: Some(ticker),
                bars: None,
            }
        }
    }

    pub fn finish(mut self) {
        if let Some(t) = self.ticker.take() {
            t.abort();
        }
        if let Some(bars) = self.bars.take() {
            for b in bars {
                b.finish_and_clear();
            }
        }
    }
}
