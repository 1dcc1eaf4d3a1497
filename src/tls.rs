//! TLS of the hub's own edges: PEM files read into rustls types (for the API listener and for
//! partners' client certificates), and the API listener's `[http.tls]`: its certificate and key,
//! reloaded when the files change ([`reload::ReloadingCert`]), and optional client-certificate
//! authentication against a CA file.
//!
//! Every TLS configuration uses rustls with the *ring* provider, named explicitly so that no
//! process-wide default provider has to be installed.

pub mod reload;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};
use tradehub_actors::clock::Clock;

use reload::ReloadingCert;

/// A TLS file or setting could not be used; names the setting and the file, never a key's bytes.
#[derive(Debug, thiserror::Error)]
#[error("{what} {path}: {reason}")]
pub struct TlsError {
    /// The setting naming the file (`http.tls.cert`, `outbound_tls.client_key`, …).
    pub what: String,
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

/// The crypto provider of every TLS configuration the hub builds.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificates of the PEM file at `path` (`what` names the setting in errors).
pub fn read_certs(what: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let error = |reason: String| TlsError {
        what: what.to_owned(),
        path: path.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| error(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(format!("not a PEM certificate file: {e}")))?;
    if certs.is_empty() {
        return Err(error("holds no CERTIFICATE block".to_owned()));
    }
    Ok(certs)
}

/// The private key of the PEM file at `path` (PKCS#8, PKCS#1 or SEC1).
pub fn read_key(what: &str, path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let error = |reason: String| TlsError {
        what: what.to_owned(),
        path: path.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| error(e.to_string()))?;
    // The parser's message never quotes the file's content.
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| error(format!("no private key: {e}")))
}

/// Whether the API asks clients for a certificate signed by `client_ca`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// A client without a valid certificate fails the handshake.
    Required,
    /// A client may present none; one it presents must be valid.
    Optional,
}

/// `[http.tls]`: the API listener's certificate, key and client-certificate policy. Paths are
/// relative to `runtime.home`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file with the server certificate, then its chain.
    pub cert: PathBuf,
    /// PEM file with the certificate's private key.
    pub key: PathBuf,
    /// How often, at most, the files' modification times are looked at; changed files are
    /// loaded for the next handshakes, and a broken pair keeps the previous one in use.
    #[serde(with = "humantime_serde", default = "default_reload_every")]
    pub reload_every: Duration,
    /// PEM file with the CAs client certificates must chain to; none: no client certificates.
    #[serde(default)]
    pub client_ca: Option<PathBuf>,
    /// With `client_ca`: `required` or `optional`.
    #[serde(default = "default_client_auth")]
    pub client_auth: ClientAuth,
}

fn default_reload_every() -> Duration {
    Duration::from_secs(5)
}

fn default_client_auth() -> ClientAuth {
    ClientAuth::Required
}

impl TlsConfig {
    /// A configuration serving `cert` and `key`, reloaded as the defaults say, with no client
    /// certificates.
    pub fn new(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        Self {
            cert: cert.into(),
            key: key.into(),
            reload_every: default_reload_every(),
            client_ca: None,
            client_auth: default_client_auth(),
        }
    }

    /// The rustls server configuration, its files read relative to `home`: the certificate is
    /// served through a [`ReloadingCert`] timed by `clock`.
    pub fn server_config(
        &self,
        home: &Path,
        clock: Arc<dyn Clock>,
    ) -> Result<ServerConfig, TlsError> {
        let provider = provider();
        let resolver = ReloadingCert::load(
            home.join(&self.cert),
            home.join(&self.key),
            self.reload_every,
            provider.clone(),
            clock,
        )?;
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError {
                what: "http.tls".to_owned(),
                path: home.join(&self.cert),
                reason: e.to_string(),
            })?;
        let builder = match &self.client_ca {
            None => builder.with_no_client_auth(),
            Some(ca) => {
                let path = home.join(ca);
                let error = |reason: String| TlsError {
                    what: "http.tls.client_ca".to_owned(),
                    path: path.clone(),
                    reason,
                };
                let mut roots = RootCertStore::empty();
                for cert in read_certs("http.tls.client_ca", &path)? {
                    roots.add(cert).map_err(|e| error(e.to_string()))?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
                let verifier = match self.client_auth {
                    ClientAuth::Required => verifier,
                    ClientAuth::Optional => verifier.allow_unauthenticated(),
                };
                builder
                    .with_client_cert_verifier(verifier.build().map_err(|e| error(e.to_string()))?)
            }
        };
        Ok(builder.with_cert_resolver(Arc::new(resolver)))
    }
}

#[cfg(test)]
mod tests;
