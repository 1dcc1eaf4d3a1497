//! Partner templates: `config/partners/<name>.toml`.
//!
//! A template names the partner's kind, transport, codec (with its settings),
//! the versioned mappings under `config/mappings/`, lookup tables, and the
//! fixtures under `tests/fixtures/partners/<name>/` that certify it; `[auth]` for the partner's
//! callbacks to the hub, and `[outbound_auth]`, `[outbound_tls]` and `allow_insecure` for the
//! hub's requests to it (see [`super::outbound`]).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use jaq_json::Val;

use super::outbound::{OutboundAuth, OutboundTls};
use crate::formats::mapping::{Mapping, MappingCache, MappingError};
use crate::formats::{CodecSettings, FormatError, Limits, Tree};
use crate::model::DeclarationStatus;

/// What a partner is to the hub.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnerKind {
    /// The Odoo instance.
    Odoo,
    /// A screening list provider.
    Screening,
    /// A customs broker or customs gateway.
    CustomsBroker,
    /// A carrier sending milestones.
    Carrier,
    /// A finance party (invoices, duty statements).
    Finance,
}

/// How documents travel; the transport implementations live elsewhere.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TransportConfig {
    /// JSON over HTTPS.
    HttpJson {
        /// Base URL.
        endpoint: String,
    },
    /// XML over HTTPS.
    HttpXml {
        /// Base URL.
        endpoint: String,
    },
    /// EDIFACT files dropped in and picked up from folders.
    EdifactFile {
        /// Where we write.
        outbox: String,
        /// Where we read.
        inbox: String,
        /// Files larger than this many bytes are set aside unread (default 16 MiB).
        #[serde(default = "super::file_drop::default_max_file_bytes")]
        max_file_bytes: u64,
    },
    /// X12 files.
    X12File {
        /// Where we write.
        outbox: String,
        /// Where we read.
        inbox: String,
    },
    /// SFTP.
    Sftp {
        /// `host:port`.
        host: String,
        /// Remote folder.
        path: String,
    },
}

/// How the partner proves itself on its callbacks to the hub; how the hub authenticates to the
/// partner is [`PartnerTemplate::outbound_auth`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    /// No authentication (file drops on a private share).
    None,
    /// API key in a header; the key is read from an environment variable.
    ApiKey {
        /// Header name.
        header: String,
        /// Environment variable holding the key.
        token_env: String,
    },
    /// Callbacks signed over time and body: the header carries `t=<unix seconds>,v1=<hex>`, the
    /// HMAC-SHA256 of `"<t>." + body` (see [`crate::partners::signature`]).
    Hmac {
        /// Header carrying the signature.
        header: String,
        /// Environment variable holding the shared secret (at least 32 bytes).
        secret_env: String,
        /// During a rotation, the environment variable holding the secret being retired (at
        /// least 32 bytes); a callback signed with either is accepted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_secret_env: Option<String>,
    },
}

/// Mapping files and tables, relative to `config/mappings/`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mappings {
    /// Canonical JSON → partner tree.
    pub outbound: Option<String>,
    /// Partner tree → canonical JSON with a top-level `status`.
    pub inbound: Option<String>,
    /// Lookup tables exposed to mappings as `$tables.<name>`.
    #[serde(default)]
    pub tables: BTreeMap<String, String>,
}

/// Which way a fixture runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Canonical JSON → partner document.
    Outbound,
    /// Partner document → canonical JSON.
    Inbound,
    /// Partner interchange → our CONTRL / 997.
    Acknowledge,
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Outbound => "outbound",
            Self::Inbound => "inbound",
            Self::Acknowledge => "acknowledge",
        })
    }
}

/// One certification case, paths relative to `tests/fixtures/partners/<name>/`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// Short description.
    pub name: String,
    /// Direction.
    pub direction: Direction,
    /// Input file.
    pub input: String,
    /// Expected output file.
    pub expected: String,
    /// `$ctx` for the run (control references, clock), so outputs are reproducible.
    #[serde(default)]
    pub ctx: BTreeMap<String, String>,
}

/// A partner template as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerTemplate {
    /// What the partner is.
    pub kind: PartnerKind,
    /// One line for `tradehub partner list`.
    pub description: String,
    /// Transport.
    pub transport: TransportConfig,
    /// How the partner proves itself on its callbacks to the hub (inbound).
    #[serde(default = "no_auth")]
    pub auth: Auth,
    /// How the hub authenticates its own requests to the partner (`[outbound_auth]`).
    #[serde(default)]
    pub outbound_auth: OutboundAuth,
    /// The client certificate and extra CAs of the hub's requests to the partner.
    #[serde(default)]
    pub outbound_tls: Option<OutboundTls>,
    /// Accept plain `http://` to the partner on a host that is not loopback.
    #[serde(default)]
    pub allow_insecure: bool,
    /// Codec and its settings.
    pub codec: CodecSettings,
    /// Mapping versions.
    pub mappings: Mappings,
    /// Certification fixtures.
    #[serde(default)]
    pub fixtures: Vec<Fixture>,
}

