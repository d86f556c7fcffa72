//! `gaia sync`: one run of the MariaDB -> Solr sync engine, for cron and systemd.
//!
//! Exit status: 0 done; 1 the run failed (a server, a verification); 2 a usage or
//! configuration error (nothing was written); 130 cancelled by SIGINT or SIGTERM (every
//! acknowledged chunk is checkpointed; the next run resumes).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use gaia_core::sync::{Mode, Progress, Sync};
use gaia_core::ErrorKind;

const USAGE: &str = "usage: gaia sync --config FILE [options]

Runs one sync between MariaDB and Solr and prints its report (JSON) on stdout; progress
goes to stderr. The configuration is JSON or, for a .toml file, TOML (docs/sync.md); ${NAME} in it is
replaced by the environment variable NAME (keep passwords out of the file).

options:
  --config FILE        the sync configuration (required)
  --mode MODE          auto (default: incremental when a checkpoint exists, else full),
                       full, incremental, cdc (follow the binlog until SIGINT/SIGTERM,
                       then print the report and exit 0), or reconcile (compare the core
                       with the database, repair it, report the differences)
  --check              check the mapping against the live MariaDB and Solr, write nothing
  --progress SECS      a progress line every SECS seconds (default: 1 on a terminal, 10
                       otherwise; 0 turns progress off)
  --metrics-file PATH  after the run, write Prometheus metrics to PATH atomically (for
                       node_exporter's textfile collector)
  -q, --quiet          no progress and no report on success

exit status: 0 done, 1 the run failed, 2 a usage or configuration error (nothing written),
130 cancelled by SIGINT/SIGTERM (checkpoint kept; the next run resumes)";

/// Set by the signal thread; the progress callback turns it into a cancel.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

#[derive(Debug)]
struct Args {
    config: PathBuf,
    mode: Mode,
    check: bool,
    progress: Option<f64>,
    metrics_file: Option<PathBuf>,
    quiet: bool,
}

fn parse(args: &[String]) -> Result<Option<Args>, String> {
    let mut config = None;
    let mut out = Args {
        config: PathBuf::new(),
        mode: Mode::Auto,
        check: false,
        progress: None,
        metrics_file: None,
        quiet: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag {
            "-h" | "--help" => return Ok(None),
            "--config" => config = Some(PathBuf::from(value("--config")?)),
            "--mode" => {
                out.mode = value("--mode")?
                    .parse()
                    .map_err(|e: gaia_core::sync::Error| e.to_string())?
            }
            "--check" => out.check = true,
            "--progress" => {
                let v = value("--progress")?;
                let secs: f64 = v
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                    .ok_or_else(|| format!("--progress {v:?} is not a number of seconds"))?;
                out.progress = Some(secs);
            }
            "--metrics-file" => out.metrics_file = Some(PathBuf::from(value("--metrics-file")?)),
            "-q" | "--quiet" => out.quiet = true,
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    out.config = config.ok_or("--config FILE is required")?;
    Ok(Some(out))
}

/// Replaces every `${NAME}` (NAME of ASCII letters, digits and `_`; anything else after `${`
/// is kept as written) with the environment variable's value, so secrets can stay out of the file (systemd `EnvironmentFile=`).
fn expand_env(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let name_end = after.find('}').filter(|&e| {
            e > 0
                && after[..e]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        let Some(end) = name_end else {
            // Not a ${NAME}: kept as written.
            out.push_str("${");
            rest = after;
            continue;
        };
        let name = &after[..end];
        let value = lookup(name).ok_or_else(|| {
            format!("the environment variable {name} (used as ${{{name}}}) is not set")
        })?;
        // Values land inside JSON or TOML strings: escape what would end or break them.
        out.push_str(&value.replace('\\', "\\\\").replace('"', "\\\""));
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Reads a configuration file as JSON text (TOML is converted), with `${NAME}` expanded.
fn read_config(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let text = expand_env(&text, |n| std::env::var(n).ok())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let is_toml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    if !is_toml {
        return Ok(text);
    }
    let value: serde_json::Value =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(value.to_string())
}

/// Cancels the run on SIGINT or SIGTERM (a helper thread with a tiny runtime).
fn watch_signals() {
    let _ = std::thread::Builder::new()
        .name("gaia-signals".into())
        .spawn(|| {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                use tokio::signal::unix::{signal, SignalKind};
                let (Ok(mut int), Ok(mut term)) = (
                    signal(SignalKind::interrupt()),
                    signal(SignalKind::terminate()),
                ) else {
                    return;
                };
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
                INTERRUPTED.store(true, Ordering::Relaxed);
            });
        });
}

fn progress_line(p: &Progress) -> String {
    let total = p.rows_total.map_or(String::new(), |t| format!("/{t}"));
    let eta = p.eta_s.map_or(String::new(), |e| format!(", ETA {e:.0} s"));
    format!(
        "{:?}: {}{total} rows, {} docs written, {} deleted, {} dead-lettered, {:.0} rows/s, {:.1} s{eta}",
        p.phase, p.rows_read, p.docs_written, p.docs_deleted, p.dead_lettered, p.rows_per_s, p.elapsed_s
    )
    .to_lowercase()
}

fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn exit_for(kind: ErrorKind) -> ExitCode {
    match kind {
        ErrorKind::Cancelled => ExitCode::from(130),
        ErrorKind::InvalidJson | ErrorKind::InvalidConfig | ErrorKind::InvalidUtf8 => {
            ExitCode::from(2)
        }
        _ => ExitCode::from(1),
    }
}

/// `gaia sync ...`.
pub fn main(args: &[String]) -> ExitCode {
    let args = match parse(args) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("gaia sync: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let sync = match read_config(&args.config).map(|json| Sync::new(&json)) {
        Err(e) => {
            eprintln!("gaia sync: {e}");
            return ExitCode::from(2);
        }
        Ok(Err(e)) => {
            eprintln!("gaia sync: {}: {e}", args.config.display());
            return exit_for(e.kind());
        }
        Ok(Ok(s)) => s,
    };
    if args.check {
        return match sync.check() {
            Ok(()) => {
                if !args.quiet {
                    println!("ok: the mapping fits MariaDB and Solr");
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("gaia sync: {e}");
                exit_for(e.kind())
            }
        };
    }
    watch_signals();
    let tty = std::io::stderr().is_terminal();
    let every = match (args.quiet, args.progress) {
        (true, _) | (_, Some(0.0)) => None,
        (false, Some(s)) => Some(s),
        (false, None) => Some(if tty { 1.0 } else { 10.0 }),
    };
    // The callback is polled often so a signal cancels promptly; it prints at `every`.
    let mut last_print = Instant::now();
    let result = sync.run_with_progress(args.mode, Duration::from_millis(100), |p| {
        if let Some(every) = every {
            if last_print.elapsed().as_secs_f64() >= every {
                last_print = Instant::now();
                if tty {
                    eprint!("\r\x1b[2K{}", progress_line(p));
                } else {
                    eprintln!("{}", progress_line(p));
                }
            }
        }
        !INTERRUPTED.load(Ordering::Relaxed)
    });
    if tty && every.is_some() {
        eprintln!();
    }
    if let Some(path) = &args.metrics_file {
        if let Err(e) = write_atomic(path, &sync.metrics()) {
            eprintln!("gaia sync: metrics file {}: {e}", path.display());
        }
    }
    match result {
        Ok(report) => {
            if !args.quiet {
                println!("{}", report.to_json());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gaia sync: {e}");
            exit_for(e.kind())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::expand_env;

    fn env(n: &str) -> Option<String> {
        match n {
            "DB" => Some("mysql://u:p\"w@h/db".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands_variables_and_escapes_quotes() {
        assert_eq!(
            expand_env("url = \"${DB}\" x${EMPTY}y", env).unwrap(),
            "url = \"mysql://u:p\\\"w@h/db\" xy"
        );
        assert_eq!(
            expand_env("no vars $HOME {x}", env).unwrap(),
            "no vars $HOME {x}"
        );
    }

    #[test]
    fn unset_variables_are_errors_and_other_text_stays() {
        let e = expand_env("a ${NOPE} b", env).unwrap_err();
        assert!(e.contains("NOPE") && e.contains("not set"), "{e}");
        // Not variable references: kept as written.
        assert_eq!(expand_env("a ${} b", env).unwrap(), "a ${} b");
        assert_eq!(
            expand_env("a ${unterminated", env).unwrap(),
            "a ${unterminated"
        );
        assert_eq!(
            expand_env("a ${BAD-NAME} ${DB}", env).unwrap(),
            "a ${BAD-NAME} mysql://u:p\\\"w@h/db"
        );
    }
}
