# $status is empty for success; pipelines join member statuses with |.
~ a a
echo $#status $status
~ a b
echo $#status $status
status x | status y
echo $#status $status
status x | ~ a a
echo $#status $status
-- stdout --
0
1 no match
1 y|x
1 |x
