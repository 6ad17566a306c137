-- args --
-u glenda sh -l
-- setup --
echo 'fromprofile=yes' >> $ROOT/lib/sh/profile
-- stdin --
echo profile set $fromprofile
-- stdout --
profile set yes
