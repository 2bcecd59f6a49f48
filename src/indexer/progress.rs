//! Progress: bars on a terminal, periodic log lines elsewhere. Reads
//! counters only; never slows the pipeline.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
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
    /// The catalog (or --repo list) has been read to its end.
    pub catalog_listed: AtomicBool,
}

impl Counts {
    pub fn add(c: &AtomicI64, n: i64) {
        c.fetch_add(n, Ordering::Relaxed);
    }
    pub fn get(c: &AtomicI64) -> i64 {
        c.load(Ordering::Relaxed)
    }
}

/// How a bar is drawn: a counter with a rate while its total is not known
/// yet (never a `0/0` bar), a bar with ETA once it is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Counting,
    Bar,
}

fn style(phase: Phase) -> ProgressStyle {
    let color = crate::logging::color();
    let template = match (phase, color) {
        (Phase::Counting, _) => "{prefix:>12} {spinner} {pos} {msg} [{elapsed}, {per_sec}]",
        (Phase::Bar, true) => {
            "{prefix:>12} {bar:30.cyan/blue} {pos}/{len} {msg} [{elapsed}, {per_sec}, ETA {eta}]"
        }
        (Phase::Bar, false) => {
            "{prefix:>12} {bar:30} {pos}/{len} {msg} [{elapsed}, {per_sec}, ETA {eta}]"
        }
    };
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// A total is known when the stage feeding it has finished: the catalog
/// once it is read to its end, the tags once every repository's tags are
/// listed.
pub(crate) fn totals_known(c: &Counts) -> (bool, bool) {
    let repos = Counts::get(&c.repositories);
    let catalog = c.catalog_listed.load(Ordering::Relaxed) && repos > 0;
    let listed = catalog && Counts::get(&c.repositories_done) >= repos;
    (catalog, listed && Counts::get(&c.tags) > 0)
}

fn draw(b: &[ProgressBar], phases: &mut [Phase; 3], c: &Counts) {
    let (repos_known, tags_known) = totals_known(c);
    let set = |i: usize, phases: &mut [Phase; 3], known: bool, pos: i64, len: i64| {
        let want = if known && len > 0 {
            Phase::Bar
        } else {
            Phase::Counting
        };
        if phases[i] != want {
            b[i].set_style(style(want));
            phases[i] = want;
        }
        if want == Phase::Bar {
            b[i].set_length(len as u64);
        }
        b[i].set_position(pos.max(0) as u64);
    };
    let repos = Counts::get(&c.repositories);
    set(
        0,
        phases,
        repos_known,
        Counts::get(&c.repositories_done),
        repos,
    );
    if !repos_known {
        b[0].set_message(format!("done, {repos} found so far"));
    } else {
        b[0].set_message("");
    }
    set(
        1,
        phases,
        tags_known,
        Counts::get(&c.tags_done),
        Counts::get(&c.tags),
    );
    let f = Counts::get(&c.failures);
    b[1].set_message(if f > 0 {
        format!("{f} failed")
    } else {
        String::new()
    });
    // Manifests have no total before the tags are resolved: new ones are
    // counted, and the known ones a warm run skips are said.
    set(2, phases, false, Counts::get(&c.manifests), 0);
    b[2].set_message(format!(
        "new, {} known, {} configs",
        Counts::get(&c.manifests_known),
        Counts::get(&c.configs)
    ));
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
            let bars: Vec<ProgressBar> = ["repositories", "tags", "manifests"]
                .into_iter()
                .map(|prefix| {
                    let b = multi.add(ProgressBar::new(0).with_style(style(Phase::Counting)));
                    b.set_prefix(prefix);
                    b
                })
                .collect();
            let b = bars.clone();
            let ticker = tokio::spawn(async move {
                let mut phases = [Phase::Counting; 3];
                loop {
                    draw(&b, &mut phases, &c);
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
                        repositories_found = Counts::get(&c.repositories),
                        tags = Counts::get(&c.tags_done),
                        tags_found = Counts::get(&c.tags),
                        manifests = Counts::get(&c.manifests),
                        manifests_known = Counts::get(&c.manifests_known),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_are_known_only_when_final() {
        let c = Counts::default();
        assert_eq!(totals_known(&c), (false, false), "no 0/0 bar");
        Counts::add(&c.repositories, 3);
        assert_eq!(totals_known(&c), (false, false), "the catalog may grow");
        c.catalog_listed.store(true, Ordering::Relaxed);
        Counts::add(&c.repositories_done, 2);
        Counts::add(&c.tags, 4);
        assert_eq!(totals_known(&c), (true, false), "tags still being listed");
        Counts::add(&c.tags, -4);
        Counts::add(&c.repositories_done, 1);
        assert_eq!(totals_known(&c), (true, false), "no tags yet: no tag bar");
        Counts::add(&c.tags, 10);
        assert_eq!(totals_known(&c), (true, true));
    }
}
