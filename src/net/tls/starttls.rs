//! `--starttls PROTO`: the plaintext dialogue that asks a server to start TLS on the same
//! connection (SMTP `STARTTLS`, IMAP `STARTTLS`, POP3 `STLS`, FTP `AUTH TLS`, PostgreSQL's
//! SSLRequest), as a step machine over any `Read + Write`: the probe steps it on its
//! non-blocking socket, `connect` on a blocking one, both through [`super::Handshake`], which
//! runs it before the TLS handshake.
//!
//! The dialogue reads nothing past the server's go-ahead: a server (or a man in the middle)
//! that sends more before the handshake is refused, since such bytes would otherwise be taken
//! as part of the protected session (the STARTTLS injection flaws, CVE-2011-0411 and kin).

use std::fmt;
use std::io::{self, Read, Write};

use clap::ValueEnum;

use super::failure::TlsFailure;
use crate::output::escape::escape_bytes;

/// The protocols `--starttls` speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StartTls {
    /// SMTP: EHLO, then STARTTLS (RFC 3207)
    Smtp,
    /// IMAP: CAPABILITY, then STARTTLS (RFC 3501)
    Imap,
    /// POP3: CAPA, then STLS (RFC 2595)
    Pop3,
    /// FTP: AUTH TLS (RFC 4217)
    Ftp,
    /// PostgreSQL: the SSLRequest packet
    Postgres,
}

impl fmt::Display for StartTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StartTls::Smtp => "smtp",
            StartTls::Imap => "imap",
            StartTls::Pop3 => "pop3",
            StartTls::Ftp => "ftp",
            StartTls::Postgres => "postgres",
        })
    }
}

/// PostgreSQL's SSLRequest: length 8, then the code 80877103.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// The most a server may say before its go-ahead.
const MAX_ANSWER: usize = 64 * 1024;

/// Where the dialogue stands: what it waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The server's greeting.
    Greeting,
    /// The answer to EHLO, CAPABILITY or CAPA.
    Capabilities,
    /// The answer to the upgrade command itself.
    Upgrade,
    /// PostgreSQL's one-byte answer to the SSLRequest.
    SslAnswer,
    /// The server said go: the TLS handshake comes next.
    Done,
}

/// Where a step left the dialogue.
#[derive(Debug)]
pub enum Dialogue {
    /// Blocked: wait until the socket is readable (and writable, when `write`).
    Pending {
        /// Output is waiting to be written.
        write: bool,
    },
    /// The server agreed: start the handshake.
    Done,
    /// It did not, or it closed; the reason quotes what it said.
    Failed(TlsFailure),
}

/// One connection's STARTTLS dialogue.
#[derive(Debug)]
pub struct Upgrade {
    proto: StartTls,
    state: State,
    /// What the client says in SMTP's EHLO.
    client_name: String,
    outbox: Vec<u8>,
    sent: usize,
    inbox: Vec<u8>,
    /// The lines of the answer being read (without line ends).
    answer: Vec<Vec<u8>>,
    /// IMAP/POP3: the server listed the upgrade among its capabilities.
    offered: bool,
}

impl Upgrade {
    /// A dialogue for `proto`; `client_name` is what SMTP's EHLO says.
    pub fn new(proto: StartTls, client_name: &str) -> Upgrade {
        let mut upgrade = Upgrade {
            proto,
            state: State::Greeting,
            client_name: client_name.to_string(),
            outbox: Vec::new(),
            sent: 0,
            inbox: Vec::new(),
            answer: Vec::new(),
            offered: false,
        };
        if proto == StartTls::Postgres {
            // The client speaks first.
            upgrade.say(&SSL_REQUEST);
            upgrade.state = State::SslAnswer;
        }
        upgrade
    }

