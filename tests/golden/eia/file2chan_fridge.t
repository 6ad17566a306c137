# The talk's fridge in a few lines of shell: /dev/temp reads the temperature, a write of
# "target N" sets the target (this fridge reaches it at once), anything else is refused.
bind -a '#f' /dev
temp = 5
file2chan /dev/temp {echo $temp} {
	(verb value) = `{echo $data}
	~ $verb target || raise 'bad command'
	temp = $value
}
ls -l /dev/temp | grep -c '^--rw------- f [0-9]+ glenda glenda 0 .* /dev/temp$'
cat /dev/temp
echo target 4 > /dev/temp
cat /dev/temp
echo defrost > /dev/temp
echo status $status
cat /dev/temp
# Served over 9P, as over a serial line.
mount {export /dev} /n
cat /n/temp
echo target -18 > /n/temp
cat /dev/temp
-- stdout --
1
5
4
status write error: bad command
4
4
-18
-- stderr --
echo: write error: bad command
