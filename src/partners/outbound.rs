//! The hub's own requests to a partner: how they are authenticated and over what TLS, built
//! from the partner's template in one place ([`Outbound::load`], then [`Outbound::client`]).
//!
//! A template's `[auth]` says how the partner proves itself on its callbacks to the hub
//! (inbound); `[outbound_auth]` says how the hub proves itself on its requests to the partner.
//! A template may have both.
//!
//! | `[outbound_auth] kind` | keys | each request carries |
//! |---|---|---|
//! | `none` (no table) | | nothing |
//! | `bearer` | `token_env` | `Authorization: Bearer <token>` |
//! | `basic` | `user`, `password_env` | `Authorization: Basic …` |
//! | `oauth2_client_credentials` | `token_url`, `client_id`, `client_secret_env`, `scope` (optional) | `Authorization: Bearer <access token>`: fetched from `token_url` with the client id and secret in HTTP basic, kept until 30 s before it expires; a 401 from the partner fetches a new one and resends once |
//! | `hmac` | `header`, `secret_env` | `<header>: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>` ([`sign::signature`]) |
//!
//! `[outbound_tls]` presents a client certificate (mTLS) with `client_cert` and `client_key`
//! (PEM files, relative to `runtime.home`) and trusts the CAs in `ca` (PEM) beside the public
//! roots. Secrets come from the environment variables named; a missing one stops the start.
//!
//! Plain `http://` to a partner ([`check_endpoint`]) is refused at start-up unless its host is
//! loopback (`127.0.0.0/8`, `::1`, `localhost`) or the template says `allow_insecure = true`.

pub mod oauth2;
pub mod sign;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use reqwest::{RequestBuilder, Response, StatusCode, Url};
use serde::{Deserialize, Serialize};
use tradehub_actors::clock::Clock;

use crate::secret::Secret;
use oauth2::{TokenCache, TokenError};

/// `[outbound_auth]`: how the hub authenticates its requests to the partner.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum OutboundAuth {
    /// Nothing (a partner on a private network, or one that authenticates by mTLS alone).
    #[default]
    None,
    /// A static bearer token.
    Bearer {
        /// Environment variable holding the token.
        token_env: String,
    },
    /// HTTP basic.
    Basic {
        /// User name.
        user: String,
        /// Environment variable holding the password.
        password_env: String,
    },
    /// OAuth2 client credentials; the access token is cached and refreshed.
    Oauth2ClientCredentials {
        /// The token endpoint.
        token_url: String,
        /// The hub's client id.
        client_id: String,
        /// Environment variable holding the client secret.
        client_secret_env: String,
        /// Scope asked for, space-separated.
        #[serde(default)]
        scope: Option<String>,
    },
    /// An HMAC-SHA256 signature over time and body, in a header.
    Hmac {
        /// Header carrying `t=<unix>,v1=<hex>`.
        header: String,
        /// Environment variable holding the shared secret.
        secret_env: String,
    },
}

impl OutboundAuth {
    /// The environment variable holding this kind's secret, if it has one.
    pub fn secret_env(&self) -> Option<&str> {
        match self {
            Self::None => None,
            Self::Bearer { token_env } => Some(token_env),
            Self::Basic { password_env, .. } => Some(password_env),
            Self::Oauth2ClientCredentials {
                client_secret_env, ..
            } => Some(client_secret_env),
            Self::Hmac { secret_env, .. } => Some(secret_env),
        }
    }
}

/// `[outbound_tls]`: the client certificate the hub presents, and extra CAs it trusts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundTls {
    /// PEM file with the client certificate (and its chain); needs `client_key`.
    #[serde(default)]
    pub client_cert: Option<PathBuf>,
    /// PEM file with the client certificate's private key.
    #[serde(default)]
    pub client_key: Option<PathBuf>,
    /// PEM file with CAs trusted for this partner beside the public roots.
    #[serde(default)]
    pub ca: Option<PathBuf>,
}

/// A partner's outbound settings could not be used; names the partner and the key, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// Plain `http://` to a host that is not loopback, without `allow_insecure`.
    #[error(
        "partner {partner}: {url} is plain http:// to a host that is not loopback; use https://, \
         or set allow_insecure = true in config/partners/{partner}.toml"
    )]
    Insecure {
        /// Partner.
        partner: String,
        /// The URL, without credentials or query.
        url: String,
    },
    /// Not an `http(s)://` URL.
    #[error("partner {partner}: {what} is not an http:// or https:// URL: {reason}")]
    Url {
        /// Partner.
        partner: String,
        /// Which URL (`endpoint`, `outbound_auth.token_url`).
        what: String,
        /// Why.
        reason: String,
    },
    /// A secret's environment variable is unset.
    #[error("partner {partner}: outbound_auth needs environment variable {var}, which is not set")]
    MissingSecret {
        /// Partner.
        partner: String,
        /// The variable.
        var: String,
    },
    /// A setting is unusable.
    #[error("partner {partner}: {what}: {reason}")]
    Invalid {
        /// Partner.
        partner: String,
        /// The key.
        what: String,
        /// Why.
        reason: String,
    },
    /// A certificate or key file is unusable.
    #[error("partner {partner}: {source}")]
    Tls {
        /// Partner.
        partner: String,
        /// The file's problem.
        #[source]
        source: crate::tls::TlsError,
    },
}