    /// Moves the dialogue on as far as `io` allows without blocking.
    pub fn step(&mut self, io: &mut (impl Read + Write)) -> Dialogue {
        loop {
            while self.sent < self.outbox.len() {
                match io.write(&self.outbox[self.sent..]) {
                    Ok(0) => return Dialogue::Failed(self.fail("the connection closed")),
                    Ok(n) => self.sent += n,
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                        return Dialogue::Pending { write: true };
                    }
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    Err(err) => return Dialogue::Failed(self.io_failure(&err)),
                }
            }
            if self.state == State::Done {
                return Dialogue::Done;
            }
            // PostgreSQL answers with one byte; read no more than that.
            let mut buf = [0u8; 4096];
            let want = if self.state == State::SslAnswer {
                1
            } else {
                buf.len()
            };
            let n = match io.read(&mut buf[..want]) {
                Ok(0) => {
                    let said = if self.inbox.is_empty() && self.answer.is_empty() {
                        "the server closed the connection without a word".to_string()
                    } else {
                        format!("the server closed the connection after {}", self.quote())
                    };
                    return Dialogue::Failed(self.fail(&said));
                }
                Ok(n) => n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    return Dialogue::Pending { write: false };
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Dialogue::Failed(self.io_failure(&err)),
            };
            self.inbox.extend_from_slice(&buf[..n]);
            if let Err(failure) = self.take_input() {
                return Dialogue::Failed(failure);
            }
        }
    }

    /// The failure to report when the deadline passed.
    pub fn timed_out(&self) -> TlsFailure {
        let waited = match self.state {
            State::Greeting => "the server's greeting".to_string(),
            State::Capabilities | State::Upgrade => format!("the answer to {}", self.command()),
            State::SslAnswer => "the answer to the SSLRequest".to_string(),
            State::Done => "the handshake".to_string(),
        };
        let mut failure = self.fail(&format!("timed out waiting for {waited}"));
        if !self.answer.is_empty() || !self.inbox.is_empty() {
            failure
                .reason
                .push_str(&format!(" (so far: {})", self.quote()));
        }
        failure
    }

    fn say(&mut self, bytes: &[u8]) {
        self.outbox.extend_from_slice(bytes);
    }

    /// The command whose answer is awaited, for messages.
    fn command(&self) -> &'static str {
        match (self.proto, self.state) {
            (StartTls::Smtp, State::Capabilities) => "EHLO",
            (StartTls::Imap, State::Capabilities) => "CAPABILITY",
            (StartTls::Pop3, State::Capabilities) => "CAPA",
            (StartTls::Pop3, _) => "STLS",
            (StartTls::Ftp, _) => "AUTH TLS",
            (StartTls::Postgres, _) => "the SSLRequest",
            (StartTls::Smtp | StartTls::Imap, _) => "STARTTLS",
        }
    }

    /// Consumes what arrived: complete answers move the dialogue on.
    fn take_input(&mut self) -> Result<(), TlsFailure> {
        if self.state == State::SslAnswer {
            let byte = self.inbox.remove(0);
            return match byte {
                b'S' => {
                    self.state = State::Done;
                    Ok(())
                }
                b'N' => Err(self.fail(
                    "the server does not accept TLS: it answered 'N' to the SSLRequest (is ssl = on in postgresql.conf?)",
                )),
                other => {
                    self.answer.push(vec![other]);
                    Err(self.fail(&format!(
                        "the server did not answer the SSLRequest with 'S' or 'N': it sent {}",
                        self.quote()
                    )))
                }
            };
        }
        while let Some(end) = self.inbox.iter().position(|&b| b == b'\n') {
            let mut line: Vec<u8> = self.inbox.drain(..=end).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            self.answer.push(line);
            if self.answer_complete() {
                self.answered()?;
                self.answer.clear();
            }
            if self.state == State::Done {
                if !self.inbox.is_empty() {
                    return Err(self.fail(&format!(
                        "the server sent {} more bytes after its go-ahead, before the handshake (refused: they could be injected)",
                        self.inbox.len()
                    )));
                }
                return Ok(());
            }
        }
        let held = self.inbox.len() + self.answer.iter().map(Vec::len).sum::<usize>();
        if held > MAX_ANSWER {
            return Err(self.fail(&format!(
                "the server's answer is longer than {} KiB: {}",
                MAX_ANSWER / 1024,
                self.quote()
            )));
        }
        Ok(())
    }

    /// The answer read so far is whole.
    fn answer_complete(&self) -> bool {
        let Some(last) = self.answer.last() else {
            return false;
        };
        match self.proto {
            // `250-…` lines go on, `250 …` (or a bare `250`) ends it; FTP's continuation
            // lines need not start with the code at all.
            StartTls::Smtp | StartTls::Ftp => {
                let code_ends = last.len() == 3 || last.get(3) == Some(&b' ');
                let first_code = self.answer[0].get(..3);
                last.len() >= 3
                    && last[..3].iter().all(u8::is_ascii_digit)
                    && code_ends
                    && (self.proto == StartTls::Smtp || first_code == last.get(..3))
            }
            // Untagged `* …` lines go on; the tagged line (or the greeting) ends it.
            StartTls::Imap => self.state == State::Greeting || !last.starts_with(b"* "),
            // CAPA's list ends with a lone `.`; everything else is one line.
            StartTls::Pop3 => {
                !(self.state == State::Capabilities && self.answer[0].starts_with(b"+OK"))
                    || last.as_slice() == b"."
            }
            StartTls::Postgres => true,
        }
    }

    /// A whole answer arrived: judge it and say the next thing.
    fn answered(&mut self) -> Result<(), TlsFailure> {
        let first = self.answer[0].clone();
        match (self.proto, self.state) {
            (StartTls::Smtp | StartTls::Ftp, State::Greeting) => {
                if first.starts_with(b"120") {
                    // "Service ready in N minutes": the real greeting follows.
                    return Ok(());
                }
                if !first.starts_with(b"220") {
                    return Err(self.refusal("greeted with"));
                }
                if self.proto == StartTls::Smtp {
                    let ehlo = format!("EHLO {}\r\n", self.client_name);
                    self.say(ehlo.as_bytes());
                    self.state = State::Capabilities;
                } else {
                    self.say(b"AUTH TLS\r\n");
                    self.state = State::Upgrade;
                }
            }
            (StartTls::Smtp, State::Capabilities) => {
                if !first.starts_with(b"250") {
                    return Err(self.refusal("answered EHLO with"));
                }
                let offered = self
                    .answer
                    .iter()
                    .any(|line| word_at(line, 4).eq_ignore_ascii_case(b"STARTTLS"));
                if !offered {
                    return Err(self.not_offered("its EHLO answer"));
                }
                self.say(b"STARTTLS\r\n");
                self.state = State::Upgrade;
            }
            (StartTls::Smtp, State::Upgrade) => self.go_ahead_if(first.starts_with(b"220"))?,
            (StartTls::Ftp, State::Upgrade) => {
                if !first.starts_with(b"234") {
                    return Err(self.refusal("answered AUTH TLS with"));
                }
                self.state = State::Done;
            }
            (StartTls::Imap, State::Greeting) => {
                if !(first.starts_with(b"* OK") || first.starts_with(b"* PREAUTH")) {
                    return Err(self.refusal("greeted with"));
                }
                if has_capability(&first, b"STARTTLS") {
                    self.say(b"b STARTTLS\r\n");
                    self.state = State::Upgrade;
                } else {
                    self.say(b"a CAPABILITY\r\n");
                    self.state = State::Capabilities;
                }
            }
            (StartTls::Imap, State::Capabilities) => {
                let Some(tagged) = self.answer.last().filter(|line| line.starts_with(b"a ")) else {
                    return Err(self.refusal("answered CAPABILITY with"));
                };
                if !tagged.starts_with(b"a OK") {
                    return Err(self.refusal("answered CAPABILITY with"));
                }
                let offered = self.answer.iter().any(|line| {
                    line.starts_with(b"* CAPABILITY") && has_capability(line, b"STARTTLS")
                });
                if !offered {
                    return Err(self.not_offered("its CAPABILITY answer"));
                }
                self.say(b"b STARTTLS\r\n");
                self.state = State::Upgrade;
            }
            (StartTls::Imap, State::Upgrade) => {
                let ok = self
                    .answer
                    .last()
                    .is_some_and(|line| line.starts_with(b"b OK"));
                self.go_ahead_if(ok)?;
            }
            (StartTls::Pop3, State::Greeting) => {
                if !first.starts_with(b"+OK") {
                    return Err(self.refusal("greeted with"));
                }
                self.say(b"CAPA\r\n");
                self.state = State::Capabilities;
            }
            (StartTls::Pop3, State::Capabilities) => {
                // A server without CAPA (-ERR) may still know STLS: ask.
                if first.starts_with(b"+OK") {
                    self.offered = self
                        .answer
                        .iter()
                        .any(|line| word_at(line, 0).eq_ignore_ascii_case(b"STLS"));
                    if !self.offered {
                        return Err(self.not_offered("its CAPA answer"));
                    }
                }
                self.say(b"STLS\r\n");
                self.state = State::Upgrade;
            }
            (StartTls::Pop3, State::Upgrade) => self.go_ahead_if(first.starts_with(b"+OK"))?,
            (_, State::Done | State::SslAnswer) | (StartTls::Postgres, _) => {}
            (StartTls::Ftp, State::Capabilities) => {}
        }
        Ok(())
    }

    fn go_ahead_if(&mut self, ok: bool) -> Result<(), TlsFailure> {
        if !ok {
            return Err(self.refusal(&format!("answered {} with", self.command())));
        }
        self.state = State::Done;
        Ok(())
    }

    /// `the server answered EHLO with "500 …"`.
    fn refusal(&self, what: &str) -> TlsFailure {
        self.fail(&format!("the server {what} {}", self.quote()))
    }

    fn not_offered(&self, where_: &str) -> TlsFailure {
        let upgrade = match self.proto {
            StartTls::Pop3 => "STLS",
            _ => "STARTTLS",
        };
        let mut failure = self.fail(&format!(
            "the server does not offer {upgrade}: {where_} was {}",
            self.quote()
        ));
        failure.hint =
            Some("this server speaks plaintext only here; try its TLS port with --tls".into());
        failure
    }

    /// The answer (or what arrived of it), escaped and cut, in quotes; lines joined by ` / `.
    fn quote(&self) -> String {
        const SHOWN: usize = 160;
        let mut lines: Vec<&[u8]> = self.answer.iter().map(Vec::as_slice).collect();
        if !self.inbox.is_empty() {
            lines.push(&self.inbox);
        }
        let joined = lines.join(&b" / "[..]);
        let cut = joined.len() > SHOWN;
        let shown = escape_bytes(&joined[..joined.len().min(SHOWN)]).replace('"', "\\\"");
        format!("\"{shown}{}\"", if cut { "…" } else { "" })
    }

    fn io_failure(&self, err: &io::Error) -> TlsFailure {
        self.fail(&crate::net::cause::describe(err))
    }

    /// A failure in the contract's words: `smtp STARTTLS: REASON`.
    fn fail(&self, reason: &str) -> TlsFailure {
        let command = match self.proto {
            StartTls::Pop3 => "STLS",
            StartTls::Ftp => "AUTH TLS",
            StartTls::Postgres => "SSLRequest",
            StartTls::Smtp | StartTls::Imap => "STARTTLS",
        };
        TlsFailure {
            reason: format!("{} {command}: {reason}", self.proto),
            hint: None,
            cert: None,
        }
    }
}

