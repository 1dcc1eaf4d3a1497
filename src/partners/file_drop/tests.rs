use super::*;

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn inbox(dir: &Path, cap: u64) -> Inbox {
    Inbox::new(dir.to_owned(), "done", "failed", cap)
}

#[test]
fn temporary_names_are_hidden_random_and_never_repeat() {
    let a = temp_name("L1.edi");
    let b = temp_name("L1.edi");
    assert_ne!(a, b);
    for t in [&a, &b] {
        assert!(t.starts_with(".L1.edi.") && t.ends_with(".tmp"), "{t}");
        assert!(
            !t.contains(&format!(".{}.", std::process::id())),
            "not the process id: {t}"
        );
    }
}

#[test]
fn a_resend_overwrites_and_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_atomically(dir.path(), "L1.edi", b"first").expect("write");
    write_atomically(dir.path(), "L1.edi", b"second").expect("rewrite");
    assert_eq!(names(dir.path()), vec!["L1.edi".to_owned()]);
    assert_eq!(
        std::fs::read(dir.path().join("L1.edi")).expect("read"),
        b"second"
    );
}

#[test]
fn a_link_planted_at_the_target_name_is_replaced_not_written_through() {
    let dir = tempfile::tempdir().expect("tempdir");
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "kept").expect("victim");
    let out = dir.path().join("out");
    std::fs::create_dir(&out).expect("out");
    std::os::unix::fs::symlink(&victim, out.join("L1.edi")).expect("plant");
    write_atomically(&out, "L1.edi", b"ours").expect("write");
    assert_eq!(std::fs::read_to_string(&victim).expect("victim"), "kept");
    assert_eq!(std::fs::read(out.join("L1.edi")).expect("read"), b"ours");
}

#[test]
fn names_with_a_path_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["../x", "a/b", "..", ""] {
        let e = write_atomically(dir.path(), name, b"x").expect_err(name);
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{name}");
        assert!(matches!(
            read_regular(dir.path(), name, 10),
            Err(Refusal::BadName { .. })
        ));
    }
}

#[test]
fn files_set_aside_keep_earlier_namesakes_and_their_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inbox = inbox(dir.path(), 100);
    for content in ["one", "two"] {
        std::fs::write(dir.path().join("bad.edi"), content).expect("write");
        assert!(matches!(inbox.take("bad.edi"), Taken::Read(b) if b == content.as_bytes()));
        inbox.finish("bad.edi", Some("does not map"));
    }
    let failed = dir.path().join("failed");
    assert_eq!(
        names(&failed),
        ["bad.edi", "bad.edi.1", "bad.edi.1.reason", "bad.edi.reason"]
    );
    assert_eq!(
        std::fs::read_to_string(failed.join("bad.edi.1")).expect("second"),
        "two"
    );
    assert_eq!(
        std::fs::read_to_string(failed.join("bad.edi.1.reason")).expect("reason"),
        "does not map"
    );
}

#[test]
fn a_file_over_the_cap_is_refused_unread_with_both_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("big.csv"), [b'x'; 11]).expect("write");
    std::fs::write(dir.path().join("fits.csv"), [b'x'; 10]).expect("write");
    let inbox = inbox(dir.path(), 10);
    let Taken::Refused(reason) = inbox.take("big.csv") else {
        panic!("an 11-byte file passed a 10-byte cap");
    };
    assert_eq!(
        reason,
        "big.csv: 11 bytes, over the cap of 10 bytes (max_file_bytes); not read"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("failed/big.csv.reason")).expect("reason"),
        reason
    );
    assert!(matches!(inbox.take("fits.csv"), Taken::Read(b) if b.len() == 10));
}

#[test]
fn a_socket_is_refused_without_being_opened() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _listener =
        std::os::unix::net::UnixListener::bind(dir.path().join("sock.edi")).expect("socket");
    let inbox = inbox(dir.path(), 100);
    assert_eq!(inbox.waiting(|_| true), ["sock.edi"]);
    let Taken::Refused(reason) = inbox.take("sock.edi") else {
        panic!("a socket was taken");
    };
    assert_eq!(reason, "sock.edi: a socket, not a regular file; not read");
}

#[test]
fn a_failure_folder_planted_as_a_link_is_not_written_through() {
    let dir = tempfile::tempdir().expect("tempdir");
    let elsewhere = tempfile::tempdir().expect("elsewhere");
    std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("failed")).expect("plant");
    std::fs::write(dir.path().join("bad.edi"), "x").expect("write");
    let inbox = inbox(dir.path(), 100);
    assert!(matches!(inbox.take("bad.edi"), Taken::Read(_)));
    inbox.finish("bad.edi", Some("does not map"));
    assert!(
        names(elsewhere.path()).is_empty(),
        "nothing lands elsewhere"
    );
    assert!(
        dir.path().join(PROCESSING).join("bad.edi").is_file(),
        "the file stays claimed, to be set aside once the folder is fixed"
    );
}

#[test]
fn a_claim_left_behind_is_set_aside_as_crashed_and_a_released_one_is_read_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a.edi"), "a").expect("write");
    std::fs::write(dir.path().join("b.edi"), "b").expect("write");
    let first = inbox(dir.path(), 100);
    assert!(matches!(first.take("a.edi"), Taken::Read(_)));
    assert!(matches!(first.take("b.edi"), Taken::Read(_)));
    first.release("b.edi");

    // The reader that took a.edi died; the next one starts.
    let next = inbox(dir.path(), 100);
    assert_eq!(next.recover(), 1);
    assert_eq!(next.waiting(|_| true), ["b.edi"]);
    let reason = std::fs::read_to_string(dir.path().join("failed/a.edi.reason")).expect("reason");
    assert!(reason.starts_with("a.edi: crashed the reader"), "{reason}");
    assert!(names(&dir.path().join(PROCESSING)).is_empty());
}
