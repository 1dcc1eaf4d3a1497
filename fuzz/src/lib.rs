//! What the fuzz targets share: each target is one line calling in here, so that a change to a
//! parser's signature is fixed in one place.

use std::collections::BTreeMap;
use std::path::Path;

use tradehub::formats::mapping::MappingCache;
use tradehub::formats::{CodecSettings, Format, csv};
use tradehub::model::Shipment;
use tradehub::partners::config::{Direction, Layout, Partner};
use tradehub::partners::signature;

/// Parses with `codec` and writes what parsed: either may fail, neither may panic. The written
/// document, if any.
pub fn read_and_write(codec: &CodecSettings, data: &[u8]) -> Option<Vec<u8>> {
    codec.write(&codec.parse(data).ok()?).ok()
}

/// As [`read_and_write`], and what is written must parse again.
pub fn codec(codec: &CodecSettings, data: &[u8]) {
    let Some(written) = read_and_write(codec, data) else {
        return;
    };
    if let Err(e) = codec.parse(&written) {
        panic!(
            "{} writer output does not parse again: {e}\n{}",
            codec.format(),
            String::from_utf8_lossy(&written)
        );
    }
}

/// A codec's default settings.
pub fn default_codec(format: Format, data: &[u8]) {
    codec(&CodecSettings::default_for(format), data);
}

/// Flat files: the first byte picks the settings (delimiters, header or not, fixed width).
pub fn flat_file(data: &[u8]) {
    let Some((&pick, data)) = data.split_first() else {
        return;
    };
    let settings = match pick % 4 {
        0 => csv::Settings::default(),
        1 => csv::Settings {
            delimiter: ';',
            header_map: [("Invoice No".to_owned(), "invoice_number".to_owned())].into(),
            ..csv::Settings::default()
        },
        2 => csv::Settings {
            delimiter: '\t',
            has_header: false,
            columns: vec!["a".to_owned(), "b".to_owned(), "c".to_owned()],
            ..csv::Settings::default()
        },
        _ => csv::Settings {
            fixed_width: Some(abi_layout()),
            ..csv::Settings::default()
        },
    };
    codec(&CodecSettings::Csv(settings), data);
}

/// An ACE/ABI style layout: a header and a line record, told apart by their first two columns.
fn abi_layout() -> csv::FixedWidth {
    let field = |name: &str, start, length, right| csv::FieldLayout {
        name: name.to_owned(),
        start,
        length,
        right,
        pad: if right { '0' } else { ' ' },
    };
    let record = |name: &str, code: &str, fields| csv::RecordLayout {
        name: name.to_owned(),
        code: Some(code.to_owned()),
        fields,
    };
    csv::FixedWidth {
        record_type: Some([1, 2]),
        line_length: Some(80),
        records: vec![
            record(
                "header",
                "A0",
                vec![field("filer", 3, 3, false), field("entry", 6, 8, false)],
            ),
            record(
                "line",
                "40",
                vec![field("hts", 3, 10, false), field("value", 13, 10, true)],
            ),
        ],
    }
}

/// The shipped partner templates, and each direction each of them runs in.
pub struct Templates {
    partners: Vec<Partner>,
    runs: Vec<(usize, Direction)>,
}

impl Templates {
    /// Every template under `config/partners/`: inbound and outbound where it has the mapping,
    /// acknowledge where its codec is EDIFACT or X12; in name order.
    pub fn shipped() -> Self {
        let layout = Layout::new(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
        let mut cache = MappingCache::new();
        let mut partners = Vec::new();
        let mut runs = Vec::new();
        for name in layout.partner_names().expect("config/partners is readable") {
            let partner = Partner::load(&layout, &name, &mut cache)
                .unwrap_or_else(|e| panic!("template {name}: {e}"));
            let mappings = &partner.template.mappings;
            let acknowledges = matches!(
                partner.template.codec,
                CodecSettings::Edifact(_) | CodecSettings::X12(_)
            );
            let directions = [
                (mappings.inbound.is_some(), Direction::Inbound),
                (mappings.outbound.is_some(), Direction::Outbound),
                (acknowledges, Direction::Acknowledge),
            ];
            let index = partners.len();
            runs.extend(
                directions
                    .into_iter()
                    .filter(|(supported, _)| *supported)
                    .map(|(_, direction)| (index, direction)),
            );
            partners.push(partner);
        }
        Self { partners, runs }
    }

    /// The first byte picks a template and a direction; the rest is the document (canonical JSON
    /// for outbound).
    pub fn run(&self, data: &[u8]) {
        let Some((&pick, document)) = data.split_first() else {
            return;
        };
        let ctx: BTreeMap<String, String> =
            [("control_ref", "1"), ("date", "20260101"), ("time", "1200")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        let (index, direction) = self.runs[usize::from(pick) % self.runs.len()];
        let partner = &self.partners[index];
        match direction {
            Direction::Inbound => drop(partner.inbound(document, &ctx)),
            Direction::Outbound => {
                if let Ok(canonical) = serde_json::from_slice(document) {
                    drop(partner.outbound(&canonical, &ctx));
                }
            }
            Direction::Acknowledge => drop(partner.acknowledge(document, &ctx)),
        }
    }

    /// The `(template, direction)` each selector value picks, for building seeds.
    pub fn runs(&self) -> impl Iterator<Item = (&str, Direction)> {
        self.runs
            .iter()
            .map(|&(index, direction)| (self.partners[index].name.as_str(), direction))
    }
}

/// A callback signature header: what parses is rebuilt from its parts and parses the same, and
/// verifying never panics.
pub fn signature_header(data: &[u8]) {
    let header = String::from_utf8_lossy(data);
    let _ = signature::verify(
        &header,
        data,
        &[b"secret"],
        1_764_930_000,
        signature::DEFAULT_TOLERANCE,
    );
    let Ok(parsed) = signature::parse(&header) else {
        return;
    };
    let rebuilt = std::iter::once(format!("t={}", parsed.timestamp))
        .chain(
            parsed
                .signatures
                .iter()
                .map(|s| format!("v1={}", hex::encode(s))),
        )
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(signature::parse(&rebuilt), Ok(parsed), "{header:?}");
}

/// A canonical shipment document: what reads writes, and reads back equal.
pub fn shipment(data: &[u8]) {
    let Ok(shipment) = serde_json::from_slice::<Shipment>(data) else {
        return;
    };
    let written = serde_json::to_vec(&shipment).expect("a shipment serialises");
    let back: Shipment = serde_json::from_slice(&written).unwrap_or_else(|e| {
        panic!(
            "written shipment does not read back: {e}\n{}",
            String::from_utf8_lossy(&written)
        )
    });
    assert_eq!(back, shipment);
}
