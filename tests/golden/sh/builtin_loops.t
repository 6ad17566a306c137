# while, for, apply, with break and continue.
i=()
while {! ~ $#i 3} {i=($i x); echo $#i}
for f in a b c {echo item $f}
for f in a b c d {if {~ $f b} {raise continue}; if {~ $f d} {raise break}; echo $f}
apply {echo applied $1} p q
for x in {echo zero items}
echo after zero items
for x {echo no in}
-- stdout --
1
2
3
item a
item b
item c
a
c
applied p
applied q
after zero items
-- stderr --
sh: usage: for var in [item...] {cmd}
ember: usage
-- status --
1
