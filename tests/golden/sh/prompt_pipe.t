-- args --
-u glenda sh
-- stdin --
echo read from a pipe
x=1
echo no prompt $x
-- stdout --
read from a pipe
no prompt 1
