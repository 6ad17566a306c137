# &&, ||, ;, newline and & .
~ a a && echo and-ran
~ a b && echo not-shown
~ a b || echo or-ran
~ a a || echo not-shown
echo one; echo two
echo bg & 
sleep 0.2
~ $#apid 1 && echo apid set
-- stdout --
and-ran
or-ran
one
two
bg
apid set