fn no_auth() -> Auth {
    Auth::None
}

/// Loading or running a partner failed.
#[derive(Debug, thiserror::Error)]
pub enum PartnerError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A template is not valid TOML for the template schema.
    #[error("{path}: {message}")]
    Template {
        /// File.
        path: PathBuf,
        /// What is wrong (with line and column from the TOML parser).
        message: String,
    },
    /// A table file is not JSON.
    #[error("table {path}: {message}")]
    Table {
        /// File.
        path: PathBuf,
        /// What.
        message: String,
    },
    /// No template of that name.
    #[error("no partner template named '{0}' (see `tradehub partner list`)")]
    Unknown(String),
    /// The template has no mapping for a direction.
    #[error("partner {partner} has no {direction} mapping")]
    NoMapping {
        /// Partner.
        partner: String,
        /// Direction.
        direction: Direction,
    },
    /// A mapping failed.
    #[error(transparent)]
    Mapping(#[from] MappingError),
    /// A codec failed.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// An inbound mapping's `status` is not a canonical value.
    #[error(
        "inbound mapping of {partner} produced status {status}, which is not one of: {allowed}"
    )]
    Status {
        /// Partner.
        partner: String,
        /// Value produced.
        status: String,
        /// Allowed values.
        allowed: String,
    },
    /// The control reference is outside the partner agreement's range.
    #[error("control reference {reference} for {partner} is outside its range {low}..={high}")]
    ControlReference {
        /// Partner.
        partner: String,
        /// Reference asked for.
        reference: String,
        /// Range start.
        low: u64,
        /// Range end.
        high: u64,
    },
    /// The outbound document fails its envelope or directory checks.
    #[error("outbound document fails validation:\n{}", .0.join("\n"))]
    Invalid(Vec<String>),
    /// An acknowledgement could not be built.
    #[error("acknowledgement: {0}")]
    Ack(String),
}

/// Where configuration and fixtures live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The project (or deployment) root holding `config/` and `tests/fixtures/`.
    pub root: PathBuf,
}

impl Layout {
    /// Layout rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `config/partners/`.
    pub fn partners_dir(&self) -> PathBuf {
        self.root.join("config/partners")
    }

    /// `config/mappings/`.
    pub fn mappings_dir(&self) -> PathBuf {
        self.root.join("config/mappings")
    }

    /// `tests/fixtures/partners/<name>/`.
    pub fn fixtures_dir(&self, name: &str) -> PathBuf {
        self.root.join("tests/fixtures/partners").join(name)
    }

    /// Template names, sorted.
    pub fn partner_names(&self) -> Result<Vec<String>, PartnerError> {
        let dir = self.partners_dir();
        let entries = std::fs::read_dir(&dir).map_err(|source| PartnerError::Io {
            path: dir.clone(),
            source,
        })?;
        let mut names: Vec<String> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_owned))
            .collect();
        names.sort();
        Ok(names)
    }

    /// Reads and checks one template.
    pub fn template(&self, name: &str) -> Result<PartnerTemplate, PartnerError> {
        let path = self.partners_dir().join(format!("{name}.toml"));
        if !path.is_file() {
            return Err(PartnerError::Unknown(name.to_owned()));
        }
        let text = std::fs::read_to_string(&path).map_err(|source| PartnerError::Io {
            path: path.clone(),
            source,
        })?;
        let template: PartnerTemplate =
            toml::from_str(&text).map_err(|e| PartnerError::Template {
                path: path.clone(),
                message: e.to_string(),
            })?;
        template
            .codec
            .limits()
            .validate()
            .map_err(|problem| PartnerError::Template {
                path,
                message: format!("codec.{problem}"),
            })?;
        Ok(template)
    }
}

/// The canonical carrier events an inbound carrier mapping may produce; the saga follows the
/// subset that moves a shipment along ([`crate::workflow::shipment::inputs::Milestone`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CarrierEvent {
    /// Booking or shipment confirmed / received by the carrier.
    BookingConfirmed,
    /// Collected from the shipper.
    PickedUp,
    /// Through the terminal gate, inbound.
    GateIn,
    /// Loaded on the vessel or vehicle.
    Loaded,
    /// Departed.
    Departed,
    /// Moving.
    InTransit,
    /// Arrived.
    Arrived,
    /// Unloaded / discharged.
    Discharged,
    /// Out of the terminal gate.
    GateOut,
    /// Released by customs.
    CustomsReleased,
    /// Held by customs or the carrier.
    Held,
    /// Delivered.
    Delivered,
    /// Delayed.
    Delayed,
    /// Estimated time updated.
    EtaUpdated,
    /// Returned to shipper.
    Returned,
    /// Damaged.
    Damaged,
}

