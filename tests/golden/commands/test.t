mkdir /tmp/d
echo x > /tmp/f
touch /tmp/empty
test -e /tmp/f && echo exists
test -f /tmp/f && echo file
test -d /tmp/d && echo dir
test -f /tmp/d || echo 'not a file'
test -d /tmp/nothere || echo 'no dir'
test -s /tmp/f && echo 'not empty'
test -s /tmp/empty || echo empty
test -r /tmp/f && echo readable
test -z '' && echo zero
test -n x && echo nonzero
test abc '=' abc && echo equal
test abc '!=' abd && echo differ
test 3 -lt 10 && echo less
test 10 -ge 10 && echo 'greater or equal'
test 2 -eq 3 || echo unequal
test ! -e /tmp/nothere && echo negated
test -e /tmp/f -a -d /tmp/d && echo both
test -e /tmp/nothere -o -d /tmp/d && echo either
test '(' -d /tmp/f -o -f /tmp/f ')' -a x && echo grouped
test word && echo word
test '' || echo 'empty string'
test
echo $status
test 3 -lt x
echo $status
test -f /tmp/d
-- stdout --
exists
file
dir
not a file
no dir
not empty
empty
readable
zero
nonzero
equal
differ
less
greater or equal
unequal
negated
both
either
grouped
word
empty string
false
syntax error
-- stderr --
test: bad number x
ember: false
-- status --
1
