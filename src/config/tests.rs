use super::*;

#[test]
fn shipped_hub_toml_loads_and_equals_the_defaults() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/hub.toml");
    let loaded = HubConfig::load(&path, true).expect("config/hub.toml loads");
    assert_eq!(loaded.runtime, RuntimeConfig::default());
    assert_eq!(loaded.auth, AuthConfig::default());
    assert_eq!(loaded.redis.prefix, "th");
}

#[test]
fn unknown_key_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.toml");
    std::fs::write(&path, "[runtime]\npartitons = 4\n").unwrap();
    let err = HubConfig::load(&path, true).unwrap_err().to_string();
    assert!(err.contains("partitons"), "{err}");
}

#[test]
fn lease_renew_must_be_shorter_than_ttl() {
    let mut config = HubConfig::default();
    config.runtime.lease_renew = config.runtime.lease_ttl;
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("runtime.lease_renew"), "{err}");
}

#[test]
fn missing_required_file_is_named() {
    let err = HubConfig::load(Path::new("/nonexistent/hub.toml"), true)
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/hub.toml"), "{err}");
}

#[test]
#[expect(
    clippy::result_large_err,
    reason = "figment::Jail's closure must return figment's own error type"
)]
fn secrets_variables_sharing_the_prefix_are_not_settings() {
    figment::Jail::expect_with(|jail| {
        jail.set_env("TRADEHUB_REST_BROKER_HMAC_SECRET", "s3cret");
        jail.set_env("TRADEHUB_ODOO_API_KEY", "k");
        jail.set_env("TRADEHUB_RUNTIME__PARTITIONS", "4");
        let config = HubConfig::load(Path::new("absent.toml"), false).map_err(|e| e.to_string())?;
        assert_eq!(config.runtime.partitions, 4);
        Ok(())
    });
}

#[test]
fn a_token_cache_longer_than_five_seconds_is_refused() {
    let mut config = HubConfig::default();
    config.auth.cache_ttl = Duration::from_secs(6);
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("auth.cache_ttl"), "{err}");
    config.auth.cache_ttl = AuthConfig::CACHE_TTL_MAX;
    config.auth.address_burst = 0;
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("auth"), "{err}");
}
