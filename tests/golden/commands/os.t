# os runs a host command through #C: its output and status come back, our input goes to it;
# under nodevs #C is refused, and the caller's namespace keeps no /cmd.
os echo hello from the host
echo status $status
echo piped | os tr a-z A-Z
os false
echo status $status
os -d /nonexistent-dir pwd
echo status $status
os
os -N 7 true
sh -c {pctl nodevs; os echo never}
echo status $status
ls /cmd >[2] /dev/null || echo no /cmd left behind
bind -a '#C' /
ls /cmd
-- stdout --
hello from the host
status
PIPED
status exit 1
status pwd: /nonexistent-dir: not a host directory
status cannot bind #C: '#C' mount/attach disallowed
no /cmd left behind
/cmd/0
/cmd/clone
-- stderr --
os: pwd: /nonexistent-dir: not a host directory
usage: os [-d dir] [-n] [-N level] [-m mountpoint] cmd [arg ...]
os: bad nice level 7: 1, 2 or 3
os: cannot bind #C: '#C' mount/attach disallowed
