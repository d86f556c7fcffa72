//! `gaia`: the command-line front end. `gaia sync --config FILE` keeps a Solr core equal to
//! MariaDB tables from cron or a systemd timer; `gaia version` prints the library version.

mod binlog_cmd;
mod sync_cmd;

use std::process::ExitCode;

const USAGE: &str = "usage: gaia <command> [options]

commands:
  sync       keep a Solr core equal to MariaDB tables (gaia sync --help)
  binlog-scan  read and decode a binlog range, print its size and speed (--help)
  version    print the library version
  help       print this help";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("sync") => sync_cmd::main(&args[1..]),
        Some("binlog-scan") => binlog_cmd::main(&args[1..]),
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
