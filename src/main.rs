use clap::Parser;

/// mimalloc returns freed memory to the system; glibc's per-thread arenas kept growing the
/// hub's resident memory by ~75 KiB per finished shipment although its live heap stayed small.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tradehub::cli::main(tradehub::cli::Cli::parse())
}