/// `url` for messages: scheme, host, port and path, never user, password or query.
pub fn shown_url(url: &Url) -> String {
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!(
        "{}://{}{port}{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.path()
    )
}

/// Refuses `url` (the `what` of `partner`) unless it is `https://`, or `http://` to a loopback
/// host, or `allow_insecure`; returns the URL as shown in messages.
pub fn check_endpoint(
    partner: &str,
    what: &str,
    url: &str,
    allow_insecure: bool,
) -> Result<String, OutboundError> {
    let bad = |reason: String| OutboundError::Url {
        partner: partner.to_owned(),
        what: what.to_owned(),
        reason,
    };
    let parsed = Url::parse(url).map_err(|e| bad(e.to_string()))?;
    let shown = shown_url(&parsed);
    match parsed.scheme() {
        "https" => Ok(shown),
        "http" if allow_insecure || is_loopback(&parsed) => Ok(shown),
        "http" => Err(OutboundError::Insecure {
            partner: partner.to_owned(),
            url: shown,
        }),
        other => Err(bad(format!("scheme {other}"))),
    }
}

fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `value` as a header value hidden from debug output.
fn sensitive(value: String) -> Result<HeaderValue, reqwest::header::InvalidHeaderValue> {
    let mut value = HeaderValue::try_from(value)?;
    value.set_sensitive(true);
    Ok(value)
}

/// The credentials of [`OutboundAuth`], secrets read.
#[derive(Debug, Clone)]
enum Credentials {
    None,
    /// A fixed `Authorization` value: a bearer token, a basic pair.
    Fixed(HeaderValue),
    OAuth2(Arc<TokenCache>),
    Hmac {
        header: HeaderName,
        secret: Secret,
    },
}

/// A partner's outbound settings, secrets and files read: makes its HTTP clients. Cloning
/// shares the OAuth2 token cache.
#[derive(Clone)]
pub struct Outbound {
    partner: String,
    credentials: Credentials,
    identity: Option<reqwest::Identity>,
    roots: Vec<reqwest::Certificate>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("partner", &self.partner)
            .field("credentials", &self.credentials)
            .field("client_certificate", &self.identity.is_some())
            .field("extra_roots", &self.roots.len())
            .finish_non_exhaustive()
    }
}

impl Outbound {
    /// No authentication, public roots only.
    pub fn none(partner: &str, clock: Arc<dyn Clock>) -> Self {
        Self {
            partner: partner.to_owned(),
            credentials: Credentials::None,
            identity: None,
            roots: Vec::new(),
            clock,
        }
    }

    /// `partner`'s outbound settings: secrets through `secret` (by variable name), files
    /// relative to `home`, the token endpoint checked like an endpoint.
    pub fn load(
        partner: &str,
        auth: &OutboundAuth,
        tls: Option<&OutboundTls>,
        allow_insecure: bool,
        home: &Path,
        secret: impl Fn(&str) -> Option<Secret>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, OutboundError> {
        let read = |var: &str| {
            secret(var).ok_or_else(|| OutboundError::MissingSecret {
                partner: partner.to_owned(),
                var: var.to_owned(),
            })
        };
        let invalid = |what: &str, reason: String| OutboundError::Invalid {
            partner: partner.to_owned(),
            what: what.to_owned(),
            reason,
        };
        let fixed = |var: &str, value: String| {
            sensitive(value).map(Credentials::Fixed).map_err(|_| {
                invalid(
                    "outbound_auth",
                    format!("the value of {var} cannot go in an HTTP header"),
                )
            })
        };
        let credentials = match auth {
            OutboundAuth::None => Credentials::None,
            OutboundAuth::Bearer { token_env } => {
                let token = read(token_env)?;
                fixed(token_env, format!("Bearer {}", token.expose()))?
            }
            OutboundAuth::Basic { user, password_env } => {
                let password = read(password_env)?;
                let pair = base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    format!("{user}:{}", password.expose()),
                );
                fixed(password_env, format!("Basic {pair}"))?
            }
            OutboundAuth::Oauth2ClientCredentials {
                token_url,
                client_id,
                client_secret_env,
                scope,
            } => {
                let shown = check_endpoint(
                    partner,
                    "outbound_auth.token_url",
                    token_url,
                    allow_insecure,
                )?;
                Credentials::OAuth2(Arc::new(TokenCache::new(
                    token_url.clone(),
                    shown,
                    client_id.clone(),
                    read(client_secret_env)?,
                    scope.clone(),
                    clock.clone(),
                )))
            }
            OutboundAuth::Hmac { header, secret_env } => Credentials::Hmac {
                header: HeaderName::try_from(header.as_str())
                    .map_err(|e| invalid("outbound_auth.header", e.to_string()))?,
                secret: read(secret_env)?,
            },
        };
        let tls = tls.cloned().unwrap_or_default();
        let tls_error = |source| OutboundError::Tls {
            partner: partner.to_owned(),
            source,
        };
        let identity = match (&tls.client_cert, &tls.client_key) {
            (None, None) => None,
            (Some(cert), Some(key)) => {
                let (cert, key) = (home.join(cert), home.join(key));
                crate::tls::read_certs("outbound_tls.client_cert", &cert).map_err(tls_error)?;
                crate::tls::read_key("outbound_tls.client_key", &key).map_err(tls_error)?;
                let mut pem = read_file("outbound_tls.client_cert", &cert).map_err(tls_error)?;
                pem.push(b'\n');
                pem.extend(read_file("outbound_tls.client_key", &key).map_err(tls_error)?);
                Some(
                    reqwest::Identity::from_pem(&pem)
                        .map_err(|e| invalid("outbound_tls", e.to_string()))?,
                )
            }
            _ => {
                return Err(invalid(
                    "outbound_tls",
                    "client_cert and client_key go together".to_owned(),
                ));
            }
        };
        let roots = match &tls.ca {
            None => Vec::new(),
            Some(ca) => {
                let ca = home.join(ca);
                crate::tls::read_certs("outbound_tls.ca", &ca).map_err(tls_error)?;
                let pem = read_file("outbound_tls.ca", &ca).map_err(tls_error)?;
                reqwest::Certificate::from_pem_bundle(&pem)
                    .map_err(|e| invalid("outbound_tls.ca", e.to_string()))?
            }
        };
        Ok(Self {
            partner: partner.to_owned(),
            credentials,
            identity,
            roots,
            clock,
        })
    }

