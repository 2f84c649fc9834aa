
use builtin;
use str;

set edit:completion:arg-completer[sockx] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'sockx'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'sockx'= {
            cand --color 'When to use colour'
            cand -v 'Diagnostics on stderr (connections, addresses, byte counts, timings)'
            cand --verbose 'Diagnostics on stderr (connections, addresses, byte counts, timings)'
            cand -q 'Nothing on stderr but errors'
            cand --quiet 'Nothing on stderr but errors'
            cand -4 'IPv4 only'
            cand -6 'IPv6 only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand ports 'Which process holds which port (like ss -tulnp, lsof -i, fuser)'
            cand p 'Which process holds which port (like ss -tulnp, lsof -i, fuser)'
            cand probe 'Is it open? Scan, wait for, or time TCP and UDP ports'
            cand completions 'Print the completion script for a shell'
            cand manpage 'Print the man page (roff)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sockx;ports'= {
            cand --state 'Only sockets in this TCP state (repeatable; implies --all), e.g. established, time-wait'
            cand --pid 'Only sockets owned by this process ID'
            cand --process 'Only sockets whose process name or command line contains NAME'
            cand --user 'Only sockets owned by this user (name or UID)'
            cand --signal 'The signal --kill sends: a name (TERM, KILL, HUP, INT, ...) or number'
            cand --color 'When to use colour'
            cand -t 'TCP sockets only'
            cand --tcp 'TCP sockets only'
            cand -u 'UDP sockets only'
            cand --udp 'UDP sockets only'
            cand -a 'Every socket in every TCP state, connected UDP sockets too'
            cand --all 'Every socket in every TCP state, connected UDP sockets too'
            cand --exposed 'Only sockets bound to a non-loopback address (reachable from other hosts)'
            cand --json 'JSON lines on stdout, one object per socket'
            cand --kill 'Send a signal to the owners of the matched sockets'
            cand -y 'With --kill: do not ask for confirmation'
            cand --yes 'With --kill: do not ask for confirmation'
            cand -v 'Diagnostics on stderr (connections, addresses, byte counts, timings)'
            cand --verbose 'Diagnostics on stderr (connections, addresses, byte counts, timings)'
            cand -q 'Nothing on stderr but errors'
            cand --quiet 'Nothing on stderr but errors'
            cand -4 'IPv4 only'
            cand -6 'IPv6 only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sockx;p'= {
            cand --state 'Only sockets in this TCP state (repeatable; implies --all), e.g. established, time-wait'
            cand --pid 'Only sockets owned by this process ID'
            cand --process 'Only sockets whose process name or command line contains NAME'
            cand --user 'Only sockets owned by this user (name or UID)'
            cand --signal 'The signal --kill sends: a name (TERM, KILL, HUP, INT, ...) or number'
            cand --color 'When to use colour'
            cand -t 'TCP sockets only'
            cand --tcp 'TCP sockets only'
            cand -u 'UDP sockets only'
            cand --udp 'UDP sockets only'
            cand -a 'Every socket in every TCP state, connected UDP sockets too'
            cand --all 'Every socket in every TCP state, connected UDP sockets too'
            cand --exposed 'Only sockets bound to a non-loopback address (reachable from other hosts)'
            cand --json 'JSON lines on stdout, one object per socket'
            cand --kill 'Send a signal to the owners of the matched sockets'
            cand -y 'With --kill: do not ask for confirmation'
            cand --yes 'With --kill: do not ask for confirmation'
            cand -v 'Diagnostics on stderr (connections, addresses, byte counts, timings)'
            cand --verbose 'Diagnostics on stderr (connections, addresses, byte counts, timings)'
            cand -q 'Nothing on stderr but errors'
            cand --quiet 'Nothing on stderr but errors'
            cand -4 'IPv4 only'
            cand -6 'IPv6 only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sockx;probe'= {
            cand -p 'Ports for targets named without ports: 22,80,8000-8100, service names, or all'
            cand --ports 'Ports for targets named without ports: 22,80,8000-8100, service names, or all'
            cand -t 'Timeout per attempt'
            cand --timeout 'Timeout per attempt'
            cand --retries 'Extra attempts after a timeout (a refusal is final). Within one attempt the kernel already resends an unanswered SYN (after 1s, then 3s, ...)'
            cand -c 'Probes in flight at once [default: from the open-file limit]'
            cand --concurrency 'Probes in flight at once [default: from the open-file limit]'
            cand --state 'Which states to list: open, closed, filtered, open|filtered (comma list) or all [default: every port up to 32 probes, only open ones above]'
            cand --wait 'Re-probe until every target is open or DUR has passed'
            cand --interval 'Time between rounds [default: 250ms with --wait, 1s with --count]'
            cand --count 'Latency mode: N connects per target (0: until Ctrl-C), a line each and a summary'
            cand --payload 'UDP datagram to send (default empty; escapes \r \n \t \0 \\ \xHH)'
            cand --color 'When to use colour'
            cand --json 'JSON lines on stdout: one object per reported port'
            cand --banner 'After connecting, read what the service says first (up to 1 KiB) and show it escaped'
            cand --any 'Succeed when at least one probed port is open (default: all of them)'
            cand -u 'UDP instead of TCP'
            cand --udp 'UDP instead of TCP'
            cand -v 'Diagnostics on stderr (connections, addresses, byte counts, timings)'
            cand --verbose 'Diagnostics on stderr (connections, addresses, byte counts, timings)'
            cand -q 'Nothing on stderr but errors'
            cand --quiet 'Nothing on stderr but errors'
            cand -4 'IPv4 only'
            cand -6 'IPv6 only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sockx;completions'= {
            cand --color 'When to use colour'
            cand -v 'Diagnostics on stderr (connections, addresses, byte counts, timings)'
            cand --verbose 'Diagnostics on stderr (connections, addresses, byte counts, timings)'
            cand -q 'Nothing on stderr but errors'
            cand --quiet 'Nothing on stderr but errors'
            cand -4 'IPv4 only'
            cand -6 'IPv6 only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sockx;manpage'= {
            cand --color 'When to use colour'
            cand -v 'Diagnostics on stderr (connections, addresses, byte counts, timings)'
            cand --verbose 'Diagnostics on stderr (connections, addresses, byte counts, timings)'
            cand -q 'Nothing on stderr but errors'
            cand --quiet 'Nothing on stderr but errors'
            cand -4 'IPv4 only'
            cand -6 'IPv6 only'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'sockx;help'= {
            cand ports 'Which process holds which port (like ss -tulnp, lsof -i, fuser)'
            cand probe 'Is it open? Scan, wait for, or time TCP and UDP ports'
            cand completions 'Print the completion script for a shell'
            cand manpage 'Print the man page (roff)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sockx;help;ports'= {
        }
        &'sockx;help;probe'= {
        }
        &'sockx;help;completions'= {
        }
        &'sockx;help;manpage'= {
        }
        &'sockx;help;help'= {
        }
    ]
    $completions[$command]
}
