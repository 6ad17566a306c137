# At login $user and $home are set and the home exists, with lib, tmp and keyring; cd with no
# argument goes there.
echo $user $home
cd
pwd
ls /usr/glenda
cat /env/home; echo
sh -c {cd; pwd}
-- stdout --
glenda /usr/glenda
/usr/glenda
/usr/glenda/keyring
/usr/glenda/lib
/usr/glenda/tmp
/usr/glenda
/usr/glenda
