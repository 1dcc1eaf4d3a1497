use std::sync::{Arc, Mutex};

use tokio::sync::broadcast::Receiver;

use super::*;
use crate::testing::{wait_until, wait_until_async};

const BOUND: Duration = Duration::from_secs(10);

/// Shared view of one child across its restarts.
#[derive(Clone, Default)]
struct Probe {
    starts: Arc<Mutex<u32>>,
    current: Arc<Mutex<Option<Addr<Worker>>>>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Probe {
    fn starts(&self) -> u32 {
        *self.starts.lock().unwrap()
    }
    fn current(&self) -> Addr<Worker> {
        self.current.lock().unwrap().clone().expect("started")
    }
}

struct Worker {
    name: String,
    guard: ChildGuard,
    handled: u32,
    log: Arc<Mutex<Vec<String>>>,
}

impl Actor for Worker {
    type Context = Context<Self>;
    fn stopped(&mut self, _ctx: &mut Self::Context) {
        self.guard.stopped();
    }
}

#[derive(Message)]
#[rtype(result = "u32")]
struct Work;

#[derive(Message)]
#[rtype(result = "()")]
struct Boom;

#[derive(Message)]
#[rtype(result = "()")]
struct Fail;

impl Handler<Work> for Worker {
    type Result = u32;
    fn handle(&mut self, _msg: Work, _ctx: &mut Self::Context) -> u32 {
        self.handled += 1;
        self.handled
    }
}

impl Handler<Boom> for Worker {
    type Result = ();
    fn handle(&mut self, _msg: Boom, _ctx: &mut Self::Context) {
        panic!("worker {} told to panic", self.name);
    }
}

impl Handler<Fail> for Worker {
    type Result = ();
    fn handle(&mut self, _msg: Fail, ctx: &mut Self::Context) {
        self.guard.fail("told to fail");
        ctx.stop();
    }
}

impl Handler<Shutdown> for Worker {
    type Result = ();
    fn handle(&mut self, _msg: Shutdown, ctx: &mut Self::Context) {
        self.log.lock().unwrap().push(format!("stop {}", self.name));
        ctx.stop();
    }
}

fn worker(name: &str, probe: &Probe) -> ChildSpec {
    let probe = probe.clone();
    let name = name.to_owned();
    ChildSpec::new(name.clone(), move |guard| {
        *probe.starts.lock().unwrap() += 1;
        let addr = Worker {
            name: name.clone(),
            guard,
            handled: 0,
            log: probe.log.clone(),
        }
        .start();
        *probe.current.lock().unwrap() = Some(addr.clone());
        Ok(addr.recipient())
    })
}

fn config(name: &str, strategy: Strategy, max_restarts: u32) -> SupervisorConfig {
    SupervisorConfig {
        name: name.into(),
        strategy,
        intensity: Intensity {
            max_restarts,
            within: Duration::from_secs(60),
        },
        backoff: RestartBackoff {
            initial: Duration::from_millis(1),
            max: Duration::from_millis(5),
        },
    }
}

async fn next_event(events: &mut Receiver<SupervisorEvent>) -> SupervisorEvent {
    tokio::time::timeout(BOUND, events.recv())
        .await
        .expect("an event within the bound")
        .expect("event channel open")
}

#[actix::test]
async fn a_panicking_child_is_rebuilt_from_its_factory() {
    let probe = Probe::default();
    let supervisor =
        Supervisor::new(config("root", Strategy::OneForOne, 3)).child(worker("w", &probe));
    let mut events = supervisor.subscribe();
    let _root = supervisor.start();
    assert!(wait_until(BOUND, || probe.starts() == 1).await);
    let first = probe.current();
    assert_eq!(first.send(Work).await.unwrap(), 1);
    assert_eq!(first.send(Work).await.unwrap(), 2);
    first.do_send(Boom);
    match next_event(&mut events).await {
        SupervisorEvent::Restarting { child, exit, .. } => {
            assert_eq!(child, "w");
            assert!(matches!(exit, ChildExit::Panicked(_)), "{exit:?}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(wait_until(BOUND, || probe.starts() == 2).await);
    // A fresh struct: the count of the old instance is gone.
    assert_eq!(probe.current().send(Work).await.unwrap(), 1);
}

#[actix::test]
async fn one_for_one_restarts_only_the_failed_child() {
    let (a, b, c) = (Probe::default(), Probe::default(), Probe::default());
    let _root = Supervisor::new(config("root", Strategy::OneForOne, 3))
        .child(worker("a", &a))
        .child(worker("b", &b))
        .child(worker("c", &c))
        .start();
    assert!(wait_until(BOUND, || c.starts() == 1).await);
    b.current().do_send(Fail);
    assert!(wait_until(BOUND, || b.starts() == 2).await);
    assert_eq!(b.current().send(Work).await.unwrap(), 1);
    assert_eq!((a.starts(), c.starts()), (1, 1));
}

#[actix::test]
async fn rest_for_one_restarts_the_children_after_the_failed_one() {
    let (a, b, c) = (Probe::default(), Probe::default(), Probe::default());
    let root = Supervisor::new(config("root", Strategy::RestForOne, 3))
        .child(worker("a", &a))
        .child(worker("b", &b))
        .child(worker("c", &c))
        .start();
    assert!(wait_until(BOUND, || c.starts() == 1).await);
    b.current().do_send(Boom);
    assert!(wait_until(BOUND, || b.starts() == 2 && c.starts() == 2).await);
    assert_eq!(a.starts(), 1);
    assert!(
        wait_until_async(BOUND, || async {
            root.send(GetChildren)
                .await
                .unwrap()
                .iter()
                .all(|c| c.running)
        })
        .await
    );
    let children = root.send(GetChildren).await.unwrap();
    assert_eq!(
        children.iter().map(|c| c.starts).collect::<Vec<_>>(),
        vec![1, 2, 2]
    );
}

#[actix::test]
async fn more_failures_than_the_intensity_escalate_to_the_parent() {
    let probe = Probe::default();
    let (events_tx, mut events) = broadcast::channel(64);
    let inner_probe = probe.clone();
    let inner_events = events_tx.clone();
    let _root = Supervisor::new(config("root", Strategy::OneForOne, 5))
        .events_to(events_tx)
        .child(ChildSpec::supervisor("inner", move || {
            Supervisor::new(config("inner", Strategy::OneForOne, 2))
                .events_to(inner_events.clone())
                .child(worker("flaky", &inner_probe))
        }))
        .start();
    for n in 1..=3 {
        assert!(wait_until(BOUND, || probe.starts() == n).await);
        probe.current().do_send(Fail);
    }
    let mut seen = Vec::new();
    loop {
        let event = next_event(&mut events).await;
        seen.push(event.clone());
        if let SupervisorEvent::Restarting {
            supervisor,
            child,
            exit,
            ..
        } = &event
            && supervisor == "root"
        {
            assert_eq!(child, "inner");
            assert!(
                matches!(exit, ChildExit::Failed(r) if r.contains("flaky")),
                "{exit:?}"
            );
            break;
        }
    }
    let restarts_in_inner = seen
        .iter()
        .filter(|e| matches!(e, SupervisorEvent::Restarting { supervisor, .. } if supervisor == "inner"))
        .count();
    assert_eq!(restarts_in_inner, 2, "{seen:?}");
    assert!(seen.iter().any(|e| matches!(
        e,
        SupervisorEvent::Escalated { supervisor, child, .. } if supervisor == "inner" && child == "flaky"
    )));
    // The parent rebuilt the inner supervisor, which started a fresh child.
    assert!(wait_until(BOUND, || probe.starts() == 4).await);
}

/// A supervisor allowing two restarts within 60 s of one child that is marked down beyond
/// them; the child fails `failures` times, `spacing` apart on paused time.
async fn fail_spaced(
    probe: &Probe,
    failures: u32,
    spacing: Duration,
) -> (Addr<Supervisor>, Receiver<SupervisorEvent>) {
    tokio::time::pause();
    let supervisor = Supervisor::new(config("partners", Strategy::OneForOne, 2)).child(
        worker("partner-x", probe).on_limit(OnLimit::MarkDown {
            retry_every: Duration::from_secs(3600),
        }),
    );
    let events = supervisor.subscribe();
    let root = supervisor.start();
    for n in 1..=failures {
        assert!(wait_until(BOUND, || probe.starts() == n).await);
        tokio::time::advance(spacing).await;
        probe.current().do_send(Fail);
    }
    (root, events)
}

#[actix::test]
async fn failures_spaced_beyond_the_window_never_exceed_the_intensity() {
    let probe = Probe::default();
    // Five failures, twice the window apart: each finds the earlier restarts expired. Were
    // the window never to expire, the third would mark the child down.
    let (_root, mut events) = fail_spaced(&probe, 5, Duration::from_secs(2 * 60)).await;
    assert!(wait_until(BOUND, || probe.starts() == 6).await);
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        seen.push(event);
    }
    assert_eq!(
        seen.iter()
            .filter(|e| matches!(e, SupervisorEvent::Restarting { .. }))
            .count(),
        5,
        "{seen:?}"
    );
    assert!(
        !seen.iter().any(|e| matches!(
            e,
            SupervisorEvent::Down { .. } | SupervisorEvent::Escalated { .. }
        )),
        "{seen:?}"
    );
}

#[actix::test]
async fn failures_within_the_window_exceed_the_intensity() {
    let probe = Probe::default();
    // The same child, its failures just inside the window.
    let (_root, mut events) = fail_spaced(&probe, 3, Duration::from_secs(25)).await;
    loop {
        if let SupervisorEvent::Down { child, .. } = next_event(&mut events).await {
            assert_eq!(child, "partner-x");
            break;
        }
    }
    assert_eq!(probe.starts(), 3);
}

#[actix::test]
async fn a_child_beyond_its_intensity_can_be_marked_down_instead() {
    let probe = Probe::default();
    let mut cfg = config("partners", Strategy::OneForOne, 1);
    cfg.intensity.within = Duration::from_secs(1);
    let supervisor =
        Supervisor::new(cfg).child(worker("partner-x", &probe).on_limit(OnLimit::MarkDown {
            retry_every: Duration::from_millis(50),
        }));
    let mut events = supervisor.subscribe();
    let root = supervisor.start();
    assert!(wait_until(BOUND, || probe.starts() == 1).await);
    probe.current().do_send(Fail);
    assert!(wait_until(BOUND, || probe.starts() == 2).await);
    probe.current().do_send(Fail);
    let mut down = false;
    let mut up = false;
    while !up {
        match next_event(&mut events).await {
            SupervisorEvent::Down { child, .. } => {
                assert_eq!(child, "partner-x");
                let status = root.send(GetChildren).await.unwrap();
                assert!(status[0].down);
                down = true;
            }
            SupervisorEvent::Up { child, .. } => {
                assert!(down, "up only after down");
                assert_eq!(child, "partner-x");
                up = true;
            }
            SupervisorEvent::Escalated { .. } => panic!("must not escalate"),
            SupervisorEvent::Restarting { .. } => {}
        }
    }
    assert_eq!(probe.starts(), 3);
    let status = root.send(GetChildren).await.unwrap();
    assert!(!status[0].down && status[0].running);
}

#[actix::test]
async fn shutdown_stops_children_in_reverse_order_without_restarting() {
    let (a, b) = (Probe::default(), Probe::default());
    let log = Arc::new(Mutex::new(Vec::new()));
    let (a, b) = (
        Probe {
            log: log.clone(),
            ..a
        },
        Probe {
            log: log.clone(),
            ..b
        },
    );
    let root = Supervisor::new(config("root", Strategy::OneForOne, 3))
        .child(worker("a", &a))
        .child(worker("b", &b))
        .start();
    assert!(wait_until(BOUND, || b.starts() == 1).await);
    root.send(Shutdown {
        grace: Duration::from_secs(5),
    })
    .await
    .unwrap();
    assert_eq!(
        *log.lock().unwrap(),
        vec!["stop b".to_owned(), "stop a".to_owned()]
    );
    assert!(wait_until(BOUND, || !root.connected()).await);
    assert_eq!((a.starts(), b.starts()), (1, 1));
}

#[actix::test]
async fn children_can_be_added_and_removed_at_run_time() {
    let (a, b) = (Probe::default(), Probe::default());
    let root = Supervisor::new(config("partitions", Strategy::OneForOne, 3))
        .child(worker("a", &a))
        .start();
    root.send(AddChild(worker("b", &b))).await.unwrap();
    assert!(wait_until(BOUND, || b.starts() == 1).await);
    let removed = root
        .send(RemoveChild {
            name: "b".into(),
            grace: Duration::from_secs(1),
        })
        .await
        .unwrap();
    assert!(removed);
    let children = root.send(GetChildren).await.unwrap();
    assert_eq!(children.len(), 1);
    assert_eq!(children[0].name, "a");
    assert!(
        !root
            .send(RemoveChild {
                name: "b".into(),
                grace: Duration::ZERO,
            })
            .await
            .unwrap()
    );
    assert_eq!(b.starts(), 1, "a removed child is not restarted");
}

#[test]
fn restart_backoff_doubles_up_to_its_cap() {
    let backoff = RestartBackoff {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(1),
    };
    let delays: Vec<u128> = (0..6).map(|n| backoff.delay(n).as_millis()).collect();
    assert_eq!(delays, vec![100, 200, 400, 800, 1000, 1000]);
    assert_eq!(backoff.delay(u32::MAX), Duration::from_secs(1));
}
