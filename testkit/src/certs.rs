//! Throwaway certificates for TLS tests (feature `certs`): a CA made per test, and server and
//! client certificates it signs, written as PEM files into the test's folder.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// A certificate and its key as PEM files.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The certificate's file.
    pub cert: PathBuf,
    /// The private key's file.
    pub key: PathBuf,
    /// The certificate, PEM.
    pub cert_pem: String,
}

/// A certificate authority that lives as long as the test.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    /// A new CA named `name`.
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::default();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("a CA key");
        Self {
            issuer: CertifiedIssuer::self_signed(params, key).expect("a CA certificate"),
        }
    }

    /// The CA certificate, PEM.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// Writes the CA certificate to `dir/<file>`; returns the path.
    pub fn write(&self, dir: &Path, file: &str) -> PathBuf {
        let path = dir.join(file);
        std::fs::write(&path, self.pem()).expect("write the CA certificate");
        path
    }

    /// A server certificate for `localhost` and `127.0.0.1`, as `dir/<name>.pem` and
    /// `dir/<name>.key`.
    pub fn server(&self, dir: &Path, name: &str) -> Issued {
        self.issue(dir, name, ExtendedKeyUsagePurpose::ServerAuth)
    }

    /// A client certificate for `name`, as `dir/<name>.pem` and `dir/<name>.key`.
    pub fn client(&self, dir: &Path, name: &str) -> Issued {
        self.issue(dir, name, ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn issue(&self, dir: &Path, name: &str, usage: ExtendedKeyUsagePurpose) -> Issued {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("valid names");
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().expect("a key");
        let cert = params.signed_by(&key, &self.issuer).expect("a certificate");
        let issued = Issued {
            cert: dir.join(format!("{name}.pem")),
            key: dir.join(format!("{name}.key")),
            cert_pem: cert.pem(),
        };
        std::fs::write(&issued.cert, &issued.cert_pem).expect("write the certificate");
        std::fs::write(&issued.key, key.serialize_pem()).expect("write the key");
        issued
    }
}
