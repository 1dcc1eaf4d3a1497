use super::*;

#[test]
fn outbox_names_come_from_the_lrn() {
    assert_eq!(
        outbox_name("TH0123456789ABCDEF001", false),
        "TH0123456789ABCDEF001.edi"
    );
    assert_eq!(outbox_name("A/B C", true), "A_B_C.cancel.edi");
}

#[test]
fn a_resend_overwrites_and_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_atomically(dir.path(), "L1.edi", b"first").expect("write");
    write_atomically(dir.path(), "L1.edi", b"second").expect("rewrite");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["L1.edi".to_owned()]);
    assert_eq!(
        std::fs::read(dir.path().join("L1.edi")).expect("read"),
        b"second"
    );
}

#[test]
fn moved_files_keep_earlier_namesakes_and_their_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    for content in ["one", "two"] {
        let path = dir.path().join("bad.edi");
        std::fs::write(&path, content).expect("write");
        move_into(&path, "error", Some("does not map"));
    }
    let error = dir.path().join("error");
    assert_eq!(
        std::fs::read_to_string(error.join("bad.edi")).expect("first"),
        "one"
    );
    assert_eq!(
        std::fs::read_to_string(error.join("bad.edi.1")).expect("second"),
        "two"
    );
    assert_eq!(
        std::fs::read_to_string(error.join("bad.edi.1.reason")).expect("reason"),
        "does not map"
    );
}
