//! `gaia`: the command-line front end. Today it reports versions; the sync engine will add
//! `gaia sync --config FILE` for cron and systemd.

use std::process::ExitCode;

const USAGE: &str = "usage: gaia <command>

commands:
  version    print the library version
  help       print this help";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("version" | "--version" | "-V") => {
            println!("gaia {}", gaia_core::VERSION);
            ExitCode::SUCCESS
        }
        Some("help" | "--help" | "-h") | None => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("gaia: unknown command \"{other}\"\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
