//! The `framecheck` command.
#![forbid(unsafe_code)]

fn main() {
    eprintln!("framecheck: no subcommands yet");
    std::process::exit(2);
}
