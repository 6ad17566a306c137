-- args --
-u glenda sh -c 'echo $0; echo args $*' one two
-- stdout --
{echo $0;echo args $*}
args one two
