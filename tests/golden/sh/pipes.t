# Pipes, with descriptors chosen by |[n] and |[n=m].
echo one two | cat
{echo to stderr >[1=2]} |[2] cat
{echo on three >[1=3]} |[3=0] cat
echo a | cat | cat | cat
-- stdout --
one two
to stderr
on three
a
