#![no_main]

use tradehub_fuzz::Templates;

// The templates hold reference-counted compiled mappings, so they live per thread (libFuzzer runs
// inputs on one).
thread_local! {
    static TEMPLATES: Templates = Templates::shipped();
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| TEMPLATES.with(|templates| templates.run(data)));
