//! The common entity form every list loader produces.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::lists::ListFormat;

/// What kind of party a listed entry (or a query) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityType {
    Individual,
    Organisation,
    Vessel,
    Aircraft,
    /// The list does not say (the Denied Persons List mixes people and firms).
    Unknown,
}

impl std::str::FromStr for EntityType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "individual" | "person" => Ok(Self::Individual),
            "organisation" | "organization" | "entity" | "company" => Ok(Self::Organisation),
            "vessel" => Ok(Self::Vessel),
            "aircraft" | "airplane" => Ok(Self::Aircraft),
            "" | "unknown" => Ok(Self::Unknown),
            other => Err(format!(
                "unknown entity type {other:?} (expected individual, organisation, vessel or aircraft)"
            )),
        }
    }
}

/// How much a name can be trusted to identify the entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameQuality {
    /// The entry's main name.
    Primary,
    /// A good-quality alias (OFAC aka/fka/nka, UN "Good", FtM `alias`).
    Strong,
    /// A low-quality alias (UN "Low", FtM `weakAlias`): matches on it score lower.
    Weak,
}

/// One name of an entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityName {
    pub name: String,
    pub quality: NameQuality,
}

/// One address as the list gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub text: String,
    /// ISO 3166-1 alpha-2 when the list's country could be resolved.
    pub country: Option<String>,
}

/// An identifier (passport, registration number, IMO number...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifier {
    pub kind: String,
    pub value: String,
}

/// One listed party in the common form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// The list's own id: OFAC `ent_num`, UN `REFERENCE_NUMBER`, CSL `entity_number` or `_id`,
    /// DPL a hash of name and address, FtM `id`.
    pub id: String,
    /// Name of the list (from configuration) this entity was loaded from.
    pub list: String,
    pub programs: Vec<String>,
    pub entity_type: EntityType,
    /// The primary name first, then aliases.
    pub names: Vec<EntityName>,
    pub addresses: Vec<Address>,
    /// ISO 3166-1 alpha-2 codes from nationality, citizenship, addresses and flags.
    pub countries: Vec<String>,
    pub identifiers: Vec<Identifier>,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub dates_of_birth: Vec<String>,
    pub remarks: Option<String>,
    /// SHA-256 of everything above; rescreening and suppression compare it.
    pub content_hash: String,
}

impl Entity {
    /// A new entity with only its identity; loaders fill the rest and then call [`Entity::seal`].
    pub fn new(id: String, list: &str, entity_type: EntityType) -> Self {
        Self {
            id,
            list: list.to_owned(),
            programs: Vec::new(),
            entity_type,
            names: Vec::new(),
            addresses: Vec::new(),
            countries: Vec::new(),
            identifiers: Vec::new(),
            dates_of_birth: Vec::new(),
            remarks: None,
            content_hash: String::new(),
        }
    }

    /// Adds a name unless it is empty or already present.
    pub fn add_name(&mut self, name: &str, quality: NameQuality) {
        let name = name.trim();
        if name.is_empty() || self.names.iter().any(|n| n.name == name) {
            return;
        }
        self.names.push(EntityName {
            name: name.to_owned(),
            quality,
        });
    }

    /// Adds an ISO-2 country code once.
    pub fn add_country(&mut self, code: Option<String>) {
        if let Some(code) = code
            && !self.countries.contains(&code)
        {
            self.countries.push(code);
        }
    }

    /// Adds a date of birth once.
    pub fn add_dob(&mut self, dob: Option<String>) {
        if let Some(dob) = dob
            && !self.dates_of_birth.contains(&dob)
        {
            self.dates_of_birth.push(dob);
        }
    }

    /// Computes the content hash; call once the entity is complete.
    pub fn seal(mut self) -> Self {
        self.content_hash.clear();
        let bytes = serde_json::to_vec(&self).unwrap_or_default();
        self.content_hash = hex::encode(Sha256::digest(&bytes));
        self
    }

    /// The primary name (the first one), or an empty string for a nameless entry.
    pub fn primary_name(&self) -> &str {
        self.names.first().map(|n| n.name.as_str()).unwrap_or("")
    }
}

/// Where a list version's publication date came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublishedFrom {
    /// The file says so (UN `dateGenerated`, latest `Last_Update`, FtM `last_change`...).
    Content,
    /// The format carries no date: the file's modification time.
    FileModified,
}

/// Identifies exactly which content of a list a screening used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListVersion {
    pub list: String,
    pub format: ListFormat,
    /// SHA-256 over the list's files (names and bytes).
    pub content_hash: String,
    /// Publication date, `YYYY-MM-DD`.
    pub published: Option<String>,
    pub published_from: PublishedFrom,
    pub entities: usize,
    pub names: usize,
}
