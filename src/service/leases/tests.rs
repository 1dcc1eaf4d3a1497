use std::collections::BTreeMap;
use std::sync::Mutex;

use tradehub_actors::clock::ManualClock;
use tradehub_actors::mailbox::memory::MemoryMailbox;

use super::*;

/// A registry where every node's heartbeat is remembered until `expire` drops it.
#[derive(Clone, Default)]
struct Registry(Arc<Mutex<BTreeMap<String, bool>>>);

impl Registry {
    fn expire(&self, node: &str) {
        self.0.lock().unwrap().remove(node);
    }
}

impl NodeRegistry for Registry {
    async fn heartbeat(&self, node: &str, _ttl: Duration) -> MailboxResult<u32> {
        let mut nodes = self.0.lock().unwrap();
        nodes.insert(node.to_owned(), true);
        Ok(nodes.len() as u32)
    }

    async fn leave(&self, node: &str) -> MailboxResult<()> {
        self.expire(node);
        Ok(())
    }
}

/// Records which partitions are being worked on.
#[derive(Default)]
struct Work(Mutex<BTreeSet<Partition>>);

impl PartitionWork for Work {
    async fn start(&self, partition: Partition) {
        assert!(
            self.0.lock().unwrap().insert(partition),
            "started twice: {partition}"
        );
    }

    async fn stop(&self, partition: Partition) {
        assert!(
            self.0.lock().unwrap().remove(&partition),
            "stopped while idle: {partition}"
        );
    }
}

const TIMING: LeaseTiming = LeaseTiming {
    ttl: Duration::from_secs(10),
    renew: Duration::from_secs(3),
};

fn manager(
    mailbox: &MemoryMailbox,
    registry: &Registry,
    node: &str,
) -> (LeaseManager<MemoryMailbox, Registry, Work>, Arc<Work>) {
    let work = Arc::new(Work::default());
    let manager = LeaseManager::new(
        mailbox.clone(),
        registry.clone(),
        work.clone(),
        node.to_owned(),
        16,
        TIMING,
        Arc::new(Readiness::default()),
    );
    (manager, work)
}

#[tokio::test]
async fn a_lone_node_takes_every_partition_and_works_on_them() {
    let mailbox = MemoryMailbox::new(ManualClock::new(1_000));
    let registry = Registry::default();
    let (mut a, work) = manager(&mailbox, &registry, "a");
    a.round().await.unwrap();
    assert_eq!(a.owned().len(), 16);
    assert_eq!(work.0.lock().unwrap().len(), 16);
    assert!(a.readiness.is_ready());
}

#[tokio::test]
async fn two_nodes_split_the_partitions_and_one_takes_over_when_the_other_dies() {
    let clock = ManualClock::new(1_000);
    let mailbox = MemoryMailbox::new(clock.clone());
    let registry = Registry::default();
    let (mut a, work_a) = manager(&mailbox, &registry, "a");
    let (mut b, work_b) = manager(&mailbox, &registry, "b");

    a.round().await.unwrap();
    b.round().await.unwrap();
    a.round().await.unwrap();
    b.round().await.unwrap();
    assert_eq!(a.owned().len(), 8);
    assert_eq!(b.owned().len(), 8);
    assert!(a.owned().is_disjoint(b.owned()));
    assert_eq!(
        work_a.0.lock().unwrap().len() + work_b.0.lock().unwrap().len(),
        16
    );

    // b dies: its heartbeat goes stale and its leases run out.
    registry.expire("b");
    clock.advance(TIMING.ttl.as_millis() as u64 + 1);
    a.round().await.unwrap();
    assert_eq!(a.owned().len(), 16);
    assert_eq!(work_a.0.lock().unwrap().len(), 16);
    for partition in 0..16 {
        assert_eq!(mailbox.lease_holder(partition).as_deref(), Some("a"));
    }
}

#[tokio::test]
async fn a_lost_lease_stops_the_partition_work() {
    let clock = ManualClock::new(1_000);
    let mailbox = MemoryMailbox::new(clock.clone());
    let registry = Registry::default();
    let (mut a, work_a) = manager(&mailbox, &registry, "a");
    a.round().await.unwrap();
    // a stalls past its lease; b, alone in the registry, takes everything.
    registry.expire("a");
    clock.advance(TIMING.ttl.as_millis() as u64 + 1);
    let (mut b, _) = manager(&mailbox, &registry, "b");
    b.round().await.unwrap();
    assert_eq!(b.owned().len(), 16);
    a.round().await.unwrap();
    assert!(a.owned().is_empty(), "a kept {:?}", a.owned());
    assert!(work_a.0.lock().unwrap().is_empty());
}
