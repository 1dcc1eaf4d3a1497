use proptest::prelude::*;

use super::*;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
const OLD: &[u8] = b"fedcba9876543210fedcba9876543210";
const NOW: u64 = 1_764_930_000;

fn check(header: &str, body: &[u8], secrets: &[&[u8]]) -> Result<Verified, SignatureError> {
    verify(header, body, secrets, NOW, DEFAULT_TOLERANCE)
}

#[test]
fn a_signature_covers_time_and_body() {
    let body = br#"{"lrn":"TH1","status":"accepted"}"#;
    let header = sign(SECRET, NOW, body);
    assert_eq!(
        header,
        format!("t={NOW},v1={}", signature_hex(SECRET, NOW, body))
    );
    assert_eq!(
        check(&header, body, &[SECRET]),
        Ok(Verified {
            timestamp: NOW,
            secret: 0
        })
    );
    assert_eq!(
        check(&header, b"{}", &[SECRET]),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(check(&header, body, &[OLD]), Err(SignatureError::Mismatch));
    // The same v1 under another t is another message.
    let moved = header.replace(&format!("t={NOW}"), &format!("t={}", NOW + 1));
    assert_eq!(
        check(&moved, body, &[SECRET]),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn the_message_is_the_decimal_time_a_dot_and_the_body() {
    // printf '1764930000.{}' | openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef
    assert_eq!(
        signature_hex(SECRET, NOW, b"{}"),
        "b66dfba8a42ffdff072024fa04ed653a9a0d99a0a5e7094c7d4c0aa7a9113ad5"
    );
}

#[test]
fn either_secret_of_a_rotation_verifies() {
    let body = b"status";
    let both = sign_each(&[SECRET, OLD], NOW, body);
    assert_eq!(both.matches("v1=").count(), 2);
    let secrets: [&[u8]; 2] = [SECRET, OLD];
    assert_eq!(check(&both, body, &secrets).map(|v| v.secret), Ok(0));
    let old_only = sign(OLD, NOW, body);
    assert_eq!(check(&old_only, body, &secrets).map(|v| v.secret), Ok(1));
    assert_eq!(
        check(&old_only, body, &[SECRET]),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn a_time_outside_the_tolerance_is_refused_either_way() {
    let body = b"x";
    let tolerance = DEFAULT_TOLERANCE.as_secs();
    for (t, direction) in [
        (NOW - tolerance - 1, "before"),
        (NOW + tolerance + 1, "after"),
    ] {
        let err = check(&sign(SECRET, t, body), body, &[SECRET]).expect_err("outside");
        assert_eq!(
            err,
            SignatureError::OutsideWindow {
                timestamp: t,
                seconds: tolerance + 1,
                direction,
                tolerance,
            }
        );
        assert!(err.to_string().contains(direction), "{err}");
    }
    for t in [NOW - tolerance, NOW + tolerance] {
        assert!(
            check(&sign(SECRET, t, body), body, &[SECRET]).is_ok(),
            "{t}"
        );
    }
    let tight = verify(
        &sign(SECRET, NOW - 31, body),
        body,
        &[SECRET],
        NOW,
        Duration::from_secs(30),
    );
    assert!(matches!(tight, Err(SignatureError::OutsideWindow { .. })));
}

#[test]
fn malformed_headers_say_what_is_wrong() {
    let v1 = "ab".repeat(32);
    for (header, says) in [
        (String::new(), "element 1 is not name=value"),
        (format!("v1={v1}"), "no t="),
        (format!("t={NOW}"), "no v1="),
        (format!("t={NOW},t={NOW},v1={v1}"), "more than once"),
        (format!("t=-5,v1={v1}"), "t= is not"),
        (format!("t=017,v1={v1}"), "t= is not"),
        (format!("t=1e9,v1={v1}"), "t= is not"),
        (format!("t=99999999999999999999,v1={v1}"), "t= is not"),
        (
            format!("t={NOW},v1=zz"),
            "element 2 (v1=) is not 64 hex digits",
        ),
        (
            format!("t={NOW},v1={v1}ab"),
            "element 2 (v1=) is not 64 hex digits",
        ),
        (format!("t={NOW},v0={v1}"), "element 2 is neither"),
        (format!("t={NOW},v1={v1},"), "element 3 is not name=value"),
        (v1.clone(), "element 1 is not name=value"),
        (
            format!("t={NOW}{}", format!(",v1={v1}").repeat(MAX_SIGNATURES + 1)),
            "more than 4 v1=",
        ),
    ] {
        let err = parse(&header).expect_err(&header);
        let text = err.to_string();
        assert!(
            matches!(err, SignatureError::Malformed(_)) && text.contains(says),
            "{header:?}: {text}"
        );
        assert!(!text.contains(&v1), "the value is not echoed: {text}");
    }
    let spaced = parse(&format!(" t={NOW} , v1={} ", v1.to_uppercase())).expect("spaces");
    assert_eq!(spaced.timestamp, NOW);
    assert_eq!(spaced.signatures, vec![[0xab; 32]]);
}

#[test]
fn errors_never_show_a_secret_or_the_expected_signature() {
    let body = b"b";
    let expected = signature_hex(SECRET, NOW, body);
    for header in [
        sign(OLD, NOW, body),
        sign(SECRET, NOW - 10_000, body),
        "t=x".to_owned(),
    ] {
        let text = check(&header, body, &[SECRET])
            .expect_err("refused")
            .to_string();
        assert!(!text.contains(&expected), "{text}");
        assert!(
            !text.contains(std::str::from_utf8(SECRET).expect("ascii")),
            "{text}"
        );
    }
}

proptest! {
    #[test]
    fn parse_never_panics(header in ".{0,200}") {
        let _ = parse(&header);
    }

    #[test]
    fn what_is_signed_verifies_and_any_change_does_not(
        body in proptest::collection::vec(any::<u8>(), 0..256),
        skew in -300i64..=300,
        flip in any::<proptest::sample::Index>(),
        bit in 0u8..8,
    ) {
        let t = NOW.checked_add_signed(skew).expect("in range");
        let header = sign(SECRET, t, &body);
        let parsed = parse(&header).expect("parses");
        prop_assert_eq!(parsed.timestamp, t);
        prop_assert_eq!(parsed.signatures.len(), 1);
        prop_assert!(check(&header, &body, &[SECRET]).is_ok());
        let mut changed = body.clone();
        if changed.is_empty() {
            changed.push(bit);
        } else {
            let at = flip.index(changed.len());
            changed[at] ^= 1 << bit;
        }
        prop_assert_eq!(check(&header, &changed, &[SECRET]), Err(SignatureError::Mismatch));
    }

    #[test]
    fn a_header_built_from_parts_parses_back(
        t in 0u64..=u64::MAX,
        signatures in proptest::collection::vec(any::<[u8; 32]>(), 1..=MAX_SIGNATURES),
    ) {
        let header = std::iter::once(format!("t={t}"))
            .chain(signatures.iter().map(|s| format!("v1={}", hex::encode(s))))
            .collect::<Vec<_>>()
            .join(",");
        prop_assert_eq!(parse(&header), Ok(SignatureHeader { timestamp: t, signatures }));
    }
}

/// Headers built from the header's own alphabet reach past the first check; arbitrary bytes as a
/// client might send them (lossily decoded, as a header value is).
fn hostile_header() -> impl Strategy<Value = String> {
    prop_oneof![
        "[tv1=, 0-9a-fA-F]{0,160}",
        "(t=[0-9]{1,21}|v1=[0-9a-fA-F]{62,66}|v1=|t=| ,|,,|=)(,(t=[0-9]{1,21}|v1=[0-9a-f]{64}|v2=[0-9a-f]{64}| ))*",
        proptest::collection::vec(any::<u8>(), 0..200)
            .prop_map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
    ]
}

proptest! {
    #[test]
    fn hostile_headers_parse_to_their_parts_or_are_refused(header in hostile_header()) {
        match parse(&header) {
            Ok(parsed) => {
                prop_assert!((1..=MAX_SIGNATURES).contains(&parsed.signatures.len()));
                let rebuilt = std::iter::once(format!("t={}", parsed.timestamp))
                    .chain(parsed.signatures.iter().map(|s| format!("v1={}", hex::encode(s))))
                    .collect::<Vec<_>>()
                    .join(",");
                prop_assert_eq!(parse(&rebuilt), Ok(parsed));
            }
            Err(SignatureError::Malformed(why)) => prop_assert!(!why.is_empty()),
            Err(other) => prop_assert!(false, "parse only says malformed, not {other}"),
        }
        prop_assert!(check(&header, b"{}", &[SECRET]).is_err(), "no header here is signed");
    }
}
