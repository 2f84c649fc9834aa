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
complete -c sockx -n "__fish_sockx_needs_command" -f -a "ports" -d 'Which process holds which port (like ss -tulnp, lsof -i, fuser)'
complete -c sockx -n "__fish_sockx_needs_command" -f -a "p" -d 'Which process holds which port (like ss -tulnp, lsof -i, fuser)'
complete -c sockx -n "__fish_sockx_needs_command" -f -a "probe" -d 'Is it open? Scan, wait for, or time TCP and UDP ports'
complete -c sockx -n "__fish_sockx_needs_command" -f -a "completions" -d 'Print the completion script for a shell'
complete -c sockx -n "__fish_sockx_needs_command" -f -a "manpage" -d 'Print the man page (roff)'
complete -c sockx -n "__fish_sockx_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sockx -n "__fish_sockx_using_subcommand ports" -l state -d 'Only sockets in this TCP state (repeatable; implies --all), e.g. established, time-wait' -r
complete -c sockx -n "__fish_sockx_using_subcommand ports" -l pid -d 'Only sockets owned by this process ID' -r
complete -c sockx -n "__fish_sockx_using_subcommand ports" -l process -d 'Only sockets whose process name or command line contains NAME' -r
complete -c sockx -n "__fish_sockx_using_subcommand ports" -l user -d 'Only sockets owned by this user (name or UID)' -r
complete -c sockx -n "__fish_sockx_using_subcommand ports" -l signal -d 'The signal --kill sends: a name (TERM, KILL, HUP, INT, ...) or number' -r
complete -c sockx -n "__fish_sockx_using_subcommand ports" -l color -d 'When to use colour' -r -f -a "auto\t'Colour when the stream is a terminal and `NO_COLOR` is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c sockx -n "__fish_sockx_using_subcommand ports" -s t -l tcp -d 'TCP sockets only'
complete -c sockx -n "__fish_sockx_using_subcommand ports" -s u -l udp -d 'UDP sockets only'
complete -c sockx -n "__fish_sockx_using_subcommand ports" -s a -l all -d 'Every socket in every TCP state, connected UDP sockets too'
complete -c sockx -n "__fish_sockx_using_subcommand ports" -l exposed -d 'Only sockets bound to a non-loopback address (reachable from other hosts)'
complete -c sockx -n "__fish_sockx_using_subcommand ports" -l json -d 'JSON lines on stdout, one object per socket'
complete -c sockx -n "__fish_sockx_using_subcommand ports" -l kill -d 'Send a signal to the owners of the matched sockets'
complete -c sockx -n "__fish_sockx_using_subcommand ports" -s y -l yes -d 'With --kill: do not ask for confirmation'
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
complete -c sockx -n "__fish_sockx_using_subcommand p" -l signal -d 'The signal --kill sends: a name (TERM, KILL, HUP, INT, ...) or number' -r
complete -c sockx -n "__fish_sockx_using_subcommand p" -l color -d 'When to use colour' -r -f -a "auto\t'Colour when the stream is a terminal and `NO_COLOR` is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c sockx -n "__fish_sockx_using_subcommand p" -s t -l tcp -d 'TCP sockets only'
complete -c sockx -n "__fish_sockx_using_subcommand p" -s u -l udp -d 'UDP sockets only'
complete -c sockx -n "__fish_sockx_using_subcommand p" -s a -l all -d 'Every socket in every TCP state, connected UDP sockets too'
complete -c sockx -n "__fish_sockx_using_subcommand p" -l exposed -d 'Only sockets bound to a non-loopback address (reachable from other hosts)'
complete -c sockx -n "__fish_sockx_using_subcommand p" -l json -d 'JSON lines on stdout, one object per socket'
complete -c sockx -n "__fish_sockx_using_subcommand p" -l kill -d 'Send a signal to the owners of the matched sockets'
complete -c sockx -n "__fish_sockx_using_subcommand p" -s y -l yes -d 'With --kill: do not ask for confirmation'
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
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l count -d 'Latency mode: N connects per target (0: until Ctrl-C), a line each and a summary' -r
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l payload -d 'UDP datagram to send (default empty; escapes \\r \\n \\t \\0 \\\\ \\xHH)' -r
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l color -d 'When to use colour' -r -f -a "auto\t'Colour when the stream is a terminal and `NO_COLOR` is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l json -d 'JSON lines on stdout: one object per reported port'
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l banner -d 'After connecting, read what the service says first (up to 1 KiB) and show it escaped'
complete -c sockx -n "__fish_sockx_using_subcommand probe" -l any -d 'Succeed when at least one probed port is open (default: all of them)'
complete -c sockx -n "__fish_sockx_using_subcommand probe" -s u -l udp -d 'UDP instead of TCP'
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
complete -c sockx -n "__fish_sockx_using_subcommand manpage" -l color -d 'When to use colour' -r -f -a "auto\t'Colour when the stream is a terminal and `NO_COLOR` is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c sockx -n "__fish_sockx_using_subcommand manpage" -s v -l verbose -d 'Diagnostics on stderr (connections, addresses, byte counts, timings)'
complete -c sockx -n "__fish_sockx_using_subcommand manpage" -s q -l quiet -d 'Nothing on stderr but errors'
complete -c sockx -n "__fish_sockx_using_subcommand manpage" -s 4 -d 'IPv4 only'
complete -c sockx -n "__fish_sockx_using_subcommand manpage" -s 6 -d 'IPv6 only'
complete -c sockx -n "__fish_sockx_using_subcommand manpage" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sockx -n "__fish_sockx_using_subcommand manpage" -s V -l version -d 'Print version'
complete -c sockx -n "__fish_sockx_using_subcommand help; and not __fish_seen_subcommand_from ports probe completions manpage help" -f -a "ports" -d 'Which process holds which port (like ss -tulnp, lsof -i, fuser)'
complete -c sockx -n "__fish_sockx_using_subcommand help; and not __fish_seen_subcommand_from ports probe completions manpage help" -f -a "probe" -d 'Is it open? Scan, wait for, or time TCP and UDP ports'
complete -c sockx -n "__fish_sockx_using_subcommand help; and not __fish_seen_subcommand_from ports probe completions manpage help" -f -a "completions" -d 'Print the completion script for a shell'
complete -c sockx -n "__fish_sockx_using_subcommand help; and not __fish_seen_subcommand_from ports probe completions manpage help" -f -a "manpage" -d 'Print the man page (roff)'
complete -c sockx -n "__fish_sockx_using_subcommand help; and not __fish_seen_subcommand_from ports probe completions manpage help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
