//! Redis over TLS with an ACL user: a private `redis-server` listening on TLS only, with a
//! certificate from a CA made for the test, the `default` user off and one user allowed in by
//! password. The store connects with the CA file and the credentials, and is refused without
//! either; no error shows the password.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use tradehub::secret::Secret;
use tradehub::store::{Credentials, RedisMailbox, StoreConfig};

const USER: &str = "tradehub-hub";
const PASSWORD: &str = "an-acl-password-for-the-tls-test-0123";

/// A TLS-only redis-server in a temporary folder; killed on drop.
struct TlsRedis {
    child: Child,
    port: u16,
    folder: tempfile::TempDir,
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        drop(self.child.kill());
        drop(self.child.wait());
    }
}

/// A CA and a server certificate for 127.0.0.1 and localhost, as PEM files in `folder`.
fn certificates(folder: &Path) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "tradehub test CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("a CA key"))
        .expect("the CA certificate");
    let key = KeyPair::generate().expect("a server key");
    let server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("server parameters")
        .signed_by(&key, &ca)
        .expect("the server certificate");
    let write = |name: &str, pem: String| std::fs::write(folder.join(name), pem).expect(name);
    write("ca.pem", ca.pem());
    write("server.pem", server.pem());
    write("server.key", key.serialize_pem());
}

impl TlsRedis {
    fn start() -> Self {
        let folder = tempfile::tempdir().expect("a folder");
        certificates(folder.path());
        let config = folder.path().join("redis.conf");
        std::fs::write(
            &config,
            format!(
                "port 0\ntls-cert-file {dir}/server.pem\ntls-key-file {dir}/server.key\n\
                 tls-ca-cert-file {dir}/ca.pem\ntls-auth-clients no\ndir {dir}\nsave \"\"\n\
                 appendonly no\nuser default off\nuser {USER} on >{PASSWORD} ~* &* +@all\n",
                dir = folder.path().display()
            ),
        )
        .expect("redis.conf");
        for _ in 0..20 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let mut child = Command::new("redis-server")
                .arg(&config)
                .args(["--tls-port", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server starts");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Self {
                        child,
                        port,
                        folder,
                    };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            drop(child.kill());
            drop(child.wait());
        }
        panic!("redis-server did not listen on TLS (is it built with TLS support?)");
    }

    fn config(&self, password: &str, ca: bool) -> StoreConfig {
        StoreConfig {
            url: format!("rediss://127.0.0.1:{}", self.port),
            ca_file: ca.then(|| self.folder.path().join("ca.pem")),
            credentials: Some(Credentials {
                username: Some(USER.to_owned()),
                password: Secret::new(password),
            }),
            connect_timeout_ms: 2_000,
            reconnect_retries: 0,
            ..StoreConfig::default()
        }
    }
}

#[tokio::test]
async fn the_store_talks_tls_to_redis_as_its_acl_user() {
    let redis = TlsRedis::start();
    let mailbox = RedisMailbox::connect(redis.config(PASSWORD, true))
        .await
        .expect("connects over TLS with the CA file and the ACL user");
    mailbox.ping().await.expect("PING over TLS");
}

#[tokio::test]
async fn a_wrong_password_or_an_untrusted_certificate_is_refused_without_showing_secrets() {
    let redis = TlsRedis::start();
    let wrong = "not-the-password-of-that-user-at-all";
    let refused = RedisMailbox::connect(redis.config(wrong, true))
        .await
        .expect_err("a wrong password is refused");
    let shown = refused.to_string();
    assert!(!shown.contains(wrong), "{shown}");
    let untrusted = RedisMailbox::connect(redis.config(PASSWORD, false))
        .await
        .expect_err("a certificate from an unknown CA is refused");
    assert!(!untrusted.to_string().contains(PASSWORD), "{untrusted}");
    let plain = StoreConfig {
        url: format!("redis://127.0.0.1:{}", redis.port),
        ca_file: None,
        ..redis.config(PASSWORD, false)
    };
    assert!(
        RedisMailbox::connect(plain).await.is_err(),
        "plain text to a TLS port does not connect"
    );
}
