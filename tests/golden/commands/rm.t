mkdir /tmp/w
cd /tmp/w
mkdir -p d/e
echo x > d/e/f
echo y > g
rm g
ls -p .
rm d
echo $status
rm -r d
ls -p .
rm -f nothere
echo $status
rm -x
echo $status
rm nothere
-- stdout --
d
errors

usage
-- stderr --
rm: d: 'd' directory is not empty
usage: rm [-fr] file ...
rm: nothere: '/tmp/w/nothere' file does not exist
ember: errors
-- status --
1
