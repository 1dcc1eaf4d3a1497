#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tradehub_fuzz::shipment(data));
