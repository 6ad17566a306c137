# After pctl nodevs, naming a device with # fails, here and in children, except for pipes,
# the environment and a fresh srv directory. Names already bound keep working.
pctl forkns nodevs
cat '#c/user'
sh -c {cat '#c/sysname'}
ls '#sshared'
ls '#|'
echo -n hello > '#e/greeting'
cat '#e/greeting'
echo
ls '#s'
cat /dev/user
echo
-- stdout --
#|/data
#|/data1
hello
glenda
-- stderr --
cat: cannot open #c/user: '#c/user' mount/attach disallowed
cat: cannot open #c/sysname: '#c/sysname' mount/attach disallowed
ls: #sshared: '#sshared' mount/attach disallowed
