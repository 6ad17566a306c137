echo hello world
x=(a b c)
echo $#x $x
-- stdout --
hello world
3 a b c
