//! The simulated EDIFACT broker: watches the folder the hub writes CUSDECs into,
//! answers each interchange with a CONTRL, then plays the LRN's [`Scenario`] as
//! CUSRES files in the folder the hub reads, one per step after the step delay.
//!
//! It dedupes by LRN (a resent CUSDEC gets a CONTRL, not a second lifecycle) and
//! moves every file it read into `taken/` under the outbox. Faults: `slow` delays
//! answers, `drop_callback_rate` drops a CUSRES, `error_rate` writes a garbled file
//! beside a correct answer (the hub must set it aside, not lose the real one).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;

use super::broker::{BrokerCounters, BrokerSimConfig, Faults, Scenario, Shared, SimDeclaration};
use crate::settlement::BrokerStyle;
use tradehub::model::DeclarationStatus;
use tradehub::partners::file_drop::{waiting, write_atomically};

#[cfg(test)]
mod tests;

/// Folders and timing of the file-drop broker.
#[derive(Debug, Clone)]
pub struct EdifactSimConfig {
    /// Where the hub writes (the broker reads).
    pub outbox: PathBuf,
    /// Where the broker writes (the hub reads).
    pub inbox: PathBuf,
    /// How often the outbox is polled.
    pub poll: Duration,
    /// Scenarios, step delay and faults.
    pub broker: BrokerSimConfig,
}

/// A running EDIFACT broker simulator; stops when dropped or [`EdifactBrokerSim::stop`]ped.
#[derive(Debug)]
pub struct EdifactBrokerSim {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

/// The GIS processing indicator of a status (the broker MIG's codes, as in
/// `tables/status.v1.json` `cusres_gis`).
pub fn gis_code(status: DeclarationStatus) -> &'static str {
    use DeclarationStatus::*;
    match status {
        Accepted | Submitted | Received | Amended => "ACC",
        Rejected => "REJ",
        Released | Exited | HandledExternally => "REL",
        Control => "EXA",
        DocsRequired => "DOC",
        Query => "INF",
        Hold => "HLD",
        HoldRemoved => "HRM",
        Cleared => "CLR",
        Cancelled | Expired => "CAN",
    }
}

struct Clock {
    control: AtomicU64,
}

impl Clock {
    fn next(&self) -> u64 {
        88_000 + self.control.fetch_add(1, Ordering::Relaxed)
    }
}

fn stamp() -> (String, String) {
    let now = time::OffsetDateTime::now_utc();
    (
        format!(
            "{:04}{:02}{:02}",
            now.year(),
            u8::from(now.month()),
            now.day()
        ),
        format!("{:02}{:02}", now.hour(), now.minute()),
    )
}

/// A CONTRL accepting interchange `their_ref` (UCI action 8, UCM 7).
pub fn contrl(our_ref: u64, their_ref: &str) -> String {
    let (date, time) = stamp();
    format!(
        "UNA:+.?*'\nUNB+UNOC:4+BROKER01:ZZZ+TRADEHUB:ZZZ+{date}:{time}+{our_ref}'\n\
         UNH+1+CONTRL:4:1:UN'\nUCI+{their_ref}+TRADEHUB:ZZZ+BROKER01:ZZZ+8'\n\
         UCM+1+CUSDEC:D:96B:UN+7'\nUNT+4+1'\nUNZ+1+{our_ref}'\n"
    )
}

/// A CUSRES reporting `status` for `lrn`.
pub fn cusres(our_ref: u64, lrn: &str, status: DeclarationStatus, mrn: Option<&str>) -> String {
    let (date, time) = stamp();
    let mut body = vec![
        format!("BGM+962+{lrn}+9'"),
        format!("DTM+137:{date}{time}:203'"),
        format!("GIS+{}'", gis_code(status)),
        format!("RFF+ABE:{lrn}'"),
    ];
    if let Some(mrn) = mrn {
        body.push(format!("RFF+ABT:{mrn}'"));
    }
    if status == DeclarationStatus::Rejected {
        body.push("ERP+1:2'".into());
        body.push("ERC+12'".into());
        body.push("FTX+AAO+++Commodity code not valid for this procedure'".into());
    }
    let count = body.len() + 2;
    format!(
        "UNA:+.?*'\nUNB+UNOC:4+BROKER01:ZZZ+TRADEHUB:ZZZ+{date}:{time}+{our_ref}'\n\
         UNH+1+CUSRES:D:96B:UN'\n{}\nUNT+{count}+1'\nUNZ+1+{our_ref}'\n",
        body.join("\n")
    )
}

