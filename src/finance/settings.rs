//! Configuration of the finance inbox (`[finance]` in the hub config) and of the
//! reconciliation itself (`config/reconcile.toml`: tolerances, split method, each broker's
//! Odoo partner and agreed fee table).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::tariff::duty::SplitMethod;
use crate::tariff::reconcile::{AgreedFee, Tolerance};

/// The `[finance]` section: where settlement documents arrive and how often they are read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FinanceConfig {
    /// Run the finance inbox at all.
    pub enabled: bool,
    /// Folder holding one subfolder per broker, named as the broker's partner template
    /// (`rest-broker/`, `edifact-broker/`), into which CUSRES, DMSTAX, invoice CSV and
    /// declaration copies are dropped. `processed/` and `failed/` are made beside each file.
    pub folder: PathBuf,
    /// Time between polls of the folder.
    #[serde(with = "humantime_serde")]
    pub poll: Duration,
    /// The reconciliation settings file (tolerances, fee tables, Odoo partners).
    pub settings: PathBuf,
    /// Tariff tables the estimate is recomputed with (the saga's tables).
    pub tariffs: PathBuf,
    /// Files larger than this many bytes are set aside in `failed/` unread.
    pub max_file_bytes: u64,
}

impl Default for FinanceConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            folder: PathBuf::from("/var/lib/tradehub/finance"),
            poll: Duration::from_secs(5),
            settings: PathBuf::from("config/reconcile.toml"),
            tariffs: PathBuf::from("config/tariffs"),
            max_file_bytes: crate::partners::file_drop::DEFAULT_MAX_FILE_BYTES,
        }
    }
}

/// `config/reconcile.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconcileSettings {
    /// How far amounts may differ before a difference is a variance.
    #[serde(default = "default_tolerance")]
    pub tolerance: Tolerance,
    /// How the landed cost is split over the receipt's lines in Odoo.
    #[serde(default = "default_split")]
    pub split_method: SplitMethod,
    /// Per broker (by partner template name): its Odoo partner and agreed fees.
    #[serde(default)]
    pub brokers: BTreeMap<String, BrokerTerms>,
}

/// What the hub agreed with one broker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerTerms {
    /// The broker's `res.partner` name in Odoo (the vendor of the bill).
    pub odoo_partner: String,
    /// The fees it may charge; a fee's `code` is the invoice's description of it.
    #[serde(default)]
    pub fees: Vec<AgreedFee>,
}

fn default_tolerance() -> Tolerance {
    Tolerance {
        absolute: Decimal::ONE,
        percent: Decimal::new(5, 1),
    }
}

fn default_split() -> SplitMethod {
    SplitMethod::ByCurrentCostPrice
}

impl Default for ReconcileSettings {
    fn default() -> Self {
        Self {
            tolerance: default_tolerance(),
            split_method: default_split(),
            brokers: BTreeMap::new(),
        }
    }
}

/// The settings file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// Not readable.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML of the expected shape.
    #[error("{path}: {source}")]
    Toml {
        /// The file.
        path: PathBuf,
        /// Why, with line and column.
        source: toml::de::Error,
    },
    /// A value out of range.
    #[error("{path}: {field}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The key.
        field: String,
        /// Why.
        reason: String,
    },
}

impl ReconcileSettings {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Self, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Io {
            path: path.to_owned(),
            source,
        })?;
        let settings: Self = toml::from_str(&text).map_err(|source| SettingsError::Toml {
            path: path.to_owned(),
            source,
        })?;
        settings.check(path)?;
        Ok(settings)
    }

    fn check(&self, path: &Path) -> Result<(), SettingsError> {
        let invalid = |field: String, reason: &str| SettingsError::Invalid {
            path: path.to_owned(),
            field,
            reason: reason.to_owned(),
        };
        if self.tolerance.absolute.is_sign_negative() {
            return Err(invalid("tolerance.absolute".into(), "must not be negative"));
        }
        if self.tolerance.percent.is_sign_negative() {
            return Err(invalid("tolerance.percent".into(), "must not be negative"));
        }
        for (broker, terms) in &self.brokers {
            if terms.odoo_partner.trim().is_empty() {
                return Err(invalid(
                    format!("brokers.{broker}.odoo_partner"),
                    "must name the broker's Odoo partner",
                ));
            }
            for (i, fee) in terms.fees.iter().enumerate() {
                if fee.fixed.is_none() && fee.pct_of_disbursements.is_none() {
                    return Err(invalid(
                        format!("brokers.{broker}.fees[{i}] ({})", fee.code),
                        "needs `fixed`, `pct_of_disbursements` or both",
                    ));
                }
            }
        }
        Ok(())
    }

    /// The agreed fees of `broker` (none when the broker is not configured: every fee is then
    /// a variance).
    pub fn fees(&self, broker: &str) -> &[AgreedFee] {
        self.brokers.get(broker).map_or(&[], |t| t.fees.as_slice())
    }
}