/// The word of `line` that starts at byte `at` (up to a space), e.g. an SMTP extension's
/// keyword after `250-`.
fn word_at(line: &[u8], at: usize) -> &[u8] {
    let rest = line.get(at..).unwrap_or_default();
    let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
    &rest[..end]
}

/// An IMAP capability list (`* CAPABILITY …` or a greeting's `[CAPABILITY …]`) names `name`.
fn has_capability(line: &[u8], name: &[u8]) -> bool {
    line.split(|&b| b == b' ' || b == b'[' || b == b']')
        .any(|word| word.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scripted server: what it says, in turn, and what it was told.
    struct Script {
        answers: Vec<&'static [u8]>,
        told: Vec<u8>,
        reading: Vec<u8>,
    }

    impl Read for Script {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.reading.is_empty() {
                if self.answers.is_empty() {
                    return Ok(0);
                }
                self.reading = self.answers.remove(0).to_vec();
            }
            let n = buf.len().min(self.reading.len());
            buf[..n].copy_from_slice(&self.reading[..n]);
            self.reading.drain(..n);
            Ok(n)
        }
    }

    impl Write for Script {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.told.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn run(proto: StartTls, answers: Vec<&'static [u8]>) -> (Dialogue, Vec<u8>) {
        let mut script = Script {
            answers,
            told: Vec::new(),
            reading: Vec::new(),
        };
        let mut upgrade = Upgrade::new(proto, "client.test");
        let result = upgrade.step(&mut script);
        (result, script.told)
    }

    fn reason(dialogue: Dialogue) -> String {
        match dialogue {
            Dialogue::Failed(failure) => failure.reason,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn smtp_reads_multi_line_answers() {
        let (result, told) = run(
            StartTls::Smtp,
            vec![
                b"220-mail.test ESMTP\r\n220 welcome\r\n",
                b"250-mail.test\r\n250-SIZE 1000\r\n",
                b"250-starttls\r\n250 HELP\r\n",
                b"220 go ahead\r\n",
            ],
        );
        assert!(matches!(result, Dialogue::Done), "{result:?}");
        assert_eq!(told, b"EHLO client.test\r\nSTARTTLS\r\n");
    }

    #[test]
    fn smtp_without_starttls_quotes_the_ehlo_answer() {
        let (result, _) = run(
            StartTls::Smtp,
            vec![b"220 mail\r\n", b"250-mail\r\n250 \x1b[2JHELP\r\n"],
        );
        assert_eq!(
            reason(result),
            "smtp STARTTLS: the server does not offer STARTTLS: its EHLO answer was \"250-mail / 250 \\x1b[2JHELP\""
        );
    }

    #[test]
    fn bytes_after_the_go_ahead_are_refused() {
        let (result, _) = run(
            StartTls::Smtp,
            vec![
                b"220 mail\r\n",
                b"250 STARTTLS\r\n",
                b"220 go\r\ninjected\r\n",
            ],
        );
        assert!(reason(result).contains("more bytes after its go-ahead"));
    }

    #[test]
    fn imap_asks_for_capabilities_unless_the_greeting_lists_them() {
        let (result, told) = run(
            StartTls::Imap,
            vec![
                b"* OK ready\r\n",
                b"* CAPABILITY IMAP4rev1 STARTTLS\r\na OK done\r\n",
                b"b OK begin TLS\r\n",
            ],
        );
        assert!(matches!(result, Dialogue::Done), "{result:?}");
        assert_eq!(told, b"a CAPABILITY\r\nb STARTTLS\r\n");
        let (result, told) = run(
            StartTls::Imap,
            vec![
                b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n",
                b"b OK go\r\n",
            ],
        );
        assert!(matches!(result, Dialogue::Done), "{result:?}");
        assert_eq!(told, b"b STARTTLS\r\n");
    }

    #[test]
    fn pop3_and_ftp_and_postgres() {
        let (result, told) = run(
            StartTls::Pop3,
            vec![
                b"+OK hi\r\n",
                b"+OK\r\nUSER\r\nSTLS\r\n.\r\n",
                b"+OK go\r\n",
            ],
        );
        assert!(matches!(result, Dialogue::Done), "{result:?}");
        assert_eq!(told, b"CAPA\r\nSTLS\r\n");
        let (result, _) = run(StartTls::Pop3, vec![b"+OK hi\r\n", b"+OK\r\nUSER\r\n.\r\n"]);
        assert!(reason(result).contains("does not offer STLS"));
        let (result, told) = run(
            StartTls::Ftp,
            vec![
                b"220-hello\r\n more\r\n220 ready\r\n",
                b"234 AUTH TLS ok\r\n",
            ],
        );
        assert!(matches!(result, Dialogue::Done), "{result:?}");
        assert_eq!(told, b"AUTH TLS\r\n");
        let (result, _) = run(StartTls::Ftp, vec![b"220 ready\r\n", b"500 what?\r\n"]);
        assert_eq!(
            reason(result),
            "ftp AUTH TLS: the server answered AUTH TLS with \"500 what?\""
        );
        let (result, told) = run(StartTls::Postgres, vec![b"S"]);
        assert!(matches!(result, Dialogue::Done), "{result:?}");
        assert_eq!(told, SSL_REQUEST);
        let (result, _) = run(StartTls::Postgres, vec![b"N"]);
        assert!(reason(result).contains("answered 'N'"));
    }
}
