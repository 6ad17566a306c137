echo hello > /tmp/h
echo -n 0123456789abcdefXY > /tmp/n
xd /tmp/h
xd -c /tmp/h
xd -b /tmp/h
xd -1x -c /tmp/h
xd -2o -ad /tmp/n
xd -8x /tmp/n
xd /tmp/h /tmp/h
xd < /dev/null
echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab | xd -r
xd -q
echo $status
xd /tmp/nothere /tmp/h
-- stdout --
0000000  68656c6c 6f0a0000
0000006 
0000000   h  e  l  l  o \n
0000006 
0000000  68 65 6c 6c 6f 0a
0000006 
0000000  68 65 6c 6c 6f 0a
      0   h  e  l  l  o \n
0000006 
0000000  030061 031063 032065 033067 034071 060542 061544 062546
0000016  054131
0000018 
0000000  3031323334353637 3839616263646566
0000010  5859000000000000
0000012 
/tmp/h
0000000  68656c6c 6f0a0000
0000006 
/tmp/h
0000000  68656c6c 6f0a0000
0000006 
0000000 
0000000  61616161 61616161 61616161 61616161
*
0000020  61616161 61616161 61616161 61616162
0000030  0a000000
0000031 
usage
/tmp/h
0000000  68656c6c 6f0a0000
0000006 
-- stderr --
usage: xd [-u] [-r] [-s] [-a{odx}] [-c|{b1w2l4v8}{odx}] ... [file ...]
xd: cannot open /tmp/nothere: '/tmp/nothere' file does not exist
ember: errors
-- status --
1
