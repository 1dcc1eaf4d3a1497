use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

use super::*;

#[test]
fn retry_after_reads_seconds() {
    let mut headers = HeaderMap::new();
    assert_eq!(retry_after(&headers), None);
    headers.insert(RETRY_AFTER, HeaderValue::from_static(" 7 "));
    assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
    headers.insert(
        RETRY_AFTER,
        HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
    );
    assert_eq!(retry_after(&headers), None);
}

#[test]
fn broker_message_prefers_the_message_field() {
    assert_eq!(
        broker_message(br#"{"message":"bad EORI","code":4}"#),
        "bad EORI"
    );
    assert_eq!(broker_message(br#"{"detail":"x"}"#), "x");
    assert_eq!(broker_message(b"  plain text "), "plain text");
    assert_eq!(broker_message(b""), "(empty body)");
}

#[test]
fn endpoint_loses_its_trailing_slash() {
    let config = RestBrokerConfig::new("rest-broker", Layout::new("."), "http://b.example/api/");
    assert_eq!(config.endpoint, "http://b.example/api");
}
