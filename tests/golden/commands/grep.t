echo 'hello world
Hello again
alpha
beta' > /tmp/f
echo 'nothing here' > /tmp/g
grep hello /tmp/f
grep -i hello /tmp/f
grep -n a /tmp/f
grep -v l /tmp/f
grep -c l /tmp/f /tmp/g
grep -l here /tmp/f /tmp/g
grep -L here /tmp/f /tmp/g
grep -h 'o.*e' /tmp/f /tmp/g
grep 'a$' /tmp/f /tmp/g
grep -e -x /tmp/f
echo $status
grep -s alpha /tmp/f
echo $status
echo piped line | grep pipe
grep '(' /tmp/f
echo $status
grep
echo $status
grep alpha /tmp/nothere /tmp/f
-- stdout --
hello world
hello world
Hello again
2: Hello again
3: alpha
4: beta
beta
/tmp/f:3
/tmp/g:0
/tmp/g
/tmp/f
nothing here
/tmp/f:alpha
/tmp/f:beta
no matches

piped line
bad regular expression
usage
/tmp/f:alpha
-- stderr --
grep: bad regular expression (: found open group without closing ')'
usage: grep [-chiLlnsv] [-e pattern] [-f patternfile] [file ...]
grep: cannot open /tmp/nothere: '/tmp/nothere' file does not exist
ember: errors
-- status --
1
