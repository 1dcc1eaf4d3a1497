use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use tradehub_actors::clock::{ManualClock, SystemClock};
use tradehub_testkit::certs::TestCa;

use super::reload::ReloadingCert;
use super::*;

fn der(pem: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_slice(pem.as_bytes()).expect("a PEM certificate")
}

/// Marks `path` as modified at `at`, so that a change never hides inside the file system's
/// timestamp resolution.
fn touch(path: &Path, at: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(at))
        .expect("set the modification time");
}

#[test]
fn the_certificate_is_reloaded_after_the_check_interval_when_its_files_change() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let ca = TestCa::new("reload CA");
    let first = ca.server(dir.path(), "api");
    let clock = ManualClock::new(1_000_000);
    let resolver = ReloadingCert::load(
        first.cert.clone(),
        first.key.clone(),
        Duration::from_secs(5),
        provider(),
        Arc::new(clock.clone()),
    )
    .expect("the pair loads");
    assert_eq!(resolver.current().cert[0], der(&first.cert_pem));

    let second = ca.server(dir.path(), "api");
    let later = SystemTime::now() + Duration::from_secs(60);
    touch(&second.cert, later);
    touch(&second.key, later);
    clock.advance(4_999);
    assert_eq!(
        resolver.current().cert[0],
        der(&first.cert_pem),
        "not looked at before the interval"
    );
    clock.advance(1);
    assert_eq!(resolver.current().cert[0], der(&second.cert_pem));

    std::fs::write(&second.cert, "not a certificate").expect("break the file");
    touch(&second.cert, later + Duration::from_secs(60));
    clock.advance(5_000);
    assert_eq!(
        resolver.current().cert[0],
        der(&second.cert_pem),
        "a broken file keeps the previous certificate"
    );
}

#[test]
fn unusable_files_name_the_setting_and_the_file() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let ca = TestCa::new("errors CA");
    let api = ca.server(dir.path(), "api");
    let other = ca.server(dir.path(), "other");
    let start = |config: TlsConfig| {
        config
            .server_config(dir.path(), Arc::new(SystemClock))
            .map(|_| ())
            .expect_err("refused")
            .to_string()
    };
    let missing = start(TlsConfig::new("absent.pem", &api.key));
    assert!(
        missing.starts_with("http.tls.cert ") && missing.contains("absent.pem"),
        "{missing}"
    );
    let mismatched = start(TlsConfig::new(&api.cert, &other.key));
    assert!(
        mismatched.starts_with("http.tls.key ") && mismatched.contains("does not belong"),
        "{mismatched}"
    );
    let not_a_ca = start(TlsConfig {
        client_ca: Some(api.key.clone()),
        ..TlsConfig::new(&api.cert, &api.key)
    });
    assert!(
        not_a_ca.starts_with("http.tls.client_ca ") && not_a_ca.contains("no CERTIFICATE"),
        "{not_a_ca}"
    );
    let key_text = std::fs::read_to_string(&api.key).expect("the key");
    assert!(
        !missing.contains(&key_text[40..80]) && !mismatched.contains(&key_text[40..80]),
        "no key material in errors"
    );
}
