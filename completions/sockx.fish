# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_sockx_global_optspecs
    string join \n v/verbose q/quiet 4 6 color= h/help V/version
end

function __fish_sockx_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_sockx_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_sockx_using_subcommand
    set -l cmd (__fish_sockx_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c sockx -n "__fish_sockx_needs_command" -l color -d 'When to use colour' -r -f -a "auto\t'Colour when the stream is a terminal and `NO_COLOR` is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c sockx -n "__fish_sockx_needs_command" -s v -l verbose -d 'Diagnostics on stderr (connections, addresses, byte counts, timings)'
complete -c sockx -n "__fish_sockx_needs_command" -s q -l quiet -d 'Nothing on stderr but errors'
complete -c sockx -n "__fish_sockx_needs_command" -s 4 -d 'IPv4 only'
complete -c sockx -n "__fish_sockx_needs_command" -s 6 -d 'IPv6 only'
complete -c sockx -n "__fish_sockx_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockx -n "__fish_sockx_needs_command" -s V -l version -d 'Print version'
complete -c sockx -n "__fish_sockx_needs_command" -f -a "listen" -d 'Listen for a connection and relay it to stdin/stdout (like nc -l)'
complete -c sockx -n "__fish_sockx_needs_command" -f -a "l" -d 'Listen for a connection and relay it to stdin/stdout (like nc -l)'
complete -c sockx -n "__fish_sockx_needs_command" -f -a "connect" -d 'Connect to a peer and relay stdin/stdout (like nc HOST PORT)'
complete -c sockx -n "__fish_sockx_needs_command" -f -a "c" -d 'Connect to a peer and relay stdin/stdout (like nc HOST PORT)'
complete -c sockx -n "__fish_sockx_needs_command" -f -a "ports" -d 'Which process holds which port (like ss -tulnp, lsof -i, fuser)'
complete -c sockx -n "__fish_sockx_needs_command" -f -a "p" -d 'Which process holds which port (like ss -tulnp, lsof -i, fuser)'
complete -c sockx -n "__fish_sockx_needs_command" -f -a "probe" -d 'Is it open? Scan, wait for, or time TCP and UDP ports'
complete -c sockx -n "__fish_sockx_needs_command" -f -a "completions" -d 'Print the completion script for a shell'
complete -c sockx -n "__fish_sockx_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sockx -n "__fish_sockx_using_subcommand listen" -s e -l exec -d 'Run CMD for each connection with the connection as its stdin and stdout (no shell)' -r
complete -c sockx -n "__fish_sockx_using_subcommand listen" -l sh-exec -d 'Run CMD through /bin/sh -c for each connection' -r
complete -c sockx -n "__fish_sockx_using_subcommand listen" -s m -l max-conns -d 'At most N connections at once; the rest are closed at once' -r
complete -c sockx -n "__fish_sockx_using_subcommand listen" -l allow -d 'Accept only peers in this block (repeatable)' -r
complete -c sockx -n "__fish_sockx_using_subcommand listen" -l deny -d 'Refuse peers in this block (repeatable)' -r
complete -c sockx -n "__fish_sockx_using_subcommand listen" -s w -l idle-timeout -d 'Close a connection after DUR without traffic' -r
complete -c sockx -n "__fish_sockx_using_subcommand listen" -l forward -d 'Connect each accepted connection to TARGET (HOST:PORT or a Unix address; with -u, each client address to HOST:PORT over UDP) and relay both ways; stdin is not read' -r
complete -c sockx -n "__fish_sockx_using_subcommand listen" -l forward-sni -d 'Server name sent to and verified for the --forward target [default: its host name]' -r
complete -c sockx -n "__fish_sockx_using_subcommand listen" -l forward-ca -d 'Trust the PEM certificates in FILE for the --forward target' -r -F
complete -c sockx -n "__fish_sockx_using_subcommand listen" -l forward-pin -d 'Accept only the --forward target certificate with this SHA-256 fingerprint' -r
complete -c sockx -n "__fish_sockx_using_subcommand listen" -l unix-mode -d 'Permissions of the Unix socket file (octal, e.g. 660)' -r
complete -c sockx -n "__fish_sockx_using_subcommand listen" -l cert -d 'Serve this certificate chain (PEM, leaf first; with --key)' -r -F
complete -c sockx -n "__fish_sockx_using_subcommand listen" -l key -d 'The certificate\'s private key (PEM: PKCS#8, PKCS#1 or SEC1)' -r -F
complete -c sockx -n "__fish_sockx_using_subcommand listen" -l client-ca -d 'Require a client certificate signed by a CA in FILE (PEM): mutual TLS' -r -F
complete -c sockx -n "__fish_sockx_using_subcommand listen" -l alpn -d 'Accept this ALPN protocol (repeatable, in our order of preference: the first of them that the client offers is chosen)' -r
complete -c sockx -n "__fish_sockx_using_subcommand listen" -l color -d 'When to use colour' -r -f -a "auto\t'Colour when the stream is a terminal and `NO_COLOR` is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c sockx -n "__fish_sockx_using_subcommand listen" -s k -l keep-open -d 'Keep accepting connections and serve them concurrently'
complete -c sockx -n "__fish_sockx_using_subcommand listen" -l recv-only -d 'Never read stdin: only print what the peer sends; the session ends when the peer is done (without it, a session whose stdin is not a terminal lasts until stdin ends too)'
complete -c sockx -n "__fish_sockx_using_subcommand listen" -l echo -d 'Send every byte back to its sender'
complete -c sockx -n "__fish_sockx_using_subcommand listen" -s u -l udp -d 'UDP instead of TCP (with a Unix address: a datagram socket)'
complete -c sockx -n "__fish_sockx_using_subcommand listen" -l hex -d 'Hex dump of the traffic on stderr'
complete -c sockx -n "__fish_sockx_using_subcommand listen" -s C -l crlf -d 'Send line endings from stdin as CRLF'
complete -c sockx -n "__fish_sockx_using_subcommand listen" -l broadcast -d 'Allow sending to broadcast addresses (SO_BROADCAST)'
complete -c sockx -n "__fish_sockx_using_subcommand listen" -l reuseport -d 'Share the port with other sockets (SO_REUSEPORT)'
complete -c sockx -n "__fish_sockx_using_subcommand listen" -s U -l unix -d 'Read ADDR as a Unix socket path'
complete -c sockx -n "__fish_sockx_using_subcommand listen" -l forward-tls -d 'Speak TLS to the --forward target (verified as connect --tls verifies)'
complete -c sockx -n "__fish_sockx_using_subcommand listen" -l forward-insecure -d 'Do not verify the --forward target\'s certificate (what failed is said with -v)'
complete -c sockx -n "__fish_sockx_using_subcommand listen" -l tls -d 'Serve TLS (1.2 and 1.3); without --cert, with a fresh self-signed certificate whose fingerprint stderr gives before the ready line'
complete -c sockx -n "__fish_sockx_using_subcommand listen" -s v -l verbose -d 'Diagnostics on stderr (connections, addresses, byte counts, timings)'
complete -c sockx -n "__fish_sockx_using_subcommand listen" -s q -l quiet -d 'Nothing on stderr but errors'
complete -c sockx -n "__fish_sockx_using_subcommand listen" -s 4 -d 'IPv4 only'
complete -c sockx -n "__fish_sockx_using_subcommand listen" -s 6 -d 'IPv6 only'
complete -c sockx -n "__fish_sockx_using_subcommand listen" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockx -n "__fish_sockx_using_subcommand listen" -s V -l version -d 'Print version'
complete -c sockx -n "__fish_sockx_using_subcommand l" -s e -l exec -d 'Run CMD for each connection with the connection as its stdin and stdout (no shell)' -r
complete -c sockx -n "__fish_sockx_using_subcommand l" -l sh-exec -d 'Run CMD through /bin/sh -c for each connection' -r
complete -c sockx -n "__fish_sockx_using_subcommand l" -s m -l max-conns -d 'At most N connections at once; the rest are closed at once' -r
complete -c sockx -n "__fish_sockx_using_subcommand l" -l allow -d 'Accept only peers in this block (repeatable)' -r
complete -c sockx -n "__fish_sockx_using_subcommand l" -l deny -d 'Refuse peers in this block (repeatable)' -r
complete -c sockx -n "__fish_sockx_using_subcommand l" -s w -l idle-timeout -d 'Close a connection after DUR without traffic' -r
complete -c sockx -n "__fish_sockx_using_subcommand l" -l forward -d 'Connect each accepted connection to TARGET (HOST:PORT or a Unix address; with -u, each client address to HOST:PORT over UDP) and relay both ways; stdin is not read' -r
complete -c sockx -n "__fish_sockx_using_subcommand l" -l forward-sni -d 'Server name sent to and verified for the --forward target [default: its host name]' -r
complete -c sockx -n "__fish_sockx_using_subcommand l" -l forward-ca -d 'Trust the PEM certificates in FILE for the --forward target' -r -F
complete -c sockx -n "__fish_sockx_using_subcommand l" -l forward-pin -d 'Accept only the --forward target certificate with this SHA-256 fingerprint' -r
complete -c sockx -n "__fish_sockx_using_subcommand l" -l unix-mode -d 'Permissions of the Unix socket file (octal, e.g. 660)' -r
complete -c sockx -n "__fish_sockx_using_subcommand l" -l cert -d 'Serve this certificate chain (PEM, leaf first; with --key)' -r -F
complete -c sockx -n "__fish_sockx_using_subcommand l" -l key -d 'The certificate\'s private key (PEM: PKCS#8, PKCS#1 or SEC1)' -r -F
complete -c sockx -n "__fish_sockx_using_subcommand l" -l client-ca -d 'Require a client certificate signed by a CA in FILE (PEM): mutual TLS' -r -F
complete -c sockx -n "__fish_sockx_using_subcommand l" -l alpn -d 'Accept this ALPN protocol (repeatable, in our order of preference: the first of them that the client offers is chosen)' -r
complete -c sockx -n "__fish_sockx_using_subcommand l" -l color -d 'When to use colour' -r -f -a "auto\t'Colour when the stream is a terminal and `NO_COLOR` is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c sockx -n "__fish_sockx_using_subcommand l" -s k -l keep-open -d 'Keep accepting connections and serve them concurrently'
complete -c sockx -n "__fish_sockx_using_subcommand l" -l recv-only -d 'Never read stdin: only print what the peer sends; the session ends when the peer is done (without it, a session whose stdin is not a terminal lasts until stdin ends too)'
complete -c sockx -n "__fish_sockx_using_subcommand l" -l echo -d 'Send every byte back to its sender'
complete -c sockx -n "__fish_sockx_using_subcommand l" -s u -l udp -d 'UDP instead of TCP (with a Unix address: a datagram socket)'
complete -c sockx -n "__fish_sockx_using_subcommand l" -l hex -d 'Hex dump of the traffic on stderr'
complete -c sockx -n "__fish_sockx_using_subcommand l" -s C -l crlf -d 'Send line endings from stdin as CRLF'
complete -c sockx -n "__fish_sockx_using_subcommand l" -l broadcast -d 'Allow sending to broadcast addresses (SO_BROADCAST)'
complete -c sockx -n "__fish_sockx_using_subcommand l" -l reuseport -d 'Share the port with other sockets (SO_REUSEPORT)'
complete -c sockx -n "__fish_sockx_using_subcommand l" -s U -l unix -d 'Read ADDR as a Unix socket path'
complete -c sockx -n "__fish_sockx_using_subcommand l" -l forward-tls -d 'Speak TLS to the --forward target (verified as connect --tls verifies)'
complete -c sockx -n "__fish_sockx_using_subcommand l" -l forward-insecure -d 'Do not verify the --forward target\'s certificate (what failed is said with -v)'
complete -c sockx -n "__fish_sockx_using_subcommand l" -l tls -d 'Serve TLS (1.2 and 1.3); without --cert, with a fresh self-signed certificate whose fingerprint stderr gives before the ready line'
complete -c sockx -n "__fish_sockx_using_subcommand l" -s v -l verbose -d 'Diagnostics on stderr (connections, addresses, byte counts, timings)'
complete -c sockx -n "__fish_sockx_using_subcommand l" -s q -l quiet -d 'Nothing on stderr but errors'
complete -c sockx -n "__fish_sockx_using_subcommand l" -s 4 -d 'IPv4 only'
complete -c sockx -n "__fish_sockx_using_subcommand l" -s 6 -d 'IPv6 only'
complete -c sockx -n "__fish_sockx_using_subcommand l" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockx -n "__fish_sockx_using_subcommand l" -s V -l version -d 'Print version'
complete -c sockx -n "__fish_sockx_using_subcommand connect" -s w -l timeout -d 'Connect timeout per attempt' -r
complete -c sockx -n "__fish_sockx_using_subcommand connect" -s i -l idle-timeout -d 'Exit after DUR without traffic (UDP default: 2s)' -r
complete -c sockx -n "__fish_sockx_using_subcommand connect" -l retry -d 'Keep retrying a refused or timed-out connect until DUR has passed' -r
complete -c sockx -n "__fish_sockx_using_subcommand connect" -l send -d 'Send DATA instead of reading stdin, then half-close and print the reply (repeatable; escapes \\r \\n \\t \\0 \\\\ \\xHH)' -r
complete -c sockx -n "__fish_sockx_using_subcommand connect" -s s -l source -d 'Local address to send from' -r
complete -c sockx -n "__fish_sockx_using_subcommand connect" -s p -l source-port -d 'Local port to send from' -r
complete -c sockx -n "__fish_sockx_using_subcommand connect" -l proxy -d 'Reach the peer through a proxy: socks5://[USER:PASS@]HOST:PORT (names resolved here), socks5h:// (names resolved by the proxy), socks4://, socks4a://, or http://[USER:PASS@]HOST:PORT (HTTP CONNECT); default port 1080 (SOCKS), 3128 (HTTP)' -r
complete -c sockx -n "__fish_sockx_using_subcommand connect" -l starttls -d 'Speak PROTO\'s plaintext upgrade first, then TLS (implies --tls)' -r -f -a "smtp\t'SMTP: EHLO, then STARTTLS (RFC 3207)'
imap\t'IMAP: CAPABILITY, then STARTTLS (RFC 3501)'
pop3\t'POP3: CAPA, then STLS (RFC 2595)'
ftp\t'FTP: AUTH TLS (RFC 4217)'
postgres\t'PostgreSQL: the SSLRequest packet'"
complete -c sockx -n "__fish_sockx_using_subcommand connect" -l sni -d 'Server name sent and verified [default: the host name given; none for an IP address, which is verified against the certificate\'s IP SANs; localhost for a Unix socket]' -r
complete -c sockx -n "__fish_sockx_using_subcommand connect" -l alpn -d 'Offer this ALPN protocol (repeatable, in order of preference: h2, http/1.1, ...)' -r
complete -c sockx -n "__fish_sockx_using_subcommand connect" -l ca -d 'Trust the PEM certificates in FILE instead of the system\'s store' -r -F
complete -c sockx -n "__fish_sockx_using_subcommand connect" -l cert -d 'Present this client certificate (PEM; with --key)' -r -F
complete -c sockx -n "__fish_sockx_using_subcommand connect" -l key -d 'The client certificate\'s private key (PEM: PKCS#8, PKCS#1 or SEC1)' -r -F
complete -c sockx -n "__fish_sockx_using_subcommand connect" -l pin -d 'Accept only the certificate with this SHA-256 fingerprint (hex, colons optional), verified or not: the safe way to reach a self-signed server' -r
complete -c sockx -n "__fish_sockx_using_subcommand connect" -l color -d 'When to use colour' -r -f -a "auto\t'Colour when the stream is a terminal and `NO_COLOR` is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c sockx -n "__fish_sockx_using_subcommand connect" -l no-shutdown -d 'Keep the write side open after stdin EOF'
complete -c sockx -n "__fish_sockx_using_subcommand connect" -l recv-only -d 'Never read stdin: only print what the peer sends; the session ends when the peer is done (without it, a session whose stdin is not a terminal lasts until stdin ends too)'
complete -c sockx -n "__fish_sockx_using_subcommand connect" -s u -l udp -d 'UDP instead of TCP (with a Unix address: a datagram socket, replies come back to a socket of its own)'
complete -c sockx -n "__fish_sockx_using_subcommand connect" -s U -l unix -d 'Read PEER as a Unix socket path'
complete -c sockx -n "__fish_sockx_using_subcommand connect" -s C -l crlf -d 'Send line endings from stdin as CRLF'
complete -c sockx -n "__fish_sockx_using_subcommand connect" -l hex -d 'Hex dump of the traffic on stderr'
complete -c sockx -n "__fish_sockx_using_subcommand connect" -l nodelay -d 'Disable Nagle\'s algorithm (TCP_NODELAY)'
complete -c sockx -n "__fish_sockx_using_subcommand connect" -l broadcast -d 'Allow sending to broadcast addresses (SO_BROADCAST)'
complete -c sockx -n "__fish_sockx_using_subcommand connect" -l tls -d 'TLS over the connection (TLS 1.2 and 1.3)'
complete -c sockx -n "__fish_sockx_using_subcommand connect" -l insecure -d 'Do not verify the server\'s certificate (what failed is still said with -v)'
complete -c sockx -n "__fish_sockx_using_subcommand connect" -s v -l verbose -d 'Diagnostics on stderr (connections, addresses, byte counts, timings)'
complete -c sockx -n "__fish_sockx_using_subcommand connect" -s q -l quiet -d 'Nothing on stderr but errors'
complete -c sockx -n "__fish_sockx_using_subcommand connect" -s 4 -d 'IPv4 only'
complete -c sockx -n "__fish_sockx_using_subcommand connect" -s 6 -d 'IPv6 only'
complete -c sockx -n "__fish_sockx_using_subcommand connect" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockx -n "__fish_sockx_using_subcommand connect" -s V -l version -d 'Print version'
complete -c sockx -n "__fish_sockx_using_subcommand c" -s w -l timeout -d 'Connect timeout per attempt' -r
complete -c sockx -n "__fish_sockx_using_subcommand c" -s i -l idle-timeout -d 'Exit after DUR without traffic (UDP default: 2s)' -r
complete -c sockx -n "__fish_sockx_using_subcommand c" -l retry -d 'Keep retrying a refused or timed-out connect until DUR has passed' -r
complete -c sockx -n "__fish_sockx_using_subcommand c" -l send -d 'Send DATA instead of reading stdin, then half-close and print the reply (repeatable; escapes \\r \\n \\t \\0 \\\\ \\xHH)' -r
complete -c sockx -n "__fish_sockx_using_subcommand c" -s s -l source -d 'Local address to send from' -r
complete -c sockx -n "__fish_sockx_using_subcommand c" -s p -l source-port -d 'Local port to send from' -r
complete -c sockx -n "__fish_sockx_using_subcommand c" -l proxy -d 'Reach the peer through a proxy: socks5://[USER:PASS@]HOST:PORT (names resolved here), socks5h:// (names resolved by the proxy), socks4://, socks4a://, or http://[USER:PASS@]HOST:PORT (HTTP CONNECT); default port 1080 (SOCKS), 3128 (HTTP)' -r
complete -c sockx -n "__fish_sockx_using_subcommand c" -l starttls -d 'Speak PROTO\'s plaintext upgrade first, then TLS (implies --tls)' -r -f -a "smtp\t'SMTP: EHLO, then STARTTLS (RFC 3207)'
imap\t'IMAP: CAPABILITY, then STARTTLS (RFC 3501)'
pop3\t'POP3: CAPA, then STLS (RFC 2595)'
ftp\t'FTP: AUTH TLS (RFC 4217)'
postgres\t'PostgreSQL: the SSLRequest packet'"
complete -c sockx -n "__fish_sockx_using_subcommand c" -l sni -d 'Server name sent and verified [default: the host name given; none for an IP address, which is verified against the certificate\'s IP SANs; localhost for a Unix socket]' -r
complete -c sockx -n "__fish_sockx_using_subcommand c" -l alpn -d 'Offer this ALPN protocol (repeatable, in order of preference: h2, http/1.1, ...)' -r
complete -c sockx -n "__fish_sockx_using_subcommand c" -l ca -d 'Trust the PEM certificates in FILE instead of the system\'s store' -r -F
complete -c sockx -n "__fish_sockx_using_subcommand c" -l cert -d 'Present this client certificate (PEM; with --key)' -r -F
complete -c sockx -n "__fish_sockx_using_subcommand c" -l key -d 'The client certificate\'s private key (PEM: PKCS#8, PKCS#1 or SEC1)' -r -F
complete -c sockx -n "__fish_sockx_using_subcommand c" -l pin -d 'Accept only the certificate with this SHA-256 fingerprint (hex, colons optional), verified or not: the safe way to reach a self-signed server' -r
complete -c sockx -n "__fish_sockx_using_subcommand c" -l color -d 'When to use colour' -r -f -a "auto\t'Colour when the stream is a terminal and `NO_COLOR` is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c sockx -n "__fish_sockx_using_subcommand c" -l no-shutdown -d 'Keep the write side open after stdin EOF'
complete -c sockx -n "__fish_sockx_using_subcommand c" -l recv-only -d 'Never read stdin: only print what the peer sends; the session ends when the peer is done (without it, a session whose stdin is not a terminal lasts until stdin ends too)'
complete -c sockx -n "__fish_sockx_using_subcommand c" -s u -l udp -d 'UDP instead of TCP (with a Unix address: a datagram socket, replies come back to a socket of its own)'
complete -c sockx -n "__fish_sockx_using_subcommand c" -s U -l unix -d 'Read PEER as a Unix socket path'
complete -c sockx -n "__fish_sockx_using_subcommand c" -s C -l crlf -d 'Send line endings from stdin as CRLF'
complete -c sockx -n "__fish_sockx_using_subcommand c" -l hex -d 'Hex dump of the traffic on stderr'
complete -c sockx -n "__fish_sockx_using_subcommand c" -l nodelay -d 'Disable Nagle\'s algorithm (TCP_NODELAY)'
complete -c sockx -n "__fish_sockx_using_subcommand c" -l broadcast -d 'Allow sending to broadcast addresses (SO_BROADCAST)'
complete -c sockx -n "__fish_sockx_using_subcommand c" -l tls -d 'TLS over the connection (TLS 1.2 and 1.3)'
complete -c sockx -n "__fish_sockx_using_subcommand c" -l insecure -d 'Do not verify the server\'s certificate (what failed is still said with -v)'
complete -c sockx -n "__fish_sockx_using_subcommand c" -s v -l verbose -d 'Diagnostics on stderr (connections, addresses, byte counts, timings)'
complete -c sockx -n "__fish_sockx_using_subcommand c" -s q -l quiet -d 'Nothing on stderr but errors'
complete -c sockx -n "__fish_sockx_using_subcommand c" -s 4 -d 'IPv4 only'
complete -c sockx -n "__fish_sockx_using_subcommand c" -s 6 -d 'IPv6 only'
complete -c sockx -n "__fish_sockx_using_subcommand c" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockx -n "__fish_sockx_using_subcommand c" -s V -l version -d 'Print version'
complete -c sockx -n "__fish_sockx_using_subcommand ports" -l state -d 'Only sockets in this TCP state (repeatable; implies --all), e.g. established, time-wait' -r
complete -c sockx -n "__fish_sockx_using_subcommand ports" -l pid -d 'Only sockets owned by this process ID' -r
complete -c sockx -n "__fish_sockx_using_subcommand ports" -l process -d 'Only sockets whose process name or command line contains NAME' -r
complete -c sockx -n "__fish_sockx_using_subcommand ports" -l user -d 'Only sockets owned by this user (name or UID)' -r
complete -c sockx -n "__fish_sockx_using_subcommand ports" -s r -l remote -d 'Only sockets whose remote end matches: ports (5432, 5000-6000), an address (192.0.2.10, 192.0.2.10:5432, [::1]:5432) or a CIDR block (repeatable; implies --all)' -r
complete -c sockx -n "__fish_sockx_using_subcommand ports" -l by -d 'One row per distinct KEY with its COUNT, largest first, instead of one per socket (remote implies --all)' -r -f -a "process\t'The processes holding the sockets (PID and name)'
remote\t'The remote address (not address and port)'
port\t'The local port'
state\t'The socket state'"
complete -c sockx -n "__fish_sockx_using_subcommand ports" -l signal -d 'The signal --kill sends: a name (TERM, KILL, HUP, INT, ...) or number' -r
complete -c sockx -n "__fish_sockx_using_subcommand ports" -l interval -d 'How often --watch looks: 200ms, 2s, ...' -r
complete -c sockx -n "__fish_sockx_using_subcommand ports" -l color -d 'When to use colour' -r -f -a "auto\t'Colour when the stream is a terminal and `NO_COLOR` is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c sockx -n "__fish_sockx_using_subcommand ports" -s x -l unix -d 'Unix-domain sockets instead of TCP and UDP (with --all, connected ones and their peers)'
complete -c sockx -n "__fish_sockx_using_subcommand ports" -s t -l tcp -d 'TCP sockets only'
complete -c sockx -n "__fish_sockx_using_subcommand ports" -s u -l udp -d 'UDP sockets only'
complete -c sockx -n "__fish_sockx_using_subcommand ports" -s a -l all -d 'Every socket in every TCP state, connected UDP sockets too'
complete -c sockx -n "__fish_sockx_using_subcommand ports" -l exposed -d 'Only sockets bound to a non-loopback address (reachable from other hosts)'
complete -c sockx -n "__fish_sockx_using_subcommand ports" -l json -d 'JSON lines on stdout, one object per socket'
complete -c sockx -n "__fish_sockx_using_subcommand ports" -l kill -d 'Send a signal to the owners of the matched sockets (asks first on a terminal; needs --yes without one; never PID 1)'
complete -c sockx -n "__fish_sockx_using_subcommand ports" -s y -l yes -d 'With --kill: do not ask for confirmation'
complete -c sockx -n "__fish_sockx_using_subcommand ports" -s i -l info -d 'TCP internals of each TCP socket, as `ss -ti`: RTT, RTTVAR (ms), CWND, RETRANS, SEND-Q, RECV-Q (for a listener: the accept backlog and its limit)'
complete -c sockx -n "__fish_sockx_using_subcommand ports" -l watch -d 'Print the matching sockets, then a line for each one that appears or goes away, until Ctrl-C'
complete -c sockx -n "__fish_sockx_using_subcommand ports" -s v -l verbose -d 'Diagnostics on stderr (connections, addresses, byte counts, timings)'
complete -c sockx -n "__fish_sockx_using_subcommand ports" -s q -l quiet -d 'Nothing on stderr but errors'
complete -c sockx -n "__fish_sockx_using_subcommand ports" -s 4 -d 'IPv4 only'
complete -c sockx -n "__fish_sockx_using_subcommand ports" -s 6 -d 'IPv6 only'
complete -c sockx -n "__fish_sockx_using_subcommand ports" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockx -n "__fish_sockx_using_subcommand ports" -s V -l version -d 'Print version'
complete -c sockx -n "__fish_sockx_using_subcommand p" -l state -d 'Only sockets in this TCP state (repeatable; implies --all), e.g. established, time-wait' -r
complete -c sockx -n "__fish_sockx_using_subcommand p" -l pid -d 'Only sockets owned by this process ID' -r
complete -c sockx -n "__fish_sockx_using_subcommand p" -l process -d 'Only sockets whose process name or command line contains NAME' -r
complete -c sockx -n "__fish_sockx_using_subcommand p" -l user -d 'Only sockets owned by this user (name or UID)' -r
complete -c sockx -n "__fish_sockx_using_subcommand p" -s r -l remote -d 'Only sockets whose remote end matches: ports (5432, 5000-6000), an address (192.0.2.10, 192.0.2.10:5432, [::1]:5432) or a CIDR block (repeatable; implies --all)' -r
complete -c sockx -n "__fish_sockx_using_subcommand p" -l by -d 'One row per distinct KEY with its COUNT, largest first, instead of one per socket (remote implies --all)' -r -f -a "process\t'The processes holding the sockets (PID and name)'
remote\t'The remote address (not address and port)'
port\t'The local port'
state\t'The socket state'"
complete -c sockx -n "__fish_sockx_using_subcommand p" -l signal -d 'The signal --kill sends: a name (TERM, KILL, HUP, INT, ...) or number' -r
complete -c sockx -n "__fish_sockx_using_subcommand p" -l interval -d 'How often --watch looks: 200ms, 2s, ...' -r
complete -c sockx -n "__fish_sockx_using_subcommand p" -l color -d 'When to use colour' -r -f -a "auto\t'Colour when the stream is a terminal and `NO_COLOR` is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c sockx -n "__fish_sockx_using_subcommand p" -s x -l unix -d 'Unix-domain sockets instead of TCP and UDP (with --all, connected ones and their peers)'
complete -c sockx -n "__fish_sockx_using_subcommand p" -s t -l tcp -d 'TCP sockets only'
complete -c sockx -n "__fish_sockx_using_subcommand p" -s u -l udp -d 'UDP sockets only'
complete -c sockx -n "__fish_sockx_using_subcommand p" -s a -l all -d 'Every socket in every TCP state, connected UDP sockets too'
complete -c sockx -n "__fish_sockx_using_subcommand p" -l exposed -d 'Only sockets bound to a non-loopback address (reachable from other hosts)'
complete -c sockx -n "__fish_sockx_using_subcommand p" -l json -d 'JSON lines on stdout, one object per socket'
complete -c sockx -n "__fish_sockx_using_subcommand p" -l kill -d 'Send a signal to the owners of the matched sockets (asks first on a terminal; needs --yes without one; never PID 1)'
complete -c sockx -n "__fish_sockx_using_subcommand p" -s y -l yes -d 'With --kill: do not ask for confirmation'
complete -c sockx -n "__fish_sockx_using_subcommand p" -s i -l info -d 'TCP internals of each TCP socket, as `ss -ti`: RTT, RTTVAR (ms), CWND, RETRANS, SEND-Q, RECV-Q (for a listener: the accept backlog and its limit)'
complete -c sockx -n "__fish_sockx_using_subcommand p" -l watch -d 'Print the matching sockets, then a line for each one that appears or goes away, until Ctrl-C'
complete -c sockx -n "__fish_sockx_using_subcommand p" -s v -l verbose -d 'Diagnostics on stderr (connections, addresses, byte counts, timings)'
complete -c sockx -n "__fish_sockx_using_subcommand p" -s q -l quiet -d 'Nothing on stderr but errors'
complete -c sockx -n "__fish_sockx_using_subcommand p" -s 4 -d 'IPv4 only'
complete -c sockx -n "__fish_sockx_using_subcommand p" -s 6 -d 'IPv6 only'
complete -c sockx -n "__fish_sockx_using_subcommand p" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockx -n "__fish_sockx_using_subcommand p" -s V -l version -d 'Print version'
complete -c sockx -n "__fish_sockx_using_subcommand probe" -s p -l ports -d 'Ports for targets named without ports: 22,80,8000-8100, service names, or all' -r
complete -c sockx -n "__fish_sockx_using_subcommand probe" -s t -l timeout -d 'Timeout per attempt' -r
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l retries -d 'Extra attempts after a timeout (a refusal is final). Within one attempt the kernel already resends an unanswered SYN (after 1s, then 3s, ...)' -r
complete -c sockx -n "__fish_sockx_using_subcommand probe" -s c -l concurrency -d 'Probes in flight at once [default: from the open-file limit]' -r
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l state -d 'Which states to list: open, closed, filtered, open|filtered (comma list) or all [default: every port up to 32 probes, only open ones above]' -r
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l wait -d 'Re-probe until every target is open or DUR has passed' -r
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l interval -d 'Time between rounds [default: 250ms with --wait, 1s with --count]' -r
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l count -d 'Latency mode: N connects per target (0: until Ctrl-C), a line each and a summary; with a check, each attempt is timed to its passing reply' -r
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l payload -d 'UDP datagram to send (escapes \\r \\n \\t \\0 \\\\ \\xHH) [default: a request for the port\'s service (DNS, NTP, SNMP, NetBIOS, SSDP, mDNS, memcached), else empty]' -r
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l targets-file -d 'Read targets from FILE (- for stdin): one TARGET a line, # starts a comment' -r -F
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l exclude -d 'Leave out this host, address or CIDR block (repeatable)' -r
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l exclude-ports -d 'Leave out these ports (same syntax as -p)' -r
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l rate -d 'Start at most N probes per second, evenly spaced' -r
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l send -d 'Check every open TCP port: send DATA (escapes \\r \\n \\t \\0 \\\\ \\xHH), then read the reply (with --expect: until it matches; without: any reply passes)' -r
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l expect -d 'Check every open TCP port: the reply (or banner) must match REGEX, a bytes regex; read until a match, EOF, 64 KiB or the timeout' -r
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l http -d 'Check every open TCP port with an HTTP/1.1 GET of PATH, which starts with / (a word right after --http that does not is a TARGET) [default: /]' -r
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l http-status -d 'Statuses that pass --http: codes, ranges and classes, e.g. 200,204,3xx,500-502 [default: 200-399]' -r
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l starttls -d 'Speak PROTO\'s plaintext upgrade first, then TLS (implies --tls)' -r -f -a "smtp\t'SMTP: EHLO, then STARTTLS (RFC 3207)'
imap\t'IMAP: CAPABILITY, then STARTTLS (RFC 3501)'
pop3\t'POP3: CAPA, then STLS (RFC 2595)'
ftp\t'FTP: AUTH TLS (RFC 4217)'
postgres\t'PostgreSQL: the SSLRequest packet'"
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l sni -d 'Server name sent and verified [default: the host name given; none for an IP address, which is verified against the certificate\'s IP SANs; localhost for a Unix socket]' -r
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l alpn -d 'Offer this ALPN protocol (repeatable, in order of preference: h2, http/1.1, ...)' -r
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l ca -d 'Trust the PEM certificates in FILE instead of the system\'s store' -r -F
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l cert -d 'Present this client certificate (PEM; with --key)' -r -F
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l key -d 'The client certificate\'s private key (PEM: PKCS#8, PKCS#1 or SEC1)' -r -F
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l pin -d 'Accept only the certificate with this SHA-256 fingerprint (hex, colons optional), verified or not: the safe way to reach a self-signed server' -r
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l min-days -d 'With --tls: fail a certificate with fewer than N days left' -r
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l color -d 'When to use colour' -r -f -a "auto\t'Colour when the stream is a terminal and `NO_COLOR` is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c sockx -n "__fish_sockx_using_subcommand probe" -s U -l unix -d 'Read every TARGET as a Unix socket path (as nc -U does)'
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l json -d 'JSON lines on stdout: one object per reported port'
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l banner -d 'After connecting, read what the service says first (up to 1 KiB) and show it escaped'
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l any -d 'Succeed when at least one probed port is open (default: all of them)'
complete -c sockx -n "__fish_sockx_using_subcommand probe" -s u -l udp -d 'UDP instead of TCP (with a Unix target: a datagram socket)'
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l random -d 'Probe hosts and ports in random order'
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l prometheus -d 'Prometheus text exposition format on stdout (node_exporter textfile collector, Pushgateway) instead of lines'
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l tls -d 'TLS over the connection (TLS 1.2 and 1.3)'
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l insecure -d 'Do not verify the server\'s certificate (what failed is still said with -v)'
complete -c sockx -n "__fish_sockx_using_subcommand probe" -s v -l verbose -d 'Diagnostics on stderr (connections, addresses, byte counts, timings)'
complete -c sockx -n "__fish_sockx_using_subcommand probe" -s q -l quiet -d 'Nothing on stderr but errors'
complete -c sockx -n "__fish_sockx_using_subcommand probe" -s 4 -d 'IPv4 only'
complete -c sockx -n "__fish_sockx_using_subcommand probe" -s 6 -d 'IPv6 only'
complete -c sockx -n "__fish_sockx_using_subcommand probe" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockx -n "__fish_sockx_using_subcommand probe" -s V -l version -d 'Print version'
complete -c sockx -n "__fish_sockx_using_subcommand completions" -l color -d 'When to use colour' -r -f -a "auto\t'Colour when the stream is a terminal and `NO_COLOR` is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c sockx -n "__fish_sockx_using_subcommand completions" -s v -l verbose -d 'Diagnostics on stderr (connections, addresses, byte counts, timings)'
complete -c sockx -n "__fish_sockx_using_subcommand completions" -s q -l quiet -d 'Nothing on stderr but errors'
complete -c sockx -n "__fish_sockx_using_subcommand completions" -s 4 -d 'IPv4 only'
complete -c sockx -n "__fish_sockx_using_subcommand completions" -s 6 -d 'IPv6 only'
complete -c sockx -n "__fish_sockx_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockx -n "__fish_sockx_using_subcommand completions" -s V -l version -d 'Print version'
complete -c sockx -n "__fish_sockx_using_subcommand help; and not __fish_seen_subcommand_from listen connect ports probe completions help" -f -a "listen" -d 'Listen for a connection and relay it to stdin/stdout (like nc -l)'
complete -c sockx -n "__fish_sockx_using_subcommand help; and not __fish_seen_subcommand_from listen connect ports probe completions help" -f -a "connect" -d 'Connect to a peer and relay stdin/stdout (like nc HOST PORT)'
complete -c sockx -n "__fish_sockx_using_subcommand help; and not __fish_seen_subcommand_from listen connect ports probe completions help" -f -a "ports" -d 'Which process holds which port (like ss -tulnp, lsof -i, fuser)'
complete -c sockx -n "__fish_sockx_using_subcommand help; and not __fish_seen_subcommand_from listen connect ports probe completions help" -f -a "probe" -d 'Is it open? Scan, wait for, or time TCP and UDP ports'
complete -c sockx -n "__fish_sockx_using_subcommand help; and not __fish_seen_subcommand_from listen connect ports probe completions help" -f -a "completions" -d 'Print the completion script for a shell'
complete -c sockx -n "__fish_sockx_using_subcommand help; and not __fish_seen_subcommand_from listen connect ports probe completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
