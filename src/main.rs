use clap::Parser;

fn main() -> std::process::ExitCode {
    tradehub::cli::main(tradehub::cli::Cli::parse())
}
