//! `tradehub health`: the container's health check, without curl in the image. Asks the API of
//! the hub on this host (the `http.listen` port of the configuration, on loopback) for `/healthz`,
//! or `/readyz` with `--ready`, and exits 0 when it answers 200, 1 otherwise.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::ops::fail;
use super::{EXIT_PROBLEMS, EXIT_USAGE};
use crate::config::{HubConfig, default_path};

/// The health check.
#[derive(Debug, Args)]
pub struct HealthArgs {
    /// Configuration file (default `config/hub.toml`; built-in defaults when absent).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The API's base URL, instead of the configured listener on loopback.
    #[arg(long)]
    url: Option<String>,
    /// Ask whether the node is ready (Redis reachable, work owned) rather than alive.
    #[arg(long)]
    ready: bool,
    /// Give up after this long.
    #[arg(long, default_value = "3s", value_parser = humantime_serde::re::humantime::parse_duration)]
    timeout: Duration,
}

/// Where a local client reaches a listener bound to `listen`: the wildcard addresses become
/// loopback.
fn local(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// `tradehub health`.
pub fn health(args: HealthArgs) -> ExitCode {
    let base = match args.url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let (path, required) = match &args.config {
                Some(path) => (path.clone(), true),
                None => (default_path(), false),
            };
            match HubConfig::load(&path, required) {
                Ok(config) => format!("http://{}", local(config.http.listen)),
                Err(error) => return fail(EXIT_USAGE, error),
            }
        }
    };
    let url = format!("{base}/{}", if args.ready { "readyz" } else { "healthz" });
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return fail(EXIT_USAGE, error),
    };
    let answer = runtime.block_on(async {
        let client = reqwest::Client::builder().timeout(args.timeout).build()?;
        client.get(&url).send().await.map(|r| r.status())
    });
    match answer {
        Ok(status) if status.is_success() => {
            println!("{url}: {status}");
            ExitCode::SUCCESS
        }
        Ok(status) => fail(EXIT_PROBLEMS, format!("{url}: {status}")),
        Err(error) => fail(EXIT_PROBLEMS, format!("{url}: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::local;

    #[test]
    fn wildcard_listeners_are_reached_on_loopback() {
        let local = |s: &str| local(s.parse().expect("an address")).to_string();
        assert_eq!(local("0.0.0.0:8080"), "127.0.0.1:8080");
        assert_eq!(local("[::]:8080"), "[::1]:8080");
        assert_eq!(local("10.1.2.3:9000"), "10.1.2.3:9000");
    }
}
