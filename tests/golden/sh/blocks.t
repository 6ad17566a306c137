# Braced blocks are values: run as a command, passed as text.
{echo in a block $*} 1 2
b={echo b ran with $1}
$b x
echo {echo   hi; echo there}
sh -c {echo from sh -c}
'{echo quoted block}'
{$*} {echo nested}
-- stdout --
in a block 1 2
b ran with x
{echo hi;echo there}
from sh -c
quoted block
nested
