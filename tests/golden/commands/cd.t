mkdir /tmp/dir
cd /tmp/dir
pwd
cd ..
pwd
home=/tmp/dir
cd
pwd
cd /tmp/dir/nothere
echo $status
pwd
cd a b
echo $status
home=()
cd
-- stdout --
/tmp/dir
/tmp
/tmp/dir
file does not exist
/tmp/dir
usage
-- stderr --
cd: /tmp/dir/nothere: '/tmp/dir/nothere' file does not exist
usage: cd [directory]
cd: no home directory
ember: no home directory
-- status --
1
