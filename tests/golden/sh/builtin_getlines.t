# getlines runs a block for each line of standard input, in $line.
getlines {echo got $line}
-- stdin --
first line
second line
no newline at end
-- stdout --
got first line
got second line
got no newline at end
