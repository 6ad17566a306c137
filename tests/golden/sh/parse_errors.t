# A parse error names the line, and ends a script.
echo fine
echo {unclosed
echo not reached
-- stdout --
fine
-- stderr --
sh: line 3: unmatched '{'
ember: parse error
-- status --
1
