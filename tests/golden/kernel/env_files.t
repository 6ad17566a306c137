# Variables are files in /env, shared with the commands a shell runs.
greeting=hello
cat /env/greeting
echo
list=(a 'b c' d)
cat /env/list
echo
echo -n written > /env/made
sh -c {echo $made}
rm /env/made
sh -c {echo made is $#made}
-- stdout --
hello
a 'b c' d
written
made is 0
