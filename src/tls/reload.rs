//! A server certificate that follows its files: at most once per `every`, a handshake looks at
//! the certificate's and the key's modification times, and when either changed the pair is read
//! again for this and later handshakes. A pair that fails to load (a renewal half written, a key
//! that does not match) is logged and the previous pair stays in use until the files change again.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tradehub_actors::clock::{Clock, Millis};

use super::{TlsError, read_certs, read_key};

/// The modification times of the certificate and the key files.
type Stamp = (Option<SystemTime>, Option<SystemTime>);

struct Current {
    key: Arc<CertifiedKey>,
    stamp: Stamp,
    checked_ms: Millis,
}

/// A [`ResolvesServerCert`] that reloads its certificate and key when their files change.
pub struct ReloadingCert {
    cert: PathBuf,
    key: PathBuf,
    every: Duration,
    provider: Arc<CryptoProvider>,
    clock: Arc<dyn Clock>,
    current: Mutex<Current>,
}

impl std::fmt::Debug for ReloadingCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReloadingCert")
            .field("cert", &self.cert)
            .field("key", &self.key)
            .field("every", &self.every)
            .finish_non_exhaustive()
    }
}

impl ReloadingCert {
    /// Reads the pair now (an error stops the start); later reads happen on handshakes.
    pub fn load(
        cert: PathBuf,
        key: PathBuf,
        every: Duration,
        provider: Arc<CryptoProvider>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, TlsError> {
        let stamp = stamp(&cert, &key);
        let loaded = certified_key(&cert, &key, &provider)?;
        let checked_ms = clock.now_ms();
        Ok(Self {
            cert,
            key,
            every,
            provider,
            clock,
            current: Mutex::new(Current {
                key: loaded,
                stamp,
                checked_ms,
            }),
        })
    }

    /// The pair to serve, read again first if the check is due and the files changed.
    pub fn current(&self) -> Arc<CertifiedKey> {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        let now = self.clock.now_ms();
        if now.saturating_sub(current.checked_ms) < self.every.as_millis() as u64 {
            return current.key.clone();
        }
        current.checked_ms = now;
        let stamp = stamp(&self.cert, &self.key);
        if stamp != current.stamp {
            match certified_key(&self.cert, &self.key, &self.provider) {
                Ok(key) => {
                    tracing::info!(cert = %self.cert.display(), "API certificate reloaded");
                    current.key = key;
                    current.stamp = stamp;
                }
                Err(error) => {
                    tracing::warn!(%error, "API certificate files changed but do not load; serving the previous certificate");
                }
            }
        }
        current.key.clone()
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

fn stamp(cert: &std::path::Path, key: &std::path::Path) -> Stamp {
    let modified = |path: &std::path::Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    (modified(cert), modified(key))
}

fn certified_key(
    cert: &std::path::Path,
    key: &std::path::Path,
    provider: &CryptoProvider,
) -> Result<Arc<CertifiedKey>, TlsError> {
    let chain = read_certs("http.tls.cert", cert)?;
    let private = read_key("http.tls.key", key)?;
    let signing = provider
        .key_provider
        .load_private_key(private)
        .map_err(|e| TlsError {
            what: "http.tls.key".to_owned(),
            path: key.to_path_buf(),
            reason: e.to_string(),
        })?;
    let certified = CertifiedKey::new(chain, signing);
    certified.keys_match().map_err(|e| TlsError {
        what: "http.tls.key".to_owned(),
        path: key.to_path_buf(),
        reason: format!(
            "does not belong to the certificate in {}: {e}",
            cert.display()
        ),
    })?;
    Ok(Arc::new(certified))
}