/// A template with its mappings compiled and tables loaded.
#[derive(Debug)]
pub struct Partner {
    /// Template name.
    pub name: String,
    /// The template.
    pub template: PartnerTemplate,
    outbound: Option<Rc<Mapping>>,
    inbound: Option<Rc<Mapping>>,
    partner_val: Val,
    tables_val: Val,
    directories: Option<Rc<crate::formats::edifact::directory::Directories>>,
}

impl Partner {
    /// Loads a template, compiles its mappings (through the cache) and reads its tables.
    pub fn load(
        layout: &Layout,
        name: &str,
        cache: &mut MappingCache,
    ) -> Result<Self, PartnerError> {
        let template = layout.template(name)?;
        let dir = layout.mappings_dir();
        let outbound = template
            .mappings
            .outbound
            .as_ref()
            .map(|m| cache.get(&dir.join(m)))
            .transpose()?;
        let inbound = template
            .mappings
            .inbound
            .as_ref()
            .map(|m| cache.get(&dir.join(m)))
            .transpose()?;
        let mut tables = Tree::map();
        for (key, file) in &template.mappings.tables {
            let path = dir.join(file);
            let bytes = std::fs::read(&path).map_err(|source| PartnerError::Io {
                path: path.clone(),
                source,
            })?;
            // Tables are the operator's files, read under the default limits.
            let table = crate::formats::json::parse(&bytes, &Limits::default()).map_err(|e| {
                PartnerError::Table {
                    path: path.clone(),
                    message: e.to_string(),
                }
            })?;
            tables.insert(key.clone(), table);
        }
        let directories = match &template.codec {
            CodecSettings::Edifact(e) if e.directory.is_some() => Some(Rc::new(
                crate::formats::edifact::directory::Directories::shipped()
                    .map_err(|e| PartnerError::Ack(e.to_string()))?,
            )),
            _ => None,
        };
        let partner_val = Tree::Map(vec![
            ("name".into(), Tree::text(name)),
            (
                "codec".into(),
                serde_json::to_value(&template.codec)
                    .map(|v| Tree::from_json(&v))
                    .unwrap_or_default(),
            ),
        ])
        .to_val();
        Ok(Self {
            name: name.to_owned(),
            template,
            outbound,
            inbound,
            partner_val,
            tables_val: tables.to_val(),
            directories,
        })
    }

    /// `$partner`, `$ctx`, `$tables` as jaq values; the partner and table values
    /// are converted once at load and shared (they are reference counted).
    fn globals(&self, ctx: &BTreeMap<String, String>) -> [Val; 3] {
        let ctx = Tree::Map(
            ctx.iter()
                .map(|(k, v)| (k.clone(), Tree::text(v)))
                .collect(),
        );
        [
            self.partner_val.clone(),
            ctx.to_val(),
            self.tables_val.clone(),
        ]
    }

    /// Canonical JSON → partner document bytes.
    pub fn outbound(
        &self,
        canonical: &serde_json::Value,
        ctx: &BTreeMap<String, String>,
    ) -> Result<Vec<u8>, PartnerError> {
        let mapping = self
            .outbound
            .as_ref()
            .ok_or_else(|| PartnerError::NoMapping {
                partner: self.name.clone(),
                direction: Direction::Outbound,
            })?;
        self.check_control_reference(ctx)?;
        let tree = mapping.run_json_vals(canonical, self.globals(ctx))?;
        let bytes = self.template.codec.write(&tree)?;
        self.check_against_directory(&bytes)?;
        Ok(bytes)
    }

    /// Partner document bytes → canonical JSON, with its `status` checked.
    pub fn inbound(
        &self,
        document: &[u8],
        ctx: &BTreeMap<String, String>,
    ) -> Result<Tree, PartnerError> {
        let mapping = self
            .inbound
            .as_ref()
            .ok_or_else(|| PartnerError::NoMapping {
                partner: self.name.clone(),
                direction: Direction::Inbound,
            })?;
        let tree = self.template.codec.parse(document)?;
        let out = mapping.run_vals(&tree, self.globals(ctx))?;
        self.check_status(&out)?;
        Ok(out)
    }

