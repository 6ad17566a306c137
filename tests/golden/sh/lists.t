# Lists, counts, joins and positional arguments.
x=(a b c)
echo $#x $"x
y=()
echo $#y
echo (one (two three) four)
fn show {echo $#* first $1 third $3 all $*}
show p q r s
echo $x(2)
-- stdout --
3 a b c
0
one two three four
4 first p third r all p q r s
a b c 2
