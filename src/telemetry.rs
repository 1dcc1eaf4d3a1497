//! Logs, traces and the Prometheus exporter. Metric names of the hub live in
//! [`names`]; the runtime's own are in `tradehub_actors::metrics`.

use std::net::SocketAddr;

use metrics_exporter_prometheus::PrometheusBuilder;

/// Metric names of the hub (the shell around the runtime).
pub mod names {
    /// Entries in a stream (labels: stream kind `in`, `cmd`, `dlq`).
    pub const STREAM_LENGTH: &str = "tradehub_store_stream_length_entries";
    /// Entries delivered and not yet acknowledged (label: stream kind).
    pub const STREAM_PENDING: &str = "tradehub_store_stream_pending_entries";
    /// Age of the oldest pending entry (label: stream kind).
    pub const OLDEST_PENDING_AGE: &str = "tradehub_store_oldest_pending_age_seconds";
    /// Dead letters waiting for an operator.
    pub const DLQ_LENGTH: &str = "tradehub_store_dlq_length_entries";
    /// Partitions this node holds a lease on.
    pub const PARTITIONS_OWNED: &str = "tradehub_runtime_partitions_owned";
    /// Whether Redis answered the last probe (1) or not (0).
    pub const REDIS_UP: &str = "tradehub_store_redis_up";
}

/// Register descriptions of every hub and runtime metric.
pub fn describe() {
    use metrics::{Unit, describe_gauge};
    describe_gauge!(
        names::STREAM_LENGTH,
        Unit::Count,
        "Entries in the partitions' streams, by stream kind."
    );
    describe_gauge!(
        names::STREAM_PENDING,
        Unit::Count,
        "Entries delivered and not yet acknowledged, by stream kind."
    );
    describe_gauge!(
        names::OLDEST_PENDING_AGE,
        Unit::Seconds,
        "Age of the oldest pending entry, by stream kind."
    );
    describe_gauge!(
        names::DLQ_LENGTH,
        Unit::Count,
        "Dead letters waiting for an operator."
    );
    describe_gauge!(
        names::PARTITIONS_OWNED,
        Unit::Count,
        "Partitions this node holds a lease on."
    );
    describe_gauge!(names::REDIS_UP, "Whether Redis answered the last probe.");
}

/// Start the Prometheus exporter on its own listener and describe the metrics.
pub fn install_prometheus(listen: SocketAddr) -> Result<(), String> {
    PrometheusBuilder::new()
        .with_http_listener(listen)
        .install()
        .map_err(|e| format!("metrics listener on {listen}: {e}"))?;
    describe();
    Ok(())
}

/// Log to stderr: JSON lines when `TRADEHUB_LOG_FORMAT=json`, text otherwise;
/// the filter comes from `RUST_LOG` (default `info`).
pub fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let result = if std::env::var("TRADEHUB_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    // A second init (tests, the demo) keeps the first subscriber.
    drop(result);
}
