//! A test identity provider: signs JWTs with the test-only keys in `tests/data/oidc/` (see its
//! `SOURCE.md`) and publishes their JWKS, and makes the forgeries an attacker would try.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// The RSA key `rsa-a` (RS256).
pub const RSA_A: &str = "rsa-a";
/// The RSA key `rsa-b` (RS256), the one rotated to.
pub const RSA_B: &str = "rsa-b";
/// The P-256 key `ec` (ES256).
pub const EC: &str = "ec";
/// The Ed25519 key `ed` (EdDSA).
pub const ED: &str = "ed";

const KEYS: [(&str, Algorithm, &str); 4] = [
    (
        RSA_A,
        Algorithm::RS256,
        include_str!("../../tests/data/oidc/rsa-a.pem"),
    ),
    (
        RSA_B,
        Algorithm::RS256,
        include_str!("../../tests/data/oidc/rsa-b.pem"),
    ),
    (
        EC,
        Algorithm::ES256,
        include_str!("../../tests/data/oidc/ec-p256.pem"),
    ),
    (
        ED,
        Algorithm::EdDSA,
        include_str!("../../tests/data/oidc/ed25519.pem"),
    ),
];

/// `rsa-a`'s public key as PEM: the secret of the HMAC-with-the-public-key forgery.
const RSA_A_PUBLIC: &str = include_str!("../../tests/data/oidc/rsa-a.pub.pem");

/// An identity provider with the test keys `rsa-a`, `rsa-b`, `ec` and `ed`.
#[derive(Debug, Clone)]
pub struct Idp {
    /// The `iss` of its tokens.
    pub issuer: String,
    /// The `aud` of its tokens.
    pub audience: String,
}

fn key(kid: &str) -> (Algorithm, EncodingKey) {
    let (_, algorithm, pem) = KEYS
        .iter()
        .find(|(name, _, _)| *name == kid)
        .unwrap_or_else(|| panic!("no test key {kid}"));
    let key = match algorithm {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(pem.as_bytes()),
        Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()),
        _ => EncodingKey::from_ed_pem(pem.as_bytes()),
    };
    (*algorithm, key.expect("a test key parses"))
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

impl Idp {
    /// A provider issuing as `issuer` for `audience`.
    pub fn new(issuer: &str, audience: &str) -> Self {
        Self {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
        }
    }

    /// The JWKS publishing the public halves of the keys `kids`.
    pub fn jwks(&self, kids: &[&str]) -> String {
        let keys = kids
            .iter()
            .map(|kid| {
                let (algorithm, key) = key(kid);
                let mut jwk = Jwk::from_encoding_key(&key, algorithm).expect("a JWK");
                jwk.common.key_id = Some((*kid).to_owned());
                jwk
            })
            .collect();
        serde_json::to_string(&JwkSet { keys }).expect("JSON")
    }

    /// Claims of a person `sub` holding the role names `roles`, valid from `now_s` (Unix
    /// seconds) for an hour; change them before signing to make them wrong.
    pub fn claims(&self, sub: &str, roles: &[&str], now_s: u64) -> Value {
        json!({
            "iss": self.issuer,
            "aud": self.audience,
            "sub": sub,
            "email": format!("{sub}@example.test"),
            "roles": roles,
            "iat": now_s,
            "nbf": now_s,
            "exp": now_s + 3600,
        })
    }

    /// `claims` signed with key `kid`, whose name the header carries.
    pub fn sign(&self, kid: &str, claims: &Value) -> String {
        self.sign_as(kid, kid, claims)
    }

    /// `claims` signed with key `signer`, the header naming `kid`: a bad signature when the
    /// two differ.
    pub fn sign_as(&self, kid: &str, signer: &str, claims: &Value) -> String {
        let (algorithm, key) = key(signer);
        let mut header = Header::new(algorithm);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &key).expect("signed")
    }

    /// `claims` with `alg: none` and no signature, naming `kid`.
    pub fn unsigned(&self, kid: &str, claims: &Value) -> String {
        let header = json!({ "alg": "none", "typ": "JWT", "kid": kid });
        format!("{}.{}.", b64(&header), b64(claims))
    }

    /// `claims` as HS256 keyed with `rsa-a`'s public key PEM, naming `rsa-a`: the algorithm
    /// confusion forgery.
    pub fn hmac_with_public_key(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(RSA_A.to_owned());
        let key = EncodingKey::from_secret(RSA_A_PUBLIC.as_bytes()).expect("an HMAC key");
        jsonwebtoken::encode(&header, claims, &key).expect("signed")
    }
}
