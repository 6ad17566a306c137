# ^ joins pairwise or distributes; adjacent parts join by free carets.
x=(a b)
echo $x^1 1^$x
echo (a b)^(1 2)
stem=file
echo $stem.b -$stem '$'$stem
echo (a b c)^(1 2)
echo not reached
-- stdout --
a1 b1 1a 1b
a1 b2
file.b -file $file
-- stderr --
sh: lists of differing sizes can't be concatenated
ember: bad concatenation
-- status --
1
