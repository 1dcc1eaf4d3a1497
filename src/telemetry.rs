//! Logs, traces and the Prometheus recorder with its `/metrics` listener (loopback by default;
//! elsewhere only behind a bearer token, [`MetricsToken`]). Metric names of the hub live in
//! [`names`]; the runtime's own are in `tradehub_actors::metrics`.

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::secret::Secret;

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

/// Install the Prometheus recorder and describe the metrics; `/metrics` renders through the
/// handle (see [`metrics_server`]). The commit duration is a histogram (buckets 100 µs to 13 s,
/// 19% apart): its counts never reset, so any span of time (a scrape interval, a
/// whole benchmark run) can be read from two snapshots; the other histograms render as the
/// exporter's rolling summaries.
pub fn install_prometheus() -> Result<PrometheusHandle, String> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(tradehub_actors::metrics::HOST_COMMIT_DURATION_SECONDS.to_owned()),
            &commit_duration_buckets(),
        )
        .map_err(|e| format!("commit duration buckets: {e}"))?
        .install_recorder()
        .map_err(|e| format!("metrics recorder: {e}"))?;
    describe();
    Ok(handle)
}

/// Upper bounds of the commit-duration buckets, seconds: 100 µs to 13 s, each a fourth root of
/// two (19%) above the last, so a quantile interpolated inside one is off by under 19%.
fn commit_duration_buckets() -> Vec<f64> {
    (0..=68)
        .map(|step| 0.000_1 * 2f64.powf(f64::from(step) / 4.0))
        .collect()
}

/// How often histograms are drained into their summaries (the exporter's own default).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The bearer token `/metrics` requires (`metrics.token_env`); only its digest is kept.
#[derive(Clone)]
pub struct MetricsToken([u8; 32]);

/// The metrics token's variable is unset or too short.
#[derive(Debug, thiserror::Error)]
#[error("metrics.token_env: environment variable {var} {problem}")]
pub struct MetricsTokenError {
    /// The variable.
    pub var: String,
    /// What is wrong with its value.
    pub problem: &'static str,
}

impl MetricsToken {
    /// Fewest bytes a token may have.
    pub const MIN_LEN: usize = 32;

    /// The token `secret`, at least [`Self::MIN_LEN`] bytes (`var` names it in the error).
    pub fn new(var: &str, secret: &Secret) -> Result<Self, MetricsTokenError> {
        if secret.as_bytes().len() < Self::MIN_LEN {
            return Err(MetricsTokenError {
                var: var.to_owned(),
                problem: "holds fewer than 32 bytes",
            });
        }
        Ok(Self(Self::digest(secret.as_bytes())))
    }

    /// The token in environment variable `var`.
    pub fn from_env(var: &str) -> Result<Self, MetricsTokenError> {
        let secret = Secret::from_env(var).map_err(|_| MetricsTokenError {
            var: var.to_owned(),
            problem: "is not set",
        })?;
        Self::new(var, &secret)
    }

    fn digest(bytes: &[u8]) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(bytes).into()
    }

    /// Whether `authorization` is `Bearer <the token>`; digests are compared, so the time taken
    /// tells nothing about the token.
    fn admits(&self, authorization: Option<&actix_web::http::header::HeaderValue>) -> bool {
        let presented = authorization
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
            .unwrap_or_default();
        Self::digest(presented) == self.0
    }
}

/// Bind the `/metrics` listener on `listen` (port 0: the OS picks one), requiring `token` as a
/// bearer token when given. The server runs when the returned future is polled (spawn it,
/// inside an actix system); its handle stops it. While it runs, the recorder's upkeep runs too.
pub fn metrics_server(
    listen: SocketAddr,
    handle: PrometheusHandle,
    token: Option<MetricsToken>,
) -> std::io::Result<(Server, SocketAddr)> {
    let upkeep = handle.clone();
    actix::spawn(async move {
        let mut ticker = tokio::time::interval(UPKEEP_EVERY);
        loop {
            ticker.tick().await;
            upkeep.run_upkeep();
        }
    });
    let handle = web::Data::new(handle);
    let token = web::Data::new(token);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(handle.clone())
            .app_data(token.clone())
            .route("/metrics", web::get().to(render))
    })
    .workers(1)
    .disable_signals()
    .bind(listen)?;
    let bound = server.addrs().first().copied().unwrap_or(listen);
    Ok((server.run(), bound))
}

async fn render(
    request: HttpRequest,
    handle: web::Data<PrometheusHandle>,
    token: web::Data<Option<MetricsToken>>,
) -> HttpResponse {
    if let Some(token) = token.get_ref()
        && !token.admits(
            request
                .headers()
                .get(actix_web::http::header::AUTHORIZATION),
        )
    {
        return HttpResponse::Unauthorized()
            .insert_header(("WWW-Authenticate", "Bearer"))
            .finish();
    }
    HttpResponse::Ok()
        .content_type("text/plain")
        .body(handle.render())
}

/// The variable choosing the log format (`json`, or text otherwise).
pub const LOG_FORMAT_ENV: &str = "TRADEHUB_LOG_FORMAT";

/// Log to stderr: JSON lines when `TRADEHUB_LOG_FORMAT=json`, text otherwise;
/// the filter comes from `RUST_LOG` (default `info`).
pub fn init_logging() {
    init_logging_with(
        std::io::stderr,
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
    );
}

/// Log to the file at `path` (created or truncated) instead of stderr, as [`init_logging`]
/// otherwise does: for commands whose terminal belongs to a progress bar and a summary.
pub fn init_logging_to_file(path: &std::path::Path) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    init_logging_with(std::sync::Mutex::new(file), false);
    Ok(())
}

fn init_logging_with<W>(writer: W, ansi: bool)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi);
    let result = if std::env::var(LOG_FORMAT_ENV).as_deref() == Ok("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    // A second init (tests, the demo) keeps the first subscriber.
    drop(result);
}