    /// An HTTP client for the partner, with these settings and timeouts.
    pub fn client(
        &self,
        connect_timeout: Duration,
        timeout: Duration,
    ) -> Result<PartnerClient, OutboundError> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(connect_timeout)
            .timeout(timeout);
        if let Some(identity) = &self.identity {
            builder = builder.identity(identity.clone());
        }
        for root in &self.roots {
            builder = builder.add_root_certificate(root.clone());
        }
        let http = builder.build().map_err(|e| OutboundError::Invalid {
            partner: self.partner.clone(),
            what: "HTTP client".to_owned(),
            reason: e.to_string(),
        })?;
        Ok(PartnerClient {
            http,
            outbound: self.clone(),
        })
    }
}

fn read_file(what: &str, path: &Path) -> Result<Vec<u8>, crate::tls::TlsError> {
    std::fs::read(path).map_err(|e| crate::tls::TlsError {
        what: what.to_owned(),
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// A request could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The exchange with the partner failed.
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    /// No access token could be had; nothing was sent to the partner.
    #[error("partner {partner}: {source}")]
    Token {
        /// Partner.
        partner: String,
        /// Why.
        source: TokenError,
    },
}

/// A partner's HTTP client: its TLS settings, and its credentials added to every request.
#[derive(Debug, Clone)]
pub struct PartnerClient {
    http: reqwest::Client,
    outbound: Outbound,
}

impl PartnerClient {
    /// A `method` request to `url`, to finish and hand to [`Self::send`].
    pub fn request(&self, method: reqwest::Method, url: &str) -> RequestBuilder {
        self.http.request(method, url)
    }

    /// Sends `request` with the partner's credentials. With OAuth2, a 401 fetches a new access
    /// token and resends once. The HMAC signature covers the request's body as built (bytes).
    pub async fn send(&self, request: RequestBuilder) -> Result<Response, SendError> {
        let mut request = request.build()?;
        match &self.outbound.credentials {
            Credentials::None => {}
            Credentials::Fixed(value) => {
                request.headers_mut().insert(AUTHORIZATION, value.clone());
            }
            Credentials::Hmac { header, secret } => {
                let body = request
                    .body()
                    .and_then(reqwest::Body::as_bytes)
                    .unwrap_or_default();
                let unix = self.outbound.clock.now_ms() / 1000;
                let value = sensitive(sign::signature(secret.as_bytes(), unix, body))
                    .expect("t=<digits>,v1=<hex> is a valid header value");
                request.headers_mut().insert(header.clone(), value);
            }
            Credentials::OAuth2(cache) => return self.send_with_token(cache, request).await,
        }
        Ok(self.http.execute(request).await?)
    }

    async fn send_with_token(
        &self,
        cache: &TokenCache,
        mut request: reqwest::Request,
    ) -> Result<Response, SendError> {
        let resend = request.try_clone();
        let token = cache
            .token(&self.http)
            .await
            .map_err(|e| self.token_error(e))?;
        request.headers_mut().insert(AUTHORIZATION, token.clone());
        let response = self.http.execute(request).await?;
        let Some(mut resend) = resend.filter(|_| response.status() == StatusCode::UNAUTHORIZED)
        else {
            return Ok(response);
        };
        let token = cache
            .refresh(&self.http, &token)
            .await
            .map_err(|e| self.token_error(e))?;
        resend.headers_mut().insert(AUTHORIZATION, token);
        Ok(self.http.execute(resend).await?)
    }

    fn token_error(&self, source: TokenError) -> SendError {
        SendError::Token {
            partner: self.outbound.partner.clone(),
            source,
        }
    }
}

#[cfg(test)]
mod tests;
