# and, or, !, ~, no, status.
and {~ a a} {echo and-both}
and {~ a b} {echo not-shown}
echo and status: $status
or {~ a b} {echo or-second}
! ~ a b && echo negated
~ abc a* && echo glob match
~ abc '[xyz]*' || echo no match here
~ a
echo status: $status
no && echo no args
no x || echo some args
status custom
echo status: $status
-- stdout --
and-both
and status: no match
or-second
negated
glob match
no match here
status: no match
no args
some args
status: custom
