use super::*;

#[test]
fn outbox_names_come_from_the_lrn() {
    assert_eq!(
        outbox_name("TH0123456789ABCDEF001", false),
        "TH0123456789ABCDEF001.edi"
    );
    assert_eq!(outbox_name("A/B C", true), "A_B_C.cancel.edi");
}
