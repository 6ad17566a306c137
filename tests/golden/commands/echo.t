# echo: arguments joined with blanks; -n leaves out the newline; a write error is reported.
echo hello   world
echo -n no newline
echo
echo
echo -n
echo hi >[1=0] < /lib/sh/profile
-- stdout --
hello world
no newline

-- stderr --
echo: write error: inappropriate use of fd
ember: write error: inappropriate use of fd
-- status --
1
