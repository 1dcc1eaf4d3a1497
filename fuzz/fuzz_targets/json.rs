#![no_main]

use tradehub::formats::Format;

libfuzzer_sys::fuzz_target!(|data: &[u8]| tradehub_fuzz::default_codec(Format::Json, data));
