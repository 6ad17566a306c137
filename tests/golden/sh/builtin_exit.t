# exit ends the shell at once, with an optional status.
echo before
sh -c {echo inner; exit; echo not shown}
echo status $status
sh -c {exit bad}
echo status $status
exit
echo not reached
-- stdout --
before
inner
status
status bad
