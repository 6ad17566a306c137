# sh -e stops at the first failing command.
sh -e -c {echo one; ~ a b; echo not reached}
echo status $status
-- stdout --
one
status no match
