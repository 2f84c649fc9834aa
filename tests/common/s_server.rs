//! `openssl s_server` on 127.0.0.1 with a certificate from [`Pki`]: the TLS server nobody here
//! wrote, for `connect --tls` and `probe --tls`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::pki::Pki;

/// `openssl s_server` with `NAME.pem` and `NAME.key`: stdin piped (held open), stdout
/// collected; killed by its PID when dropped.
pub struct SServer {
    child: Child,
    /// Where it listens on 127.0.0.1.
    pub port: u16,
    out: Arc<Mutex<String>>,
}

impl SServer {
    /// Starts it with `extra` arguments once its `ACCEPT` line says where it listens.
    pub fn start(pki: &Pki, name: &str, extra: &[&str]) -> SServer {
        let mut child = Command::new("openssl")
            .args(["s_server", "-accept", "127.0.0.1:0", "-cert"])
            .arg(pki.path(&format!("{name}.pem")))
            .arg("-key")
            .arg(pki.path(&format!("{name}.key")))
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let port = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| {
                line.strip_prefix("ACCEPT ")
                    .and_then(|addr| addr.rsplit_once(':'))
                    .and_then(|(_, port)| port.parse().ok())
            })
            .expect("s_server says where it listens");
        let out = Arc::new(Mutex::new(String::new()));
        let collected = Arc::clone(&out);
        thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut out = collected.lock().unwrap();
                out.push_str(&line);
                out.push('\n');
            }
        });
        SServer { child, port, out }
    }

    /// [`SServer::start`] with `-www`: each client gets an HTTP status page.
    pub fn www(pki: &Pki, name: &str, extra: &[&str]) -> SServer {
        SServer::start(pki, name, &[&["-www"], extra].concat())
    }

    /// `localhost:PORT`: the name the test certificates are made for.
    pub fn addr(&self) -> String {
        format!("localhost:{}", self.port)
    }

    /// `127.0.0.1:PORT`.
    pub fn ip_addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Waits until its stdout contains `text`; false after the deadline.
    pub fn said(&self, text: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.out.lock().unwrap().contains(text) {
                return true;
            }
            thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Its stdout so far.
    pub fn stdout(&self) -> String {
        self.out.lock().unwrap().clone()
    }
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
