# raise and rescue; an uncaught exception ends the script with its name.
rescue oops {echo caught $exception} {echo before; raise oops; echo not reached}
rescue 'fail*' {echo caught $exception} {raise failure}
rescue other {echo wrong handler} {raise oops}
echo not reached either
-- stdout --
before
caught oops
caught failure
-- stderr --
ember: oops
-- status --
1