    /// The control reference must lie in the range agreed with the partner.
    fn check_control_reference(&self, ctx: &BTreeMap<String, String>) -> Result<(), PartnerError> {
        let range = match &self.template.codec {
            CodecSettings::Edifact(e) => e.control_range,
            CodecSettings::X12(x) => x.control_range,
            _ => None,
        };
        let (Some([low, high]), Some(reference)) = (range, ctx.get("control_ref")) else {
            return Ok(());
        };
        match reference.parse::<u64>() {
            Ok(n) if (low..=high).contains(&n) => Ok(()),
            _ => Err(PartnerError::ControlReference {
                partner: self.name.clone(),
                reference: reference.clone(),
                low,
                high,
            }),
        }
    }

    /// Outbound EDIFACT is checked against the partner's directory before it leaves.
    fn check_against_directory(&self, bytes: &[u8]) -> Result<(), PartnerError> {
        use crate::formats::edifact::{self, envelope};
        let Some(dirs) = &self.directories else {
            return Ok(());
        };
        let text = String::from_utf8_lossy(bytes);
        let doc = edifact::parse(&text, self.template.codec.limits()).map_err(FormatError::from)?;
        let ic = envelope::check(&doc);
        let mut problems: Vec<String> = ic.issues.iter().map(ToString::to_string).collect();
        for message in &ic.messages {
            let issues = dirs
                .validate(&doc, message)
                .map_err(|e| PartnerError::Invalid(vec![e.to_string()]))?;
            problems.extend(issues.iter().map(ToString::to_string));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(PartnerError::Invalid(problems))
        }
    }

    fn check_status(&self, out: &Tree) -> Result<(), PartnerError> {
        let status = out.get("status").cloned().unwrap_or_default();
        let json = status.to_json();
        let (ok, allowed) = match self.template.kind {
            PartnerKind::Carrier => (
                serde_json::from_value::<CarrierEvent>(json).is_ok(),
                "the canonical carrier events (BOOKING_CONFIRMED, GATE_IN, LOADED, DEPARTED, ARRIVED, …)",
            ),
            _ => (
                serde_json::from_value::<DeclarationStatus>(json).is_ok(),
                "the canonical declaration statuses (RECEIVED, ACCEPTED, REJECTED, CONTROL, RELEASED, …)",
            ),
        };
        if ok {
            Ok(())
        } else {
            Err(PartnerError::Status {
                partner: self.name.clone(),
                status: serde_json::to_string(&status).unwrap_or_default(),
                allowed: allowed.to_owned(),
            })
        }
    }

    /// Partner interchange → our acknowledgement (CONTRL for EDIFACT, 997 for X12).
    pub fn acknowledge(
        &self,
        document: &[u8],
        ctx: &BTreeMap<String, String>,
    ) -> Result<Vec<u8>, PartnerError> {
        let get = |k: &str| ctx.get(k).cloned().unwrap_or_default();
        let text = std::str::from_utf8(document)
            .map_err(|e| PartnerError::Ack(format!("not UTF-8 at byte {}", e.valid_up_to())))?;
        match &self.template.codec {
            CodecSettings::Edifact(settings) => {
                use crate::formats::edifact::{self, contrl, directory, envelope};
                let doc = edifact::parse(text, &settings.limits).map_err(FormatError::from)?;
                let ic = envelope::check(&doc);
                let mut errors = Vec::new();
                if let Some(dirs) = &self.directories {
                    for m in &ic.messages {
                        let issues = dirs
                            .validate(&doc, m)
                            .map_err(|e| PartnerError::Ack(e.to_string()))?;
                        errors.extend(directory::contrl_errors(m, &issues));
                    }
                }
                // Syntax 4 dates are CCYYMMDD, earlier ones YYMMDD.
                let date = get("date");
                let date = match date.get(2..) {
                    Some(short) if date.len() == 8 && ic.syntax_version.as_deref() != Some("4") => {
                        short.to_owned()
                    }
                    _ => date,
                };
                let options = contrl::ContrlOptions {
                    control_reference: get("control_ref"),
                    date,
                    time: get("time"),
                };
                let tree = contrl::generate(&doc, &errors, &options)
                    .map_err(|e| PartnerError::Ack(e.to_string()))?;
                Ok(edifact::write(&tree, settings)
                    .map_err(FormatError::from)?
                    .into_bytes())
            }
            CodecSettings::X12(settings) => {
                use crate::formats::x12::{self, ack};
                let doc = x12::parse(text, &settings.limits).map_err(FormatError::from)?;
                let options = ack::AckOptions {
                    control_number: get("control_ref").parse().unwrap_or(1),
                    date: get("date"),
                    time: get("time"),
                };
                let tree =
                    ack::generate(&doc, &options).map_err(|e| PartnerError::Ack(e.to_string()))?;
                Ok(x12::write(&tree, settings)
                    .map_err(FormatError::from)?
                    .into_bytes())
            }
            other => Err(PartnerError::Ack(format!(
                "{} documents have no EDI acknowledgement",
                other.format()
            ))),
        }
    }
}

#[cfg(test)]
mod tests;
