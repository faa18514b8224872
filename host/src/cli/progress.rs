//! A one-line progress bar on stderr, drawn only when stderr is a terminal (scripts and
//! logs get nothing) and at most ten times a second.

use std::io::Write as _;
use std::time::{Duration, Instant};

const WIDTH: usize = 30;
const EVERY: Duration = Duration::from_millis(100);

/// The bar of one long task.
pub(super) struct ProgressBar {
    label: String,
    last_drawn: Option<Instant>,
    drawn: bool,
}

impl ProgressBar {
    /// A bar labelled `label`.
    pub(super) fn new(label: String) -> ProgressBar {
        ProgressBar {
            label,
            last_drawn: None,
            drawn: false,
        }
    }

    /// Shows `done` of `total` for `stage`, unless it was drawn less than 100 ms ago
    /// (the last step is always drawn).
    pub(super) fn update(&mut self, stage: &str, done: usize, total: usize) {
        let due = self.last_drawn.is_none_or(|t| t.elapsed() >= EVERY);
        if !due && done < total {
            return;
        }
        self.last_drawn = Some(Instant::now());
        self.drawn = true;
        let line = render(&self.label, stage, done, total);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}\x1b[K");
        let _ = err.flush();
    }

    /// Ends the bar's line so later output starts on a fresh one.
    pub(super) fn finish(self) {
        if self.drawn {
            eprintln!();
        }
    }
}

/// `label [=========>          ]  45% stage 450/1000`.
fn render(label: &str, stage: &str, done: usize, total: usize) -> String {
    let fraction = if total == 0 {
        1.0
    } else {
        done.min(total) as f64 / total as f64
    };
    let filled = (fraction * WIDTH as f64).round() as usize;
    let bar: String = (0..WIDTH)
        .map(|i| match i.cmp(&filled) {
            std::cmp::Ordering::Less => '=',
            std::cmp::Ordering::Equal => '>',
            std::cmp::Ordering::Greater => ' ',
        })
        .collect();
    format!(
        "{label} [{bar}] {:>3}% {stage} {done}/{total}",
        (fraction * 100.0).round() as u32
    )
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn the_bar_fills_with_the_fraction_done() {
        assert_eq!(
            render("a.json", "storing", 15, 30),
            format!(
                "a.json [{}>{}]  50% storing 15/30",
                "=".repeat(15),
                " ".repeat(14)
            )
        );
        assert!(render("a.json", "reading", 30, 30).contains(&"=".repeat(30)));
        assert!(render("a.json", "reading", 0, 0).ends_with("100% reading 0/0"));
    }
}
