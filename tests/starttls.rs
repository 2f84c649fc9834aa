//! `--starttls` in `connect` and `probe` against real servers: aiosmtpd (SMTP, with and
//! without STARTTLS), dovecot (IMAP and POP3), pyftpdlib's TLS_FTPHandler (FTP) and
//! PostgreSQL, each started here with its own config in a temp dir, on loopback, ended by PID.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::daemon::{PYTHON, python_server, wait_accepting};
use common::pki::Pki;
use common::relay::{Finished, Running, free_port, sockx_command};
use common::{Daemon, is_root, skip};

const LIMIT: Duration = Duration::from_secs(60);

fn python_has(module: &str) -> bool {
    Command::new(PYTHON)
        .args(["-c", &format!("import {module}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn connect(args: &[&str]) -> Finished {
    let mut all = vec!["connect"];
    all.extend(args);
    let mut running = Running::start(sockx_command(&all));
    drop(running.stdin.take());
    running.finish(LIMIT)
}

/// aiosmtpd on a free port; with `tls`, it offers STARTTLS with that certificate and key.
fn smtp_server(tls: Option<(&Path, &Path)>) -> (Daemon, u16) {
    const SCRIPT: &str = r#"
import asyncio, ssl, sys
from aiosmtpd.smtp import SMTP
from aiosmtpd.handlers import Sink

async def main():
    context = None
    if len(sys.argv) > 2:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(sys.argv[1], sys.argv[2])
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(Sink(), hostname="mail.test", tls_context=context), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()

asyncio.run(main())
"#;
    match tls {
        Some((cert, key)) => python_server(
            SCRIPT,
            &[&cert.display().to_string(), &key.display().to_string()],
        ),
        None => python_server(SCRIPT, &[]),
    }
}

fn setup(test: &str, module: Option<&str>) -> Option<Pki> {
    if let Some(module) = module
        && !python_has(module)
    {
        skip(test, &format!("needs {PYTHON} with {module}"));
        return None;
    }
    Pki::for_test(test)
}

#[test]
fn smtp_starttls_upgrades_and_the_session_goes_on_over_tls() {
    let Some(pki) = setup(
        "smtp_starttls_upgrades_and_the_session_goes_on_over_tls",
        Some("aiosmtpd"),
    ) else {
        return;
    };
    let (_server, port) = smtp_server(Some((&pki.path("leaf.pem"), &pki.path("leaf.key"))));
    let finished = connect(&[
        "-v",
        "--starttls",
        "smtp",
        "--ca",
        &pki.ca(),
        &format!("localhost:{port}"),
        // aiosmtpd drops what it has not answered yet when the client's side ends.
        "--no-shutdown",
        "--send",
        "EHLO client.test\\r\\nQUIT\\r\\n",
    ]);
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
    let stdout = String::from_utf8_lossy(&finished.stdout);
    // The answers over TLS: the EHLO again (no STARTTLS offered any more), then the goodbye.
    assert!(stdout.starts_with("250-mail.test"), "{stdout}");
    assert!(!stdout.contains("STARTTLS"), "{stdout}");
    assert!(stdout.contains("221 "), "{stdout}");
    assert!(
        finished.stderr.contains("tls: TLSv1.3 ") && finished.stderr.contains("verify ok"),
        "{}",
        finished.stderr
    );
}

#[test]
fn an_smtp_server_without_starttls_is_one_line_quoting_its_answer() {
    let Some(_pki) = setup(
        "an_smtp_server_without_starttls_is_one_line_quoting_its_answer",
        Some("aiosmtpd"),
    ) else {
        return;
    };
    let (_server, port) = smtp_server(None);
    let peer = format!("localhost:{port}");
    let finished = connect(&["--starttls", "smtp", &peer]);
    assert_eq!(finished.code(), 1, "{}", finished.stderr);
    common::relay::assert_one_error_line(&finished.stderr);
    let line = finished.stderr.lines().next().unwrap();
    assert!(
        line.starts_with(&format!(
            "sockx: error: TLS handshake with {peer} failed: smtp STARTTLS: the server does not offer STARTTLS: its EHLO answer was \"250-mail.test / "
        )),
        "{line}"
    );
}

#[test]
fn probe_starttls_reports_the_certificate_or_fails_the_check_with_the_reason() {
    let Some(pki) = setup(
        "probe_starttls_reports_the_certificate_or_fails_the_check_with_the_reason",
        Some("aiosmtpd"),
    ) else {
        return;
    };
    let (_server, port) = smtp_server(Some((&pki.path("leaf.pem"), &pki.path("leaf.key"))));
    let output = common::sockx()
        .args(["probe", "--starttls", "smtp", "--ca", &pki.ca(), "--json"])
        .arg(format!("localhost:{port}"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let json = &common::json_lines(&output)[0];
    assert_eq!(json["tls"]["verified"], true, "{json}");
    assert_eq!(json["tls"]["subject"], "CN=localhost", "{json}");

    let (_plain, port) = smtp_server(None);
    let output = common::sockx()
        .args(["probe", "--starttls", "smtp"])
        .arg(format!("localhost:{port}"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = common::text(&output.stdout);
    assert!(
        stdout.contains(" open ")
            && stdout.contains("smtp STARTTLS: the server does not offer STARTTLS"),
        "{stdout}"
    );
}

/// dovecot serving IMAP and POP3 (STARTTLS/STLS with the test certificate) on free ports,
/// with its config, state and logs in `dir`.
fn dovecot(pki: &Pki, dir: &Path) -> Option<(Daemon, u16, u16)> {
    let (imap, pop3) = (free_port(), free_port());
    let d = dir.display();
    let config = format!(
        "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\n\
         protocols = imap pop3\nlisten = 127.0.0.1\nssl = yes\n\
         ssl_cert = <{cert}\nssl_key = <{key}\n\
         disable_plaintext_auth = no\nauth_mechanisms = plain\n\
         passdb {{\n  driver = static\n  args = password=pass\n}}\n\
         userdb {{\n  driver = static\n  args = uid=nobody gid=nogroup home={d}/home/%u\n}}\n\
         mail_location = maildir:~/Maildir\n\
         service imap-login {{\n  chroot =\n  inet_listener imap {{\n    port = {imap}\n  }}\n  inet_listener imaps {{\n    port = 0\n  }}\n}}\n\
         service pop3-login {{\n  chroot =\n  inet_listener pop3 {{\n    port = {pop3}\n  }}\n  inet_listener pop3s {{\n    port = 0\n  }}\n}}\n\
         service anvil {{\n  chroot =\n}}\n",
        cert = pki.path("leaf.pem").display(),
        key = pki.path("leaf.key").display(),
    );
    let conf = dir.join("dovecot.conf");
    std::fs::write(&conf, config).ok()?;
    let child = Command::new("dovecot")
        .arg("-F")
        .arg("-c")
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut dovecot = Daemon(child);
    for port in [imap, pop3] {
        if !wait_accepting(&mut dovecot.0, port) {
            return None;
        }
    }
    Some((dovecot, imap, pop3))
}

/// A temp dir that the daemons' own users can traverse.
fn open_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[test]
fn imap_and_pop3_starttls_against_dovecot() {
    let test = "imap_and_pop3_starttls_against_dovecot";
    let Some(pki) = setup(test, None) else {
        return;
    };
    if !common::installed("dovecot") {
        return skip(test, "needs dovecot (dovecot-imapd, dovecot-pop3d)");
    }
    if !is_root() {
        return skip(test, "dovecot needs root to start its login processes");
    }
    let dir = open_dir();
    let Some((_dovecot, imap, pop3)) = dovecot(&pki, dir.path()) else {
        return skip(test, "dovecot did not start");
    };
    let finished = connect(&[
        "-v",
        "--starttls",
        "imap",
        "--ca",
        &pki.ca(),
        &format!("localhost:{imap}"),
        "--send",
        "a LOGOUT\\r\\n",
    ]);
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
    let stdout = String::from_utf8_lossy(&finished.stdout);
    assert!(
        stdout.contains("* BYE") && stdout.contains("a OK"),
        "{stdout}"
    );
    assert!(finished.stderr.contains("verify ok"), "{}", finished.stderr);

    let finished = connect(&[
        "--starttls",
        "pop3",
        "--ca",
        &pki.ca(),
        &format!("localhost:{pop3}"),
        "--send",
        "QUIT\\r\\n",
    ]);
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
    assert!(
        String::from_utf8_lossy(&finished.stdout).starts_with("+OK"),
        "{:?}",
        finished.stdout
    );

    let output = common::sockx()
        .args(["probe", "--starttls", "imap", "--ca", &pki.ca(), "--json"])
        .arg(format!("localhost:{imap}"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(common::json_lines(&output)[0]["tls"]["verified"], true);
}

#[test]
fn ftp_auth_tls_against_pyftpdlib() {
    let test = "ftp_auth_tls_against_pyftpdlib";
    let Some(pki) = setup(test, Some("pyftpdlib.handlers, OpenSSL")) else {
        return;
    };
    const SCRIPT: &str = r#"
import sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import TLS_FTPHandler
from pyftpdlib.servers import FTPServer
authorizer = DummyAuthorizer()
authorizer.add_anonymous(sys.argv[3])
handler = TLS_FTPHandler
handler.certfile = sys.argv[1]
handler.keyfile = sys.argv[2]
handler.authorizer = authorizer
server = FTPServer(("127.0.0.1", 0), handler)
print(server.address[1], flush=True)
server.serve_forever()
"#;
    let dir = tempfile::tempdir().unwrap();
    let (_server, port) = python_server(
        SCRIPT,
        &[
            &pki.path("leaf.pem").display().to_string(),
            &pki.path("leaf.key").display().to_string(),
            &dir.path().display().to_string(),
        ],
    );
    let finished = connect(&[
        "-v",
        "--starttls",
        "ftp",
        "--ca",
        &pki.ca(),
        &format!("localhost:{port}"),
        "--send",
        "QUIT\\r\\n",
    ]);
    assert_eq!(finished.code(), 0, "{}", finished.stderr);
    assert!(
        String::from_utf8_lossy(&finished.stdout).starts_with("221"),
        "{:?}",
        String::from_utf8_lossy(&finished.stdout)
    );
    assert!(finished.stderr.contains("verify ok"), "{}", finished.stderr);
}

#[test]
fn postgres_ssl_request_against_a_real_server() {
    let test = "postgres_ssl_request_against_a_real_server";
    let Some(pki) = setup(test, None) else {
        return;
    };
    let bin = Path::new("/usr/lib/postgresql/15/bin");
    if !bin.join("initdb").exists() {
        return skip(
            test,
            "needs postgresql (initdb in /usr/lib/postgresql/15/bin)",
        );
    }
    if !is_root() || !common::installed("runuser") {
        return skip(
            test,
            "needs root and runuser to run initdb as the postgres user",
        );
    }
    let dir = open_dir();
    let d = dir.path();
    std::fs::copy(pki.path("leaf.pem"), d.join("server.pem")).unwrap();
    std::fs::copy(pki.path("leaf.key"), d.join("server.key")).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(d.join("server.key"), std::fs::Permissions::from_mode(0o600))
            .unwrap();
    }
    let owned = Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(d)
        .status()
        .is_ok_and(|status| status.success());
    let data = d.join("data");
    let initdb = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(bin.join("initdb"))
        .args(["-A", "trust", "-U", "postgres", "-D"])
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !owned || !initdb {
        return skip(test, "initdb did not run as the postgres user");
    }
    let port = free_port();
    let child = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(bin.join("postgres"))
        .arg("-D")
        .arg(&data)
        .args(["-p", &port.to_string(), "-k"])
        .arg(d)
        .args(["-c", "listen_addresses=127.0.0.1", "-c", "ssl=on"])
        .arg("-c")
        .arg(format!("ssl_cert_file={}", d.join("server.pem").display()))
        .arg("-c")
        .arg(format!("ssl_key_file={}", d.join("server.key").display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut postgres = Daemon(child);
    if !wait_accepting(&mut postgres.0, port) {
        return skip(test, "postgres did not start");
    }
    let output = common::sockx()
        .args([
            "probe",
            "--starttls",
            "postgres",
            "--ca",
            &pki.ca(),
            "--json",
        ])
        .arg(format!("localhost:{port}"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let json = &common::json_lines(&output)[0];
    assert_eq!(json["tls"]["verified"], true, "{json}");
    assert_eq!(json["tls"]["version"], "TLSv1.3", "{json}");
    // postgres ends a session it got no startup packet for: the handshake is the test.
    let finished = connect(&[
        "-v",
        "--starttls",
        "postgres",
        "--ca",
        &pki.ca(),
        &format!("localhost:{port}"),
    ]);
    assert!(finished.stderr.contains("verify ok"), "{}", finished.stderr);
}
