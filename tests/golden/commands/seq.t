seq 3
seq 2 4
seq 1 0.5 2
seq 5 -2 1
seq -w 8 10
seq -w 0.5 0.5 1
seq -f 'item %03g' 2
seq -f%.2f -1 -0.5 -2
seq 0.1 0.1 0.3
seq 3 1
seq 1 0 3
echo $status
seq
echo $status
seq 999999 1000001
seq -1 0.25 -0.5
seq 1e6 1e6
seq 1 x
-- stdout --
1
2
3
2
3
4
1
1.5
2
5
3
1
08
09
10
0.5
1.0
item 001
item 002
-1.00
-1.50
-2.00
0.1
0.2
0.3
zero increment
usage
999999
1000000
1000001
-1
-0.75
-0.5
1e+06
-- stderr --
seq: zero increment
usage: seq [-w] [-f format] [first [incr]] last
seq: bad number x
ember: bad number x
-- status --
1
