use super::*;

// Every test that loads the configuration runs in a figment jail: jails run one at a time, so
// the variables one test sets never reach another test's load.

#[test]
#[expect(
    clippy::result_large_err,
    reason = "figment::Jail's closure must return figment's own error type"
)]
fn shipped_hub_toml_loads_and_equals_the_defaults() {
    figment::Jail::expect_with(|_| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/hub.toml");
        let loaded = HubConfig::load(&path, true).expect("config/hub.toml loads");
        assert_eq!(loaded.runtime, RuntimeConfig::default());
        assert_eq!(loaded.auth, AuthConfig::default());
        assert_eq!(loaded.redis.prefix, "th");
        Ok(())
    });
}

#[test]
#[expect(
    clippy::result_large_err,
    reason = "figment::Jail's closure must return figment's own error type"
)]
fn unknown_key_is_refused_with_its_name() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("hub.toml", "[runtime]\npartitons = 4\n")?;
        let err = HubConfig::load(Path::new("hub.toml"), true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("partitons"), "{err}");
        Ok(())
    });
}

#[test]
fn lease_renew_must_be_shorter_than_ttl() {
    let mut config = HubConfig::default();
    config.runtime.lease_renew = config.runtime.lease_ttl;
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("runtime.lease_renew"), "{err}");
}

#[test]
#[expect(
    clippy::result_large_err,
    reason = "figment::Jail's closure must return figment's own error type"
)]
fn missing_required_file_is_named() {
    figment::Jail::expect_with(|_| {
        let err = HubConfig::load(Path::new("/nonexistent/hub.toml"), true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/hub.toml"), "{err}");
        Ok(())
    });
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
        jail.set_env("TRADEHUB_AUDIT_KEY", "a");
        jail.set_env("TRADEHUB_RUNTIME__PARTITIONS", "4");
        // The partner templates under the home name the broker's secret.
        jail.set_env("TRADEHUB_RUNTIME__HOME", env!("CARGO_MANIFEST_DIR"));
        let config = HubConfig::load(Path::new("absent.toml"), false).map_err(|e| e.to_string())?;
        assert_eq!(config.runtime.partitions, 4);
        Ok(())
    });
}

#[test]
#[expect(
    clippy::result_large_err,
    reason = "figment::Jail's closure must return figment's own error type"
)]
fn an_unknown_tradehub_variable_is_refused_with_its_name() {
    figment::Jail::expect_with(|jail| {
        jail.set_env("TRADEHUB_RUNTIME__PARTITIONS", "4");
        jail.set_env("TRADEHUB_RUNTIME_PARTITIONS", "8");
        let err = HubConfig::load(Path::new("absent.toml"), false)
            .expect_err("a misspelt setting is refused")
            .to_string();
        assert!(err.contains("TRADEHUB_RUNTIME_PARTITIONS"), "{err}");
        Ok(())
    });
}

#[test]
#[expect(
    clippy::result_large_err,
    reason = "figment::Jail's closure must return figment's own error type"
)]
fn an_unknown_key_in_a_tradehub_variable_is_refused_with_its_name() {
    figment::Jail::expect_with(|jail| {
        jail.set_env("TRADEHUB_RUNTIME__PARTITONS", "4");
        let err = HubConfig::load(Path::new("absent.toml"), false)
            .expect_err("an unknown key is refused")
            .to_string();
        assert!(err.contains("partitons"), "{err}");
        Ok(())
    });
}

#[test]
fn the_secrets_that_partner_templates_name_are_known_variables() {
    let mut config = HubConfig::default();
    config.runtime.home = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let named = [
        "TRADEHUB_ODOO_API_KEY",
        "TRADEHUB_ODOO_WEBHOOK_SECRET",
        "TRADEHUB_REST_BROKER_HMAC_SECRET",
        "TRADEHUB_REST_BROKER_HMAC_SECRET_PREVIOUS",
        "TRADEHUB_CARRIER_DCSA_SECRET",
        "TRADEHUB_CARRIER_X12_SECRET",
        "TRADEHUB_UK_CDS_TOKEN",
        "TRADEHUB_LOG_FORMAT",
        "TRADEHUB_TOKEN_PEPPER",
        "PATH",
    ];
    config
        .refuse_unknown_variables(named.map(str::to_owned))
        .expect("every variable is read by something");
    let err = config
        .refuse_unknown_variables(["TRADEHUB_CARRIER_DCSA_SECRT".to_owned()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("TRADEHUB_CARRIER_DCSA_SECRT"), "{err}");
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

#[test]
fn a_callback_tolerance_outside_a_second_to_an_hour_is_refused() {
    let mut config = HubConfig::default();
    assert_eq!(config.callbacks.tolerance, Duration::from_secs(300));
    for bad in [
        Duration::ZERO,
        Duration::from_millis(500),
        Duration::from_secs(3601),
    ] {
        config.callbacks.tolerance = bad;
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("callbacks.tolerance"), "{bad:?}: {err}");
    }
    config.callbacks.tolerance = CallbacksConfig::TOLERANCE_MAX;
    config.validate().expect("an hour is accepted");
}

#[test]
#[expect(
    clippy::result_large_err,
    reason = "figment::Jail's closure must return figment's own error type"
)]
fn encryption_keys_load_from_the_environment_and_unusable_ones_stop_the_load() {
    figment::Jail::expect_with(|jail| {
        assert!(!HubConfig::default().redis.sealer.is_on());
        jail.create_file(
            "hub.toml",
            "[encryption]\ncurrent = \"k1\"\nkeys = [{ id = \"k1\", env = \"TRADEHUB_DATA_KEY_K1\" }]\n",
        )?;
        jail.set_env("TRADEHUB_DATA_KEY_K1", "ab".repeat(32));
        let loaded = HubConfig::load(Path::new("hub.toml"), true).expect("a good key loads");
        assert_eq!(loaded.redis.sealer.current_id(), Some("k1"));

        let material = "s3cret-but-not-a-key";
        jail.set_env("TRADEHUB_DATA_KEY_K1", material);
        let err = HubConfig::load(Path::new("hub.toml"), true)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"k1\"") && err.contains("TRADEHUB_DATA_KEY_K1"),
            "{err}"
        );
        assert!(!err.contains(material), "{err}");

        jail.create_file(
            "hub.toml",
            "[encryption]\ncurrent = \"k2\"\nkeys = [{ id = \"k1\", env = \"TRADEHUB_DATA_KEY_K1\" }]\n",
        )?;
        let err = HubConfig::load(Path::new("hub.toml"), true)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("encryption.current") && err.contains("\"k2\""),
            "{err}"
        );

        jail.create_file(
            "hub.toml",
            "[encryption]\ncurrent = \"k1\"\nkeys = [{ id = \"k1\", env = \"A\" }, { id = \"k1\", file = \"/b\" }]\n",
        )?;
        let err = HubConfig::load(Path::new("hub.toml"), true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("listed twice"), "{err}");
        Ok(())
    });
}
