//! `gaia binlog-scan`: reads and decodes a MariaDB binlog range as change data capture
//! does, and prints what it read (JSON): how fast the server's changes can be followed.

use std::process::ExitCode;

const USAGE: &str = "usage: gaia binlog-scan --url mysql://user:pw@host:port/db --from GTID --to GTID [--server-id N]

Reads MariaDB's binlog from GTID position --from up to --to (e.g. two reads of
@@gtid_binlog_pos) on one replica connection, decodes every row of every table of the
URL's database, and prints {\"transactions\", \"row_changes\", \"seconds\",
\"row_changes_per_s\"} on stdout. Needs binlog_format=ROW, binlog_row_image=FULL,
binlog_row_metadata=FULL and REPLICATION SLAVE, as `gaia sync --mode cdc` does.

exit status: 0 done, 1 the scan failed, 2 a usage error";

/// Runs the command with its arguments.
pub fn main(args: &[String]) -> ExitCode {
    let (mut url, mut from, mut to, mut server_id) = (None, None, None, 0x3fff_fff0u32);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned();
        match a.as_str() {
            "--url" => url = value(),
            "--from" => from = value(),
            "--to" => to = value(),
            "--server-id" => match value().and_then(|v| v.parse().ok()) {
                Some(n) => server_id = n,
                None => return usage("--server-id needs a number"),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => return usage(&format!("unknown option {other:?}")),
        }
    }
    let (Some(url), Some(from), Some(to)) = (url, from, to) else {
        return usage("--url, --from and --to are required");
    };
    match gaia_core::sync::scan_binlog(&url, &from, &to, server_id) {
        Ok(s) => {
            let rate = if s.seconds > 0.0 {
                s.row_changes as f64 / s.seconds
            } else {
                0.0
            };
            println!(
                "{}",
                serde_json::json!({"transactions": s.transactions, "row_changes": s.row_changes,
                                   "seconds": s.seconds, "row_changes_per_s": rate})
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gaia binlog-scan: {e}");
            ExitCode::from(1)
        }
    }
}

fn usage(why: &str) -> ExitCode {
    eprintln!("gaia binlog-scan: {why}\n\n{USAGE}");
    ExitCode::from(2)
}
