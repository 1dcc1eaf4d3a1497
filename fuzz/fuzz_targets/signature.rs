#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tradehub_fuzz::signature_header(data));
