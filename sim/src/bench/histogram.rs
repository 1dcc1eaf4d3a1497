//! One histogram for a whole run, from a Prometheus exposition's cumulative bucket counts: the
//! exporter's summaries are rolling windows that forget all but the last minute, its buckets
//! never forget. Take [`Buckets::of`] before and after, subtract, and read quantiles.

/// Cumulative bucket counts of one histogram metric, summed over its label sets, by upper bound
/// (seconds for a `_seconds` metric), ascending; the last bound is `+Inf`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Buckets {
    bounds: Vec<(f64, u64)>,
}

impl Buckets {
    /// The `metric`'s buckets in the rendered exposition `text` (none when it has no buckets).
    pub fn of(text: &str, metric: &str) -> Self {
        let prefix = format!("{metric}_bucket{{");
        let mut bounds: Vec<(f64, u64)> = Vec::new();
        for line in text.lines().filter(|l| l.starts_with(&prefix)) {
            let Some((le, count)) = bucket_line(line) else {
                continue;
            };
            match bounds.iter_mut().find(|(bound, _)| *bound == le) {
                Some((_, total)) => *total += count,
                None => bounds.push((le, count)),
            }
        }
        bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
        Self { bounds }
    }

    /// What was recorded between `earlier` and `self`, for the same metric.
    pub fn since(&self, earlier: &Self) -> Self {
        let before = |le: f64| {
            earlier
                .bounds
                .iter()
                .find(|(bound, _)| *bound == le)
                .map_or(0, |(_, count)| *count)
        };
        Self {
            bounds: self
                .bounds
                .iter()
                .map(|&(le, count)| (le, count.saturating_sub(before(le))))
                .collect(),
        }
    }

    /// Observations counted.
    pub fn count(&self) -> u64 {
        self.bounds.last().map_or(0, |(_, count)| *count)
    }

    /// The `q` quantile (0..=1), interpolated linearly inside the bucket that holds it (as
    /// Prometheus's `histogram_quantile` does; the first bucket starts at 0). Beyond the last
    /// finite bound it is that bound: the histogram cannot say more. 0 when empty.
    pub fn quantile(&self, q: f64) -> f64 {
        let total = self.count();
        if total == 0 {
            return 0.0;
        }
        let rank = q.clamp(0.0, 1.0) * total as f64;
        let mut lower = (0.0, 0u64);
        for &(le, count) in &self.bounds {
            if le.is_infinite() {
                return lower.0;
            }
            if count as f64 >= rank && count > lower.1 {
                let inside = (rank - lower.1 as f64) / (count - lower.1) as f64;
                return lower.0 + (le - lower.0) * inside;
            }
            lower = (le, count);
        }
        lower.0
    }
}

/// `(le, count)` of one `…_bucket{…,le="…"} count` line.
fn bucket_line(line: &str) -> Option<(f64, u64)> {
    let (labels, count) = line.rsplit_once(' ')?;
    let le = labels.split("le=\"").nth(1)?.split('"').next()?;
    let le = if le == "+Inf" {
        f64::INFINITY
    } else {
        le.parse().ok()?
    };
    Some((le, count.parse::<f64>().ok()? as u64))
}

#[cfg(test)]
mod tests;
