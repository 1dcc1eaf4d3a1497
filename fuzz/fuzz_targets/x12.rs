#![no_main]

use tradehub::formats::{CodecSettings, Format};

// Not `default_codec`: the reader accepts an ISA with control characters as separators (found by
// this target, inputs in regressions/x12/) that the writer cannot write back readably yet, so
// here only "no panic" is checked.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tradehub_fuzz::read_and_write(&CodecSettings::default_for(Format::X12), data);
});
