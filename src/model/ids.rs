//! Identifiers. They are opaque to the hub but must be safe to put into Redis keys, file names and
//! partner messages, so their character set and length are checked on construction.

use std::fmt;
use std::str::FromStr;

use super::ModelError;
use super::text::string_codec;

fn check_token(what: &'static str, s: &str, max: usize) -> Result<(), ModelError> {
    let reason = if s.is_empty() {
        Some("must not be empty")
    } else if s.len() > max {
        Some("is too long")
    } else if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
    {
        Some("may only hold ASCII letters, digits and - _ . /")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(ModelError::Identifier {
            what,
            value: s.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

macro_rules! token_id {
    ($(#[$doc:meta])* $ty:ident, $what:literal, $max:literal, $pattern:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $ty(String);

        impl $ty {
            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $ty {
            type Err = ModelError;

            fn from_str(s: &str) -> Result<Self, ModelError> {
                check_token($what, s, $max)?;
                Ok(Self(s.to_owned()))
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        string_codec!($ty, stringify!($ty), $what, {
            "type": "string",
            "pattern": $pattern,
            "maxLength": $max
        });
    };
}

token_id!(
    /// The hub's key for a shipment (usually derived from the Odoo picking), unique per hub.
    ShipmentId,
    "shipment id",
    64,
    "^[A-Za-z0-9._/-]+$"
);
token_id!(
    /// A party's key within the hub.
    PartyId,
    "party id",
    64,
    "^[A-Za-z0-9._/-]+$"
);
token_id!(
    /// A product's key within the hub (an Odoo default code or the hub's own).
    ProductId,
    "product id",
    64,
    "^[A-Za-z0-9._/-]+$"
);
token_id!(
    /// Movement Reference Number given by customs when it accepts a declaration.
    Mrn,
    "MRN",
    35,
    "^[A-Za-z0-9._/-]+$"
);

/// Local Reference Number: the declarant's own reference of a declaration, the key that makes
/// filing idempotent. The WCO data model and UK CDS allow up to 22 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Lrn(String);

impl Lrn {
    /// The reference as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Lrn {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, ModelError> {
        check_token("LRN", s, 22)?;
        if s.contains('/') {
            return Err(ModelError::Identifier {
                what: "LRN",
                value: s.to_owned(),
                reason: "may not contain '/'",
            });
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Display for Lrn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

string_codec!(Lrn, "Lrn", "a local reference number of up to 22 characters", {
    "type": "string",
    "pattern": "^[A-Za-z0-9._-]+$",
    "maxLength": 22
});
