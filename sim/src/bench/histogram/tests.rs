use super::Buckets;

const METRIC: &str = "tradehub_host_commit_duration_seconds";

fn exposition(partitions: &[[u64; 4]]) -> String {
    let mut text = format!("# TYPE {METRIC} histogram\n");
    for (partition, counts) in partitions.iter().enumerate() {
        for (le, count) in ["0.001", "0.002", "0.004", "+Inf"].iter().zip(counts) {
            text.push_str(&format!(
                "{METRIC}_bucket{{partition=\"{partition}\",le=\"{le}\"}} {count}\n"
            ));
        }
        text.push_str(&format!(
            "{METRIC}_sum{{partition=\"{partition}\"}} 0.5\n{METRIC}_count{{partition=\"{partition}\"}} {}\n",
            counts[3]
        ));
    }
    text
}

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() < 1e-12
}

#[test]
fn partitions_are_summed_into_one_histogram() {
    // Partition 0: 10 at ≤ 1 ms; partition 1: 10 between 1 and 2 ms.
    let buckets = Buckets::of(&exposition(&[[10, 10, 10, 10], [0, 10, 10, 10]]), METRIC);
    assert_eq!(buckets.count(), 20);
    // Rank 15 of 20 is halfway through the 1–2 ms bucket, which holds ranks 11 to 20.
    assert!(
        close(buckets.quantile(0.75), 0.0015),
        "{}",
        buckets.quantile(0.75)
    );
    // Rank 5 is halfway through the first bucket, which starts at 0.
    assert!(
        close(buckets.quantile(0.25), 0.0005),
        "{}",
        buckets.quantile(0.25)
    );
}

#[test]
fn quantiles_cover_only_what_was_recorded_since_the_snapshot() {
    let before = Buckets::of(&exposition(&[[1_000, 1_000, 1_000, 1_000]]), METRIC);
    // Then 100 more, all between 2 and 4 ms.
    let after = Buckets::of(&exposition(&[[1_000, 1_000, 1_100, 1_100]]), METRIC);
    let run = after.since(&before);
    assert_eq!(run.count(), 100);
    assert!(close(run.quantile(0.5), 0.003), "{}", run.quantile(0.5));
    assert!(close(run.quantile(0.99), 0.00398), "{}", run.quantile(0.99));
    // The whole history would say the median is under 1 ms.
    assert!(after.quantile(0.5) < 0.001);
}

#[test]
fn beyond_the_last_bound_the_quantile_is_that_bound() {
    let buckets = Buckets::of(&exposition(&[[0, 0, 1, 10]]), METRIC);
    assert!(close(buckets.quantile(0.99), 0.004));
    // Rank 0.5 of 10 is halfway through the 2–4 ms bucket, the first with anything in it.
    assert!(close(buckets.quantile(0.05), 0.003));
}

#[test]
fn no_observations_give_zero_and_other_metrics_are_ignored() {
    let text =
        exposition(&[[5, 5, 5, 5]]).replace(METRIC, "tradehub_partner_call_duration_seconds");
    let buckets = Buckets::of(&text, METRIC);
    assert_eq!(buckets.count(), 0);
    assert!(close(buckets.quantile(0.5), 0.0));
}
