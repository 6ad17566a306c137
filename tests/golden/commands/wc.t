echo 'hello world
second   line' > /tmp/f
echo 'héllo' > /tmp/u
wc /tmp/f
wc -l /tmp/f
wc -w < /tmp/f
wc -r /tmp/u
wc -c /tmp/u
wc -lc /tmp/f /tmp/u
echo one two three | wc -w
wc -x
echo $status
wc /tmp/nothere /tmp/u
-- stdout --
      2       4      26 /tmp/f
      2 /tmp/f
      4
      6 /tmp/u
      7 /tmp/u
      2      26 /tmp/f
      1       7 /tmp/u
      3      33 total
      3
usage
      1       1       7 /tmp/u
      1       1       7 total
-- stderr --
usage: wc [-lwrbc] [file ...]
wc: cannot open /tmp/nothere: '/tmp/nothere' file does not exist
ember: errors
-- status --
1