/// What a CUSDEC interchange says: (interchange ref, LRN, cancellation?).
fn read_cusdec(bytes: &[u8]) -> Option<(String, String, bool)> {
    let tree =
        tradehub::formats::edifact::parse_bytes(bytes, &tradehub::formats::Limits::default())
            .ok()?
            .to_json();
    let segments = tree.get("segments")?.as_array()?;
    let find = |tag: &str| {
        segments
            .iter()
            .find(|s| s.get(0).and_then(Value::as_str) == Some(tag))
    };
    let text = |v: Option<&Value>| match v? {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => parts.first().and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    let reference = text(find("UNB")?.get(5))?;
    let bgm = find("BGM")?;
    let lrn = text(bgm.get(2))?;
    let cancel = text(bgm.get(3)).as_deref() == Some("1");
    Some((reference, lrn, cancel))
}

impl EdifactBrokerSim {
    /// Starts polling `config.outbox` on the current Tokio runtime.
    pub fn start(config: EdifactSimConfig) -> Self {
        let shared = Shared::new(&config.broker);
        let task = tokio::spawn(run(Arc::clone(&shared), config));
        Self { shared, task }
    }

    /// Replaces the injected faults.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// What it has seen and done (`callbacks_sent` counts CUSRES files written).
    pub fn counters(&self) -> BrokerCounters {
        self.shared.counters()
    }

    /// The scenario declaration `lrn` plays.
    pub fn expected_outcome(&self, lrn: &str) -> Scenario {
        Scenario::for_lrn(self.shared.seed, lrn)
    }

    /// Declaration `lrn` as the broker holds it.
    pub fn declaration(&self, lrn: &str) -> Option<SimDeclaration> {
        self.shared.get(lrn)
    }

    /// Every declaration held, by LRN, with how often each was filed.
    pub fn declarations(&self) -> HashMap<String, SimDeclaration> {
        self.shared.snapshot()
    }

    /// Stops polling (answers already scheduled still get written).
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for EdifactBrokerSim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(shared: Arc<Shared>, config: EdifactSimConfig) {
    let clock = Arc::new(Clock {
        control: AtomicU64::new(0),
    });
    loop {
        for path in pending(&config.outbox) {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            take(&config.outbox, &path);
            let Some((reference, lrn, cancel)) = read_cusdec(&bytes) else {
                continue;
            };
            let (_, slow) = shared.draw_fault();
            let inbox = config.inbox.clone();
            let ack_ref = clock.next();
            let ack = contrl(ack_ref, &reference);
            if let Some(slow) = slow {
                tokio::time::sleep(slow).await;
            }
            let name = format!("{ack_ref:08}_CONTRL_{reference}.edi");
            if let Err(e) = write_atomically(&inbox, &name, ack.as_bytes()) {
                tracing::warn!(error = %e, "simulated broker cannot write its CONTRL");
            }
            if cancel {
                if shared.cancel(&lrn).is_ok() {
                    let our_ref = clock.next();
                    let answer = cusres(our_ref, &lrn, DeclarationStatus::Cancelled, None);
                    write_answer(
                        &shared,
                        &inbox,
                        &format!("{our_ref:08}_CUSRES_{lrn}_CAN"),
                        &answer,
                    );
                }
                continue;
            }
            let (declaration, new) = shared.file(&lrn);
            if new {
                tokio::spawn(lifecycle(
                    Arc::clone(&shared),
                    Arc::clone(&clock),
                    inbox,
                    lrn,
                    declaration.scenario,
                ));
            }
        }
        tokio::time::sleep(config.poll).await;
    }
}

fn pending(outbox: &Path) -> Vec<PathBuf> {
    waiting(outbox, |n| n.ends_with(".edi"))
        .into_iter()
        .map(|n| outbox.join(n))
        .collect()
}

fn take(outbox: &Path, path: &Path) {
    let taken = outbox.join("taken");
    let _ = std::fs::create_dir_all(&taken);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut target = taken.join(&name);
    let mut n = 1;
    while target.exists() {
        target = taken.join(format!("{name}.{n}"));
        n += 1;
    }
    let _ = std::fs::rename(path, target);
}

fn write_answer(shared: &Shared, inbox: &Path, name: &str, text: &str) {
    if shared.drop_callback() {
        return;
    }
    let (fault, _) = shared.draw_fault();
    if fault.is_some() {
        let _ = write_atomically(inbox, &format!("{name}.garbled.edi"), b"UNB+GARBLED'");
    }
    match write_atomically(inbox, &format!("{name}.edi"), text.as_bytes()) {
        Ok(_) => shared.sent(),
        Err(e) => {
            tracing::warn!(error = %e, "simulated broker cannot write its CUSRES");
            shared.failed();
        }
    }
}

async fn lifecycle(
    shared: Arc<Shared>,
    clock: Arc<Clock>,
    inbox: PathBuf,
    lrn: String,
    scenario: Scenario,
) {
    for status in scenario.steps() {
        tokio::time::sleep(shared.step_delay).await;
        let Some(declaration) = shared.advance(&lrn, *status) else {
            return;
        };
        let our_ref = clock.next();
        let text = cusres(our_ref, &lrn, *status, declaration.mrn.as_deref());
        let name = format!("{our_ref:08}_CUSRES_{lrn}_{}", gis_code(*status));
        write_answer(&shared, &inbox, &name, &text);
    }
    shared.settle(&lrn, BrokerStyle::Edifact).await;
}
