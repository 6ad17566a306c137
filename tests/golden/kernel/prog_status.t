# /prog/N/status is Inferno's ps line for process N.
me=${pid}
(pid group user time state size module) = `{cat /prog/$me/status}
~ $pid $me && echo pid matches
echo $user $module
sleep 10 &
# Until the new process has gone to sleep, it may still be "ready".
bstate = ready
while {! ~ $bstate release} {
	(bpid bgroup buser btime bstate bsize bmodule) = `{cat /prog/$apid/status}
}
echo $buser $bstate $bmodule
echo kill > /prog/$apid/ctl
-- stdout --
pid matches
glenda Sh
glenda release Sleep
