
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'sockx' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'sockx'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'sockx' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Diagnostics on stderr (connections, addresses, byte counts, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Diagnostics on stderr (connections, addresses, byte counts, timings)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Nothing on stderr but errors')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'IPv6 only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Listen for a connection and relay it to stdin/stdout (like nc -l)')
            [CompletionResult]::new('l', 'l', [CompletionResultType]::ParameterValue, 'Listen for a connection and relay it to stdin/stdout (like nc -l)')
            [CompletionResult]::new('connect', 'connect', [CompletionResultType]::ParameterValue, 'Connect to a peer and relay stdin/stdout (like nc HOST PORT)')
            [CompletionResult]::new('c', 'c', [CompletionResultType]::ParameterValue, 'Connect to a peer and relay stdin/stdout (like nc HOST PORT)')
            [CompletionResult]::new('ports', 'ports', [CompletionResultType]::ParameterValue, 'Which process holds which port (like ss -tulnp, lsof -i, fuser)')
            [CompletionResult]::new('p', 'p', [CompletionResultType]::ParameterValue, 'Which process holds which port (like ss -tulnp, lsof -i, fuser)')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Is it open? Scan, wait for, or time TCP and UDP ports')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script for a shell')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sockx;listen' {
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Run CMD for each connection with the connection as its stdin and stdout (no shell)')
            [CompletionResult]::new('--exec', '--exec', [CompletionResultType]::ParameterName, 'Run CMD for each connection with the connection as its stdin and stdout (no shell)')
            [CompletionResult]::new('--sh-exec', '--sh-exec', [CompletionResultType]::ParameterName, 'Run CMD through /bin/sh -c for each connection')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'At most N connections at once; the rest are closed at once')
            [CompletionResult]::new('--max-conns', '--max-conns', [CompletionResultType]::ParameterName, 'At most N connections at once; the rest are closed at once')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'Accept only peers in this block (repeatable)')
            [CompletionResult]::new('--deny', '--deny', [CompletionResultType]::ParameterName, 'Refuse peers in this block (repeatable)')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Close a connection after DUR without traffic')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Close a connection after DUR without traffic')
            [CompletionResult]::new('--unix-mode', '--unix-mode', [CompletionResultType]::ParameterName, 'Permissions of the Unix socket file (octal, e.g. 660)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep accepting connections and serve them concurrently')
            [CompletionResult]::new('--keep-open', '--keep-open', [CompletionResultType]::ParameterName, 'Keep accepting connections and serve them concurrently')
            [CompletionResult]::new('--recv-only', '--recv-only', [CompletionResultType]::ParameterName, 'Never read stdin: only print what the peer sends; the session ends when the peer is done (without it, a session whose stdin is not a terminal lasts until stdin ends too)')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Send every byte back to its sender')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'UDP instead of TCP')
            [CompletionResult]::new('--udp', '--udp', [CompletionResultType]::ParameterName, 'UDP instead of TCP')
            [CompletionResult]::new('--hex', '--hex', [CompletionResultType]::ParameterName, 'Hex dump of the traffic on stderr')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Send line endings from stdin as CRLF')
            [CompletionResult]::new('--crlf', '--crlf', [CompletionResultType]::ParameterName, 'Send line endings from stdin as CRLF')
            [CompletionResult]::new('--broadcast', '--broadcast', [CompletionResultType]::ParameterName, 'Allow sending to broadcast addresses (SO_BROADCAST)')
            [CompletionResult]::new('--reuseport', '--reuseport', [CompletionResultType]::ParameterName, 'Share the port with other sockets (SO_REUSEPORT)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Read ADDR as a Unix socket path')
            [CompletionResult]::new('--unix', '--unix', [CompletionResultType]::ParameterName, 'Read ADDR as a Unix socket path')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Diagnostics on stderr (connections, addresses, byte counts, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Diagnostics on stderr (connections, addresses, byte counts, timings)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Nothing on stderr but errors')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'IPv6 only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sockx;l' {
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Run CMD for each connection with the connection as its stdin and stdout (no shell)')
            [CompletionResult]::new('--exec', '--exec', [CompletionResultType]::ParameterName, 'Run CMD for each connection with the connection as its stdin and stdout (no shell)')
            [CompletionResult]::new('--sh-exec', '--sh-exec', [CompletionResultType]::ParameterName, 'Run CMD through /bin/sh -c for each connection')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'At most N connections at once; the rest are closed at once')
            [CompletionResult]::new('--max-conns', '--max-conns', [CompletionResultType]::ParameterName, 'At most N connections at once; the rest are closed at once')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'Accept only peers in this block (repeatable)')
            [CompletionResult]::new('--deny', '--deny', [CompletionResultType]::ParameterName, 'Refuse peers in this block (repeatable)')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Close a connection after DUR without traffic')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Close a connection after DUR without traffic')
            [CompletionResult]::new('--unix-mode', '--unix-mode', [CompletionResultType]::ParameterName, 'Permissions of the Unix socket file (octal, e.g. 660)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep accepting connections and serve them concurrently')
            [CompletionResult]::new('--keep-open', '--keep-open', [CompletionResultType]::ParameterName, 'Keep accepting connections and serve them concurrently')
            [CompletionResult]::new('--recv-only', '--recv-only', [CompletionResultType]::ParameterName, 'Never read stdin: only print what the peer sends; the session ends when the peer is done (without it, a session whose stdin is not a terminal lasts until stdin ends too)')
            [CompletionResult]::new('--echo', '--echo', [CompletionResultType]::ParameterName, 'Send every byte back to its sender')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'UDP instead of TCP')
            [CompletionResult]::new('--udp', '--udp', [CompletionResultType]::ParameterName, 'UDP instead of TCP')
            [CompletionResult]::new('--hex', '--hex', [CompletionResultType]::ParameterName, 'Hex dump of the traffic on stderr')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Send line endings from stdin as CRLF')
            [CompletionResult]::new('--crlf', '--crlf', [CompletionResultType]::ParameterName, 'Send line endings from stdin as CRLF')
            [CompletionResult]::new('--broadcast', '--broadcast', [CompletionResultType]::ParameterName, 'Allow sending to broadcast addresses (SO_BROADCAST)')
            [CompletionResult]::new('--reuseport', '--reuseport', [CompletionResultType]::ParameterName, 'Share the port with other sockets (SO_REUSEPORT)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Read ADDR as a Unix socket path')
            [CompletionResult]::new('--unix', '--unix', [CompletionResultType]::ParameterName, 'Read ADDR as a Unix socket path')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Diagnostics on stderr (connections, addresses, byte counts, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Diagnostics on stderr (connections, addresses, byte counts, timings)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Nothing on stderr but errors')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'IPv6 only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sockx;connect' {
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Connect timeout per attempt')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Connect timeout per attempt')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Exit after DUR without traffic (UDP default: 2s)')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Exit after DUR without traffic (UDP default: 2s)')
            [CompletionResult]::new('--retry', '--retry', [CompletionResultType]::ParameterName, 'Keep retrying a refused or timed-out connect until DUR has passed')
            [CompletionResult]::new('--send', '--send', [CompletionResultType]::ParameterName, 'Send DATA instead of reading stdin, then half-close and print the reply (repeatable; escapes \r \n \t \0 \\ \xHH)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Local address to send from')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Local address to send from')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Local port to send from')
            [CompletionResult]::new('--source-port', '--source-port', [CompletionResultType]::ParameterName, 'Local port to send from')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Reach the peer through a proxy: socks5://[USER:PASS@]HOST:PORT (names resolved here), socks5h:// (names resolved by the proxy), socks4://, socks4a://, or http://[USER:PASS@]HOST:PORT (HTTP CONNECT); default port 1080 (SOCKS), 3128 (HTTP)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--no-shutdown', '--no-shutdown', [CompletionResultType]::ParameterName, 'Keep the write side open after stdin EOF')
            [CompletionResult]::new('--recv-only', '--recv-only', [CompletionResultType]::ParameterName, 'Never read stdin: only print what the peer sends; the session ends when the peer is done (without it, a session whose stdin is not a terminal lasts until stdin ends too)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'UDP instead of TCP')
            [CompletionResult]::new('--udp', '--udp', [CompletionResultType]::ParameterName, 'UDP instead of TCP')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Read PEER as a Unix socket path')
            [CompletionResult]::new('--unix', '--unix', [CompletionResultType]::ParameterName, 'Read PEER as a Unix socket path')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Send line endings from stdin as CRLF')
            [CompletionResult]::new('--crlf', '--crlf', [CompletionResultType]::ParameterName, 'Send line endings from stdin as CRLF')
            [CompletionResult]::new('--hex', '--hex', [CompletionResultType]::ParameterName, 'Hex dump of the traffic on stderr')
            [CompletionResult]::new('--nodelay', '--nodelay', [CompletionResultType]::ParameterName, 'Disable Nagle''s algorithm (TCP_NODELAY)')
            [CompletionResult]::new('--broadcast', '--broadcast', [CompletionResultType]::ParameterName, 'Allow sending to broadcast addresses (SO_BROADCAST)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Diagnostics on stderr (connections, addresses, byte counts, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Diagnostics on stderr (connections, addresses, byte counts, timings)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Nothing on stderr but errors')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'IPv6 only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sockx;c' {
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Connect timeout per attempt')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Connect timeout per attempt')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Exit after DUR without traffic (UDP default: 2s)')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'Exit after DUR without traffic (UDP default: 2s)')
            [CompletionResult]::new('--retry', '--retry', [CompletionResultType]::ParameterName, 'Keep retrying a refused or timed-out connect until DUR has passed')
            [CompletionResult]::new('--send', '--send', [CompletionResultType]::ParameterName, 'Send DATA instead of reading stdin, then half-close and print the reply (repeatable; escapes \r \n \t \0 \\ \xHH)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Local address to send from')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'Local address to send from')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Local port to send from')
            [CompletionResult]::new('--source-port', '--source-port', [CompletionResultType]::ParameterName, 'Local port to send from')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Reach the peer through a proxy: socks5://[USER:PASS@]HOST:PORT (names resolved here), socks5h:// (names resolved by the proxy), socks4://, socks4a://, or http://[USER:PASS@]HOST:PORT (HTTP CONNECT); default port 1080 (SOCKS), 3128 (HTTP)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('--no-shutdown', '--no-shutdown', [CompletionResultType]::ParameterName, 'Keep the write side open after stdin EOF')
            [CompletionResult]::new('--recv-only', '--recv-only', [CompletionResultType]::ParameterName, 'Never read stdin: only print what the peer sends; the session ends when the peer is done (without it, a session whose stdin is not a terminal lasts until stdin ends too)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'UDP instead of TCP')
            [CompletionResult]::new('--udp', '--udp', [CompletionResultType]::ParameterName, 'UDP instead of TCP')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Read PEER as a Unix socket path')
            [CompletionResult]::new('--unix', '--unix', [CompletionResultType]::ParameterName, 'Read PEER as a Unix socket path')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Send line endings from stdin as CRLF')
            [CompletionResult]::new('--crlf', '--crlf', [CompletionResultType]::ParameterName, 'Send line endings from stdin as CRLF')
            [CompletionResult]::new('--hex', '--hex', [CompletionResultType]::ParameterName, 'Hex dump of the traffic on stderr')
            [CompletionResult]::new('--nodelay', '--nodelay', [CompletionResultType]::ParameterName, 'Disable Nagle''s algorithm (TCP_NODELAY)')
            [CompletionResult]::new('--broadcast', '--broadcast', [CompletionResultType]::ParameterName, 'Allow sending to broadcast addresses (SO_BROADCAST)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Diagnostics on stderr (connections, addresses, byte counts, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Diagnostics on stderr (connections, addresses, byte counts, timings)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Nothing on stderr but errors')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'IPv6 only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sockx;ports' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Only sockets in this TCP state (repeatable; implies --all), e.g. established, time-wait')
            [CompletionResult]::new('--pid', '--pid', [CompletionResultType]::ParameterName, 'Only sockets owned by this process ID')
            [CompletionResult]::new('--process', '--process', [CompletionResultType]::ParameterName, 'Only sockets whose process name or command line contains NAME')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Only sockets owned by this user (name or UID)')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Only sockets whose remote end matches: ports (5432, 5000-6000), an address (192.0.2.10, 192.0.2.10:5432, [::1]:5432) or a CIDR block (repeatable; implies --all)')
            [CompletionResult]::new('--remote', '--remote', [CompletionResultType]::ParameterName, 'Only sockets whose remote end matches: ports (5432, 5000-6000), an address (192.0.2.10, 192.0.2.10:5432, [::1]:5432) or a CIDR block (repeatable; implies --all)')
            [CompletionResult]::new('--by', '--by', [CompletionResultType]::ParameterName, 'One row per distinct KEY with its COUNT, largest first, instead of one per socket (remote implies --all)')
            [CompletionResult]::new('--signal', '--signal', [CompletionResultType]::ParameterName, 'The signal --kill sends: a name (TERM, KILL, HUP, INT, ...) or number')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'How often --watch looks: 200ms, 2s, ...')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Unix-domain sockets instead of TCP and UDP (with --all, connected ones and their peers)')
            [CompletionResult]::new('--unix', '--unix', [CompletionResultType]::ParameterName, 'Unix-domain sockets instead of TCP and UDP (with --all, connected ones and their peers)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'TCP sockets only')
            [CompletionResult]::new('--tcp', '--tcp', [CompletionResultType]::ParameterName, 'TCP sockets only')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'UDP sockets only')
            [CompletionResult]::new('--udp', '--udp', [CompletionResultType]::ParameterName, 'UDP sockets only')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'Every socket in every TCP state, connected UDP sockets too')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every socket in every TCP state, connected UDP sockets too')
            [CompletionResult]::new('--exposed', '--exposed', [CompletionResultType]::ParameterName, 'Only sockets bound to a non-loopback address (reachable from other hosts)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'JSON lines on stdout, one object per socket')
            [CompletionResult]::new('--kill', '--kill', [CompletionResultType]::ParameterName, 'Send a signal to the owners of the matched sockets (asks first on a terminal; needs --yes without one; never PID 1)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'With --kill: do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'With --kill: do not ask for confirmation')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'TCP internals of each TCP socket, as `ss -ti`: RTT, RTTVAR (ms), CWND, RETRANS, SEND-Q, RECV-Q (for a listener: the accept backlog and its limit)')
            [CompletionResult]::new('--info', '--info', [CompletionResultType]::ParameterName, 'TCP internals of each TCP socket, as `ss -ti`: RTT, RTTVAR (ms), CWND, RETRANS, SEND-Q, RECV-Q (for a listener: the accept backlog and its limit)')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Print the matching sockets, then a line for each one that appears or goes away, until Ctrl-C')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Diagnostics on stderr (connections, addresses, byte counts, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Diagnostics on stderr (connections, addresses, byte counts, timings)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Nothing on stderr but errors')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'IPv6 only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sockx;p' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Only sockets in this TCP state (repeatable; implies --all), e.g. established, time-wait')
            [CompletionResult]::new('--pid', '--pid', [CompletionResultType]::ParameterName, 'Only sockets owned by this process ID')
            [CompletionResult]::new('--process', '--process', [CompletionResultType]::ParameterName, 'Only sockets whose process name or command line contains NAME')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Only sockets owned by this user (name or UID)')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Only sockets whose remote end matches: ports (5432, 5000-6000), an address (192.0.2.10, 192.0.2.10:5432, [::1]:5432) or a CIDR block (repeatable; implies --all)')
            [CompletionResult]::new('--remote', '--remote', [CompletionResultType]::ParameterName, 'Only sockets whose remote end matches: ports (5432, 5000-6000), an address (192.0.2.10, 192.0.2.10:5432, [::1]:5432) or a CIDR block (repeatable; implies --all)')
            [CompletionResult]::new('--by', '--by', [CompletionResultType]::ParameterName, 'One row per distinct KEY with its COUNT, largest first, instead of one per socket (remote implies --all)')
            [CompletionResult]::new('--signal', '--signal', [CompletionResultType]::ParameterName, 'The signal --kill sends: a name (TERM, KILL, HUP, INT, ...) or number')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'How often --watch looks: 200ms, 2s, ...')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Unix-domain sockets instead of TCP and UDP (with --all, connected ones and their peers)')
            [CompletionResult]::new('--unix', '--unix', [CompletionResultType]::ParameterName, 'Unix-domain sockets instead of TCP and UDP (with --all, connected ones and their peers)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'TCP sockets only')
            [CompletionResult]::new('--tcp', '--tcp', [CompletionResultType]::ParameterName, 'TCP sockets only')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'UDP sockets only')
            [CompletionResult]::new('--udp', '--udp', [CompletionResultType]::ParameterName, 'UDP sockets only')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'Every socket in every TCP state, connected UDP sockets too')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every socket in every TCP state, connected UDP sockets too')
            [CompletionResult]::new('--exposed', '--exposed', [CompletionResultType]::ParameterName, 'Only sockets bound to a non-loopback address (reachable from other hosts)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'JSON lines on stdout, one object per socket')
            [CompletionResult]::new('--kill', '--kill', [CompletionResultType]::ParameterName, 'Send a signal to the owners of the matched sockets (asks first on a terminal; needs --yes without one; never PID 1)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'With --kill: do not ask for confirmation')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'With --kill: do not ask for confirmation')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'TCP internals of each TCP socket, as `ss -ti`: RTT, RTTVAR (ms), CWND, RETRANS, SEND-Q, RECV-Q (for a listener: the accept backlog and its limit)')
            [CompletionResult]::new('--info', '--info', [CompletionResultType]::ParameterName, 'TCP internals of each TCP socket, as `ss -ti`: RTT, RTTVAR (ms), CWND, RETRANS, SEND-Q, RECV-Q (for a listener: the accept backlog and its limit)')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Print the matching sockets, then a line for each one that appears or goes away, until Ctrl-C')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Diagnostics on stderr (connections, addresses, byte counts, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Diagnostics on stderr (connections, addresses, byte counts, timings)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Nothing on stderr but errors')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'IPv6 only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sockx;probe' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Ports for targets named without ports: 22,80,8000-8100, service names, or all')
            [CompletionResult]::new('--ports', '--ports', [CompletionResultType]::ParameterName, 'Ports for targets named without ports: 22,80,8000-8100, service names, or all')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Timeout per attempt')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Timeout per attempt')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Extra attempts after a timeout (a refusal is final). Within one attempt the kernel already resends an unanswered SYN (after 1s, then 3s, ...)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Probes in flight at once [default: from the open-file limit]')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Probes in flight at once [default: from the open-file limit]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Which states to list: open, closed, filtered, open|filtered (comma list) or all [default: every port up to 32 probes, only open ones above]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Re-probe until every target is open or DUR has passed')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Time between rounds [default: 250ms with --wait, 1s with --count]')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Latency mode: N connects per target (0: until Ctrl-C), a line each and a summary; with a check, each attempt is timed to its passing reply')
            [CompletionResult]::new('--payload', '--payload', [CompletionResultType]::ParameterName, 'UDP datagram to send (escapes \r \n \t \0 \\ \xHH) [default: a request for the port''s service (DNS, NTP, SNMP, NetBIOS, SSDP, mDNS, memcached), else empty]')
            [CompletionResult]::new('--targets-file', '--targets-file', [CompletionResultType]::ParameterName, 'Read targets from FILE (- for stdin): one TARGET a line, # starts a comment')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Leave out this host, address or CIDR block (repeatable)')
            [CompletionResult]::new('--exclude-ports', '--exclude-ports', [CompletionResultType]::ParameterName, 'Leave out these ports (same syntax as -p)')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Start at most N probes per second, evenly spaced')
            [CompletionResult]::new('--send', '--send', [CompletionResultType]::ParameterName, 'Check every open TCP port: send DATA (escapes \r \n \t \0 \\ \xHH), then read the reply (with --expect: until it matches; without: any reply passes)')
            [CompletionResult]::new('--expect', '--expect', [CompletionResultType]::ParameterName, 'Check every open TCP port: the reply (or banner) must match REGEX, a bytes regex; read until a match, EOF, 64 KiB or the timeout')
            [CompletionResult]::new('--http', '--http', [CompletionResultType]::ParameterName, 'Check every open TCP port with an HTTP/1.1 GET of PATH (starting with /) [default: /]')
            [CompletionResult]::new('--http-status', '--http-status', [CompletionResultType]::ParameterName, 'Statuses that pass --http: codes, ranges and classes, e.g. 200,204,3xx,500-502 [default: 200-399]')
            [CompletionResult]::new('--sni', '--sni', [CompletionResultType]::ParameterName, 'Server name sent and verified [default: the host name given; none for an IP address, which is verified against the certificate''s IP SANs]')
            [CompletionResult]::new('--alpn', '--alpn', [CompletionResultType]::ParameterName, 'Offer this ALPN protocol (repeatable, in order of preference: h2, http/1.1, ...)')
            [CompletionResult]::new('--ca', '--ca', [CompletionResultType]::ParameterName, 'Trust the PEM certificates in FILE instead of the system''s store')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Present this client certificate (PEM; with --key)')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'The client certificate''s private key (PEM: PKCS#8, PKCS#1 or SEC1)')
            [CompletionResult]::new('--pin', '--pin', [CompletionResultType]::ParameterName, 'Accept only the certificate with this SHA-256 fingerprint (hex, colons optional), verified or not: the safe way to reach a self-signed server')
            [CompletionResult]::new('--min-days', '--min-days', [CompletionResultType]::ParameterName, 'With --tls: fail a certificate with fewer than N days left')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Read every TARGET as a Unix socket path (as nc -U does)')
            [CompletionResult]::new('--unix', '--unix', [CompletionResultType]::ParameterName, 'Read every TARGET as a Unix socket path (as nc -U does)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'JSON lines on stdout: one object per reported port')
            [CompletionResult]::new('--banner', '--banner', [CompletionResultType]::ParameterName, 'After connecting, read what the service says first (up to 1 KiB) and show it escaped')
            [CompletionResult]::new('--any', '--any', [CompletionResultType]::ParameterName, 'Succeed when at least one probed port is open (default: all of them)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'UDP instead of TCP')
            [CompletionResult]::new('--udp', '--udp', [CompletionResultType]::ParameterName, 'UDP instead of TCP')
            [CompletionResult]::new('--random', '--random', [CompletionResultType]::ParameterName, 'Probe hosts and ports in random order')
            [CompletionResult]::new('--prometheus', '--prometheus', [CompletionResultType]::ParameterName, 'Prometheus text exposition format on stdout (node_exporter textfile collector, Pushgateway) instead of lines')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'TLS over the connection (TLS 1.2 and 1.3)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the server''s certificate (what failed is still said with -v)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Diagnostics on stderr (connections, addresses, byte counts, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Diagnostics on stderr (connections, addresses, byte counts, timings)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Nothing on stderr but errors')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'IPv6 only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sockx;completions' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Diagnostics on stderr (connections, addresses, byte counts, timings)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Diagnostics on stderr (connections, addresses, byte counts, timings)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Nothing on stderr but errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Nothing on stderr but errors')
            [CompletionResult]::new('-4', '-4', [CompletionResultType]::ParameterName, 'IPv4 only')
            [CompletionResult]::new('-6', '-6', [CompletionResultType]::ParameterName, 'IPv6 only')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'sockx;help' {
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Listen for a connection and relay it to stdin/stdout (like nc -l)')
            [CompletionResult]::new('connect', 'connect', [CompletionResultType]::ParameterValue, 'Connect to a peer and relay stdin/stdout (like nc HOST PORT)')
            [CompletionResult]::new('ports', 'ports', [CompletionResultType]::ParameterValue, 'Which process holds which port (like ss -tulnp, lsof -i, fuser)')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Is it open? Scan, wait for, or time TCP and UDP ports')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script for a shell')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sockx;help;listen' {
            break
        }
        'sockx;help;connect' {
            break
        }
        'sockx;help;ports' {
            break
        }
        'sockx;help;probe' {
            break
        }
        'sockx;help;completions' {
            break
        }
        'sockx;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
