
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
            cand completions 'Print the completion script for a shell'
            cand manpage 'Print the man page (roff)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sockx;help;ports'= {
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
